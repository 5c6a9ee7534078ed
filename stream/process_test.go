package stream

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

// workerStream is a whole stream from the fake worker run of fakeJob.
func workerStream(t *testing.T) []byte {
	t.Helper()
	var out bytes.Buffer
	Worker(context.Background(), bytes.NewReader(transmitted(t, fakeJob(t, nil))), &out, WorkerOptions{PrivateDataDir: filepath.Join(t.TempDir(), "w")})
	return out.Bytes()
}

// processError runs Process on input and checks what every bad stream must
// end with: StatusError in the Result, the status hook and the artifacts,
// FinishedCallback called once, nothing outside the private data dir.
func processError(t *testing.T, input io.Reader, opts ProcessOptions) (*runner.Result, error) {
	t.Helper()
	outer := t.TempDir()
	var statuses []runner.Status
	finished := 0
	cfg := runner.Config{
		PrivateDataDir:   filepath.Join(outer, "pdd"),
		StatusHandler:    func(u runner.StatusUpdate) { statuses = append(statuses, u.Status) },
		FinishedCallback: func(*runner.Result) { finished++ },
	}
	res, err := ProcessWith(context.Background(), input, cfg, opts)
	require.Error(t, err)
	require.NotNil(t, res)
	assert.Equal(t, runner.StatusError, res.Status)
	assert.Equal(t, 1, finished)
	require.NotEmpty(t, statuses)
	assert.Equal(t, runner.StatusError, statuses[len(statuses)-1])
	if res.ArtifactDir != "" {
		b, _ := os.ReadFile(filepath.Join(res.ArtifactDir, "status"))
		assert.Equal(t, "error", string(b))
	}
	entries, _ := os.ReadDir(outer)
	assert.Len(t, entries, 1, "only the private data dir was written")
	return res, err
}

func TestProcessBadInput(t *testing.T) {
	good := workerStream(t)
	zipAt := bytes.Index(good, []byte(`{"zipfile"`))
	require.Positive(t, zipAt)
	start := string(good[:bytes.IndexByte(good, '\n')+1]) // the starting status
	withZip := func(z []byte) string {
		return string(good[:zipAt]) + "{\"zipfile\": " + strconv.Itoa(len(z)) + "}\n" + b64(z) + eofJSON + "\n"
	}
	cases := []struct {
		name, input, says string
		limits            Limits
	}{
		{"truncated", string(good[:zipAt/2]), "ended before", Limits{}},
		{"killed before the artifacts", string(good[:zipAt]), "ended before", Limits{}},
		{"truncated zip", string(good[:zipAt+40]), "ended before", Limits{}},
		{"empty", "", "ended before", Limits{}},
		{"not json", start + "Traceback (most recent call last):\n", "not a JSON object", Limits{}},
		{"event without uuid", start + `{"counter": 1, "stdout": "x"}` + "\n" + eofJSON + "\n", "counter and a uuid", Limits{}},
		{"not a zip", withZip([]byte("definitely not a zip")), "not a zip", Limits{}},
		{"zip escapes", withZip(zipBytes(t, [2]string{"../../../escaped", "x"})), "outside", Limits{}},
		{"zip bomb", withZip(zipBytes(t, [2]string{"a", strings.Repeat("0", 1<<20)})), "Limits.MaxUnpacked", Limits{MaxUnpacked: 1 << 19}},
		{"eof without final status", start + eofJSON + "\n", "without a final status", Limits{}},
		{"bad ident", `{"status": "starting", "runner_ident": "../x"}` + "\n", "runner_ident", Limits{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := processError(t, strings.NewReader(c.input), ProcessOptions{Limits: c.limits})
			assert.Contains(t, err.Error(), c.says)
		})
	}
}

func TestProcessWorkerError(t *testing.T) {
	// The worker's own error line (here ansible-runner's words) is the
	// run's error.
	in := `{"status": "error", "job_explanation": "Failed to extract private data directory on worker.", "result_traceback": "zipfile.BadZipFile"}` + "\n" + eofJSON + "\n"
	res, err := processError(t, strings.NewReader(in), ProcessOptions{})
	assert.Contains(t, err.Error(), "Failed to extract private data directory on worker.")
	assert.Contains(t, err.Error(), "BadZipFile")
	assert.Empty(t, res.ArtifactDir, "no ident: nothing to name an artifacts dir")
}

func TestProcessKeepalive(t *testing.T) {
	good := workerStream(t)
	nl := bytes.IndexByte(good, '\n') + 1
	in := string(good[:nl]) + `{"event": "keepalive", "counter": 0, "uuid": 0}` + "\n" + string(good[nl:])
	res, err := Process(context.Background(), strings.NewReader(in), runner.Config{PrivateDataDir: t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, runner.StatusSuccessful, res.Status)
}

// TestProcessEOFNeverComes: a worker that goes quiet forever; the caller's
// cancel (ctx or CancelCallback) closes the stream and ends the run.
func TestProcessEOFNeverComes(t *testing.T) {
	good := workerStream(t)
	head := good[:bytes.IndexByte(good, '\n')+1]
	for _, how := range []string{"ctx", "CancelCallback"} {
		t.Run(how, func(t *testing.T) {
			pr, pw := io.Pipe()
			go pw.Write(head)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg := runner.Config{PrivateDataDir: t.TempDir()}
			deadline := time.Now().Add(300 * time.Millisecond)
			if how == "ctx" {
				time.AfterFunc(300*time.Millisecond, cancel)
			} else {
				cfg.CancelCallback = func() bool { return time.Now().After(deadline) }
			}
			done := make(chan struct{})
			var res *runner.Result
			var err error
			go func() { res, err = Process(ctx, pr, cfg); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Process did not return on cancel")
			}
			assert.ErrorIs(t, err, runner.ErrCanceled)
			assert.Equal(t, runner.StatusCanceled, res.Status)
			_, werr := pw.Write([]byte("x"))
			assert.ErrorIs(t, werr, io.ErrClosedPipe, "the stream was closed")
		})
	}
}

func TestProcessRotatesArtifacts(t *testing.T) {
	good := workerStream(t)
	pdd := t.TempDir()
	for _, ident := range []string{"a", "b", "c"} {
		_, err := Process(context.Background(), bytes.NewReader(good), runner.Config{PrivateDataDir: pdd, Ident: ident, RotateArtifacts: 2})
		require.NoError(t, err)
		time.Sleep(20 * time.Millisecond) // distinct mtimes
	}
	entries, err := os.ReadDir(filepath.Join(pdd, "artifacts"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"b", "c"}, names)
}

// TestProcessHookPanic: a hook that panics ends Process as it ends a local
// run: the stream is closed (the worker stops), no hook is called after it,
// the artifacts say "error" (FinishedCallback: what the run ended with), the
// job_events files kept before it are written, no goroutine is left, and
// Process panics with a *runner.HookPanic.
func TestProcessHookPanic(t *testing.T) {
	good := workerStream(t)
	head := good[:bytes.Index(good, []byte(`{"zipfile"`))]
	for _, hook := range []string{"EventHandler", "StatusHandler", "CancelCallback", "FinishedCallback"} {
		t.Run(hook, func(t *testing.T) {
			before := runtime.NumGoroutine()
			// CancelCallback's run never ends on its own: the worker
			// went quiet before its artifacts.
			pr, pw := io.Pipe()
			defer pw.Close()
			go func() {
				if hook == "CancelCallback" {
					pw.Write(head)
					return
				}
				pw.Write(good)
			}()
			r := &closeRecorder{Reader: pr, close: pr.Close}
			var panicked atomic.Bool
			var after atomic.Int32 // hook calls after the panic
			boom := func() { panicked.Store(true); panic("boom") }
			count := func() {
				if panicked.Load() {
					after.Add(1)
				}
			}
			seen := 0
			cfg := runner.Config{
				PrivateDataDir: t.TempDir(),
				EventHandler: func(*events.Event) bool {
					seen++
					if hook == "EventHandler" && seen == 2 {
						boom()
					}
					count()
					return true
				},
				StatusHandler: func(u runner.StatusUpdate) {
					if hook == "StatusHandler" && u.Status == runner.StatusSuccessful {
						boom()
					}
					count()
				},
				CancelCallback: func() bool {
					if hook == "CancelCallback" {
						boom()
					}
					count()
					return false
				},
				FinishedCallback: func(*runner.Result) {
					if hook == "FinishedCallback" {
						boom()
					}
					count()
				},
			}
			var p *runner.HookPanic
			done := make(chan struct{})
			go func() {
				defer close(done)
				defer func() {
					v := recover()
					require.IsType(t, &runner.HookPanic{}, v, "%v", v)
					p = v.(*runner.HookPanic)
				}()
				Process(context.Background(), r, cfg)
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("Process did not end after a hook panicked")
			}
			require.NotNil(t, p)
			assert.Equal(t, hook, p.Hook)
			assert.Equal(t, "boom", p.Value)
			assert.Contains(t, string(p.Stack), "process_test.go", "the stack is the hook's")
			assert.Zero(t, after.Load(), "a hook ran after the panic")
			assert.True(t, r.closed.Load(), "the stream was closed: the worker stops")

			art := filepath.Join(cfg.PrivateDataDir, "artifacts", "job1")
			status, err := os.ReadFile(filepath.Join(art, "status"))
			require.NoError(t, err)
			want := "error"
			if hook == "FinishedCallback" {
				want = "successful"
			}
			assert.Equal(t, want, string(status))
			kept, _ := os.ReadDir(filepath.Join(art, "job_events"))
			if hook == "EventHandler" {
				assert.Len(t, kept, 1, "the event kept before the panic was written")
			} else {
				assert.Len(t, kept, seen)
			}
			waitFor(t, "Process's goroutines to end", func() bool { return runtime.NumGoroutine() <= before+1 })
		})
	}
}

type closeRecorder struct {
	io.Reader
	close  func() error
	closed atomic.Bool
}

func (c *closeRecorder) Close() error {
	c.closed.Store(true)
	if c.close != nil {
		return c.close()
	}
	return nil
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestProcessDiskFull: the artifacts dir is a tmpfs far smaller than the
// run's job_events files. Every event still reaches EventHandler; the run
// ends with StatusError and an *runner.ArtifactError naming ENOSPC.
func TestProcessDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("filling a disk needs a small tmpfs, which needs root")
	}
	pdd := t.TempDir()
	art := filepath.Join(pdd, "artifacts")
	require.NoError(t, os.MkdirAll(art, 0o700))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", art).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", art).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", art, err, out)
		}
	})
	var tail bytes.Buffer
	w := newWriter(&tail)
	f, err := packDir(t.TempDir(), nil)
	require.NoError(t, err)
	w.zip(f)
	f.Close()
	w.line([]byte(eofJSON))

	const n = 2000 // 1.6 MB of job_events files
	seen := 0
	res, err := Process(context.Background(), &genStream{n: n, tail: tail.Bytes()}, runner.Config{
		PrivateDataDir: pdd,
		EventHandler:   func(*events.Event) bool { seen++; return true },
	})
	require.NotNil(t, res)
	var ae *runner.ArtifactError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.ErrorAs(t, res.ArtifactErr, &ae)
	assert.True(t, strings.HasPrefix(ae.Path, filepath.Join(res.ArtifactDir, "job_events")), "the error names the file: %s", ae.Path)
	assert.Equal(t, runner.StatusError, res.Status, "a run whose artifacts were lost is not successful")
	assert.Equal(t, n, seen, "every event reached EventHandler")
	for _, err := range res.Events() {
		require.NoError(t, err, "a job_events file is whole or absent")
	}
}
