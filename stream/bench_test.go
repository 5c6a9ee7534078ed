package stream

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	f, err := packDir(dir)
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
			f, err := packDir(src)
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
		f, err := packDir(src)
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
