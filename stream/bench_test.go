package stream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

// benchStream is a worker's stream of n runner_on_ok events of about 1 KB,
// as a loop's items make them, with its status lines, artifacts and eof.
func benchStream(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	w := newWriter(&buf)
	w.json(runner.StatusUpdate{Status: runner.StatusStarting, RunnerIdent: "bench", Command: []string{"ansible-playbook", "site.yml"}, Cwd: "/w/project"})
	w.json(runner.StatusUpdate{Status: runner.StatusRunning, RunnerIdent: "bench"})
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&buf, `{"uuid": "5c0b6a38-0e2f-4d1c-9c1e-%012d", "counter": %d, "stdout": "ok: [localhost] => (item=%d)", "start_line": %d, "end_line": %d, "runner_ident": "bench", "event": "runner_item_on_ok", "pid": 4242, "created": "2026-12-07T17:20:00.123456+00:00", "parent_uuid": "02fc0000-0001-3d59-efba-000000000004", "event_data": {"playbook": "site.yml", "playbook_uuid": "4c7c47fa-0740-4087-9534-e21c74fe2131", "play": "loop", "play_uuid": "02fc0000-0001-3d59-efba-000000000002", "play_pattern": "localhost", "task": "debug", "task_uuid": "02fc0000-0001-3d59-efba-000000000004", "task_action": "debug", "resolved_action": "ansible.builtin.debug", "task_args": "", "task_path": "/w/project/site.yml:5", "host": "localhost", "remote_addr": "localhost", "res": {"msg": "item %d", "_ansible_verbose_always": true, "_ansible_no_log": false, "changed": false, "item": %d, "ansible_loop_var": "item", "_ansible_item_label": %d}, "start": "2026-12-07T17:20:00.100000+00:00", "end": "2026-12-07T17:20:00.120000+00:00", "duration": 0.02, "event_loop": null, "uuid": "5c0b6a38-0e2f-4d1c-9c1e-%012d"}}`+"\n", i, i, i, i, i+1, i, i, i, i)
	}
	w.json(runner.StatusUpdate{Status: runner.StatusSuccessful, RunnerIdent: "bench"})
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "rc"), []byte("0"), 0o600)
	os.WriteFile(filepath.Join(dir, "status"), []byte("successful"), 0o600)
	os.WriteFile(filepath.Join(dir, "stdout"), []byte(strings.Repeat("ok: [localhost]\n", 1000)), 0o600)
	f, err := packDir(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w.zip(f)
	w.line([]byte(eofJSON))
	return buf.Bytes()
}

// BenchmarkProcess is the process side's cost per event, job_events files
// left out (EventHandler returns false): the stream's own overhead.
func BenchmarkProcess(b *testing.B) {
	const n = 10000
	s := benchStream(b, n)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		_, err := Process(context.Background(), bytes.NewReader(s), runner.Config{
			PrivateDataDir: b.TempDir(),
			EventHandler:   func(*events.Event) bool { return false },
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}

// BenchmarkPackUnpack packs the private data dir $STREAM_BENCH_DIR into a
// stream payload (transmit's side, base64 included) and unpacks it (the
// worker's side). bench/stream/ makes a 50 MB project and times
// ansible-runner's stream_dir/unstream_dir on the same dir.
func BenchmarkPackUnpack(b *testing.B) {
	src := os.Getenv("STREAM_BENCH_DIR")
	if src == "" {
		b.Skip("STREAM_BENCH_DIR is not set")
	}
	b.Run("pack", func(b *testing.B) {
		defer cpuMetric(b)()
		for b.Loop() {
			f, err := packDir(src, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := newWriter(discard{}).zip(f); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("unpack", func(b *testing.B) {
		var buf bytes.Buffer
		f, err := packDir(src, nil)
		if err != nil {
			b.Fatal(err)
		}
		newWriter(&buf).zip(f)
		f.Close()
		data := buf.Bytes()
		defer cpuMetric(b)()
		for b.Loop() {
			dst := b.TempDir()
			rd := newReader(bytes.NewReader(data), Limits{})
			m, err := rd.next()
			if err != nil {
				b.Fatal(err)
			}
			z, err := rd.payload(m.zipSize)
			if err != nil {
				b.Fatal(err)
			}
			if err := unpack(z, m.zipSize, dst, Limits{}); err != nil {
				b.Fatal(err)
			}
			z.Close()
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// cpuMetric reports the process's CPU time (user+system, every thread) per
// op, the figure BENCHMARKS.md compares with Python's.
func cpuMetric(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric((cpu()-start).Seconds()/float64(b.N), "cpu-s/op") }
}

// BenchmarkStreamVsLocal runs the same 100,000-event job locally
// (runner.Run) and through the stream (Transmit, Worker and Process in this
// process, joined by pipes), with bench/replay as ansible-playbook
// ($STREAM_BENCH_REPLAY, a built bench/replay, replaying
// bench/testdata/loop200.pty), and reports each one's CPU (this process and
// its children). No job_events files are written (the EventHandler drops
// every event), so that the stream's own cost is not lost in the file
// system's.
func BenchmarkStreamVsLocal(b *testing.B) {
	replay := os.Getenv("STREAM_BENCH_REPLAY")
	if replay == "" {
		b.Skip("STREAM_BENCH_REPLAY is not set")
	}
	recording, err := filepath.Abs("../bench/testdata/loop200.pty")
	if err != nil {
		b.Fatal(err)
	}
	job := func(b *testing.B) runner.Config {
		pdd := b.TempDir()
		os.MkdirAll(filepath.Join(pdd, "project"), 0o700)
		os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte("[]\n"), 0o600)
		return runner.Config{
			PrivateDataDir: pdd, Ident: "bench", Target: runner.Playbook{Path: "site.yml"}, Binary: replay,
			EnvVars:      map[string]string{"REPLAY_STREAM": recording, "REPLAY_EVENTS": "100000"},
			EventHandler: func(*events.Event) bool { return false },
		}
	}
	b.Run("local", func(b *testing.B) {
		defer cpuMetricAll(b)()
		for b.Loop() {
			if _, err := runner.Run(context.Background(), job(b)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stream", func(b *testing.B) {
		defer cpuMetricAll(b)()
		for b.Loop() {
			cfg := job(b)
			jr, jw := io.Pipe()
			sr, sw := io.Pipe()
			go func() { jw.CloseWithError(Transmit(jw, cfg)) }()
			go func() {
				_, err := Worker(context.Background(), jr, sw, WorkerOptions{PrivateDataDir: filepath.Join(b.TempDir(), "w")})
				sw.CloseWithError(err)
			}()
			ctrl := cfg
			ctrl.PrivateDataDir = b.TempDir()
			if _, err := Process(context.Background(), sr, ctrl); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// cpuMetricAll is cpuMetric with the CPU of waited-for children added.
func cpuMetricAll(b *testing.B) func() {
	cpu := func() time.Duration {
		var self, kids syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &self)
		syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
		return time.Duration(self.Utime.Nano() + self.Stime.Nano() + kids.Utime.Nano() + kids.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric((cpu()-start).Seconds()/float64(b.N), "cpu-s/op") }
}

// genStream produces a worker's stream of n events on the fly, so that
// the reader's memory is measured without the input's.
type genStream struct {
	n, i int
	buf  bytes.Buffer
	tail []byte
}

func (g *genStream) Read(p []byte) (int, error) {
	for g.buf.Len() < len(p) {
		switch {
		case g.i == 0:
			g.buf.WriteString(`{"status": "starting", "runner_ident": "mem", "command": ["ansible-playbook"], "cwd": "/w", "env": {}}` + "\n")
		case g.i <= g.n:
			fmt.Fprintf(&g.buf, `{"uuid": "5c0b6a38-0e2f-4d1c-9c1e-%012d", "counter": %d, "stdout": "ok: [localhost] => (item=%d)", "start_line": 0, "end_line": 1, "runner_ident": "mem", "event": "runner_item_on_ok", "pid": 1, "created": "2026-12-07T17:20:00.123456+00:00", "event_data": {"host": "localhost", "res": {"msg": "%s"}}}`+"\n", g.i, g.i, g.i, strings.Repeat("x", 600))
		case g.i == g.n+1:
			g.buf.WriteString(`{"status": "successful", "runner_ident": "mem"}` + "\n")
			g.buf.Write(g.tail)
		default:
			if g.buf.Len() == 0 {
				return 0, io.EOF
			}
			return g.buf.Read(p)
		}
		g.i++
	}
	return g.buf.Read(p)
}

// BenchmarkProcessMemory reports the largest live heap (as of each GC)
// while Process takes 10,000, 200,000 and 1,000,000 events (job_events
// off), and 100,000 kept (their job_events files written through the
// bounded queue): it should not grow with the run.
func BenchmarkProcessMemory(b *testing.B) {
	var tail bytes.Buffer
	w := newWriter(&tail)
	f, err := packDir(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	w.zip(f)
	f.Close()
	w.line([]byte(eofJSON))
	for _, c := range []struct {
		n    int
		keep bool
	}{{10_000, false}, {200_000, false}, {1_000_000, false}, {100_000, true}} {
		n := c.n
		name := fmt.Sprint(n)
		if c.keep {
			name = "kept-" + name
		}
		b.Run(name, func(b *testing.B) {
			var peak uint64
			for b.Loop() {
				runtime.GC()
				done := make(chan struct{})
				sampled := make(chan struct{})
				go func() {
					defer close(sampled)
					sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
					for {
						metrics.Read(sample)
						peak = max(peak, sample[0].Value.Uint64())
						select {
						case <-done:
							return
						case <-time.After(5 * time.Millisecond):
						}
					}
				}()
				_, err := Process(context.Background(), &genStream{n: n, tail: tail.Bytes()}, runner.Config{
					PrivateDataDir: b.TempDir(), EventHandler: func(*events.Event) bool { return c.keep },
				})
				close(done)
				<-sampled
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MiB")
		})
	}
}
