package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/proctest"
)

// Faults in what the run writes to: a full disk under the artifacts, an
// Output that fails, an Output that blocks. In each, every event still
// reaches EventHandler, what could be written is, the outcome says what
// was lost, and no process or secret is left.

func init() {
	// FAKE_EVENTS events of FAKE_SIZE bytes of text each, then the stats
	// and the recap.
	fakeModes["bigevents"] = func() int {
		n, _ := strconv.Atoi(os.Getenv("FAKE_EVENTS"))
		size, _ := strconv.Atoi(os.Getenv("FAKE_SIZE"))
		fmt.Print(fakeEvent("playbook_on_start", "00000000-0000-0000-0000-000000000000", ""))
		for i := 1; i <= n; i++ {
			line := fmt.Sprintf("ok: [localhost] %d ", i)
			line += strings.Repeat("x", max(0, size-len(line)-1)) + "\n"
			fmt.Print(fakeEvent("runner_on_ok", fmt.Sprintf("00000000-0000-0000-0000-%012d", i), line))
		}
		fmt.Print(token(map[string]any{
			"uuid": "ffffffff-0000-0000-0000-000000000000", "event": "playbook_on_stats",
			"event_data": map[string]any{"ok": map[string]int{"localhost": n}},
		}) + "\nPLAY RECAP ***\n" + token(map[string]any{}))
		return 0
	}
}

// smallTmpfs mounts a tmpfs of size (e.g. "512k") on dir, which it
// creates, and unmounts it when the test ends. It skips the test unless
// run as root.
func smallTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("filling a disk needs a small tmpfs, which needs root")
	}
	must(t, os.MkdirAll(dir, 0o700))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// eventLog is an EventHandler that keeps every event's counter and the
// text the stdout artifact should hold.
type eventLog struct {
	mu       sync.Mutex
	counters []int
	text     strings.Builder
}

func (l *eventLog) handle(ev *events.Event) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counters = append(l.counters, ev.Counter)
	if ev.Stdout != "" {
		l.text.WriteString(ev.Stdout + "\n")
	}
	return true
}

// assertAllEvents checks that the handler saw events 1..n, in order.
func (l *eventLog) assertAllEvents(t *testing.T, n int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	assert.Equal(t, want, l.counters, "every event reaches EventHandler")
}

// The artifacts dir is a tmpfs far smaller than the run's output. The run
// ends with StatusError and an *ArtifactError naming the file and ENOSPC;
// rc and status are still written; EventHandler and Output get every
// event; the stdout artifact holds the beginning of the text, without
// holes; each job_events file there is whole.
func TestDiskFullMidRun(t *testing.T) {
	for _, withOutput := range []bool{false, true} {
		t.Run(fmt.Sprintf("Output=%v", withOutput), func(t *testing.T) { testDiskFull(t, withOutput, false) })
	}
	t.Run("JSONOutput", func(t *testing.T) { testDiskFull(t, true, true) })
}

func testDiskFull(t *testing.T, withOutput, jsonMode bool) {
	const n = 600 // events of 2 KB: 1.2 MB of text, 3 MB of job_events
	cfg := fakeConfig(t, "bigevents")
	smallTmpfs(t, filepath.Join(cfg.PrivateDataDir, "artifacts"), "512k")
	cfg.EnvVars["FAKE_EVENTS"] = strconv.Itoa(n)
	cfg.EnvVars["FAKE_SIZE"] = "2000"
	const secret = "fill-secret-4711"
	cfg.ExtraVars = map[string]any{"token": secret}
	var log eventLog
	cfg.EventHandler = log.handle
	cfg.JSONOutput = jsonMode
	var out proctest.Buffer
	if withOutput {
		cfg.Output = &out
	}
	trackLeaks(t, &cfg)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, cfg)
	require.NotNil(t, res, "%v", err)

	var ae *ArtifactError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.True(t, strings.HasPrefix(ae.Path, res.ArtifactDir+"/"), "the error names the file: %s", ae.Path)
	assert.Contains(t, err.Error(), ae.Path)
	assert.Contains(t, err.Error(), "no space left on device")
	assert.Equal(t, StatusError, res.Status, "a run whose artifacts were lost is not successful")
	assert.Equal(t, res.ArtifactErr, error(ae))
	assert.Equal(t, 0, res.RC, "rc is ansible's")
	assert.Equal(t, "0", readArtifact(t, res, "rc"))
	assert.Equal(t, "error", readArtifact(t, res, "status"))
	assert.Nil(t, res.OutputErr)

	log.assertAllEvents(t, n+2)
	assert.Equal(t, n+2, res.FinalCounter)
	want := log.text.String()
	if jsonMode {
		want = out.String()
		assert.Equal(t, n+2, strings.Count(want, "\n"), "Output gets every event")
	}
	if withOutput {
		assert.Equal(t, want, out.String(), "Output gets everything though the disk is full")
	}
	stdout := readArtifact(t, res, "stdout")
	assert.NotEmpty(t, stdout)
	assert.Less(t, len(stdout), len(want), "the disk was meant to fill")
	assert.True(t, strings.HasPrefix(want, stdout), "the stdout artifact is the text's beginning")
	kept := 0
	for ev, err := range res.Events() {
		require.NoError(t, err, "a job_events file is whole or absent")
		assert.Equal(t, "localhost", ev.Host())
		kept++
	}
	assert.Less(t, kept, n+2)
	assertNoSecrets(t, res, err, secret)
}

// failingWriter takes ok bytes, then fails every write.
type failingWriter struct {
	mu  sync.Mutex
	ok  int
	got bytes.Buffer
}

var errBroken = errors.New("broken output")

func (w *failingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := min(len(p), w.ok-w.got.Len())
	w.got.Write(p[:n])
	if n < len(p) {
		return n, errBroken
	}
	return n, nil
}

// An Output that fails is dropped and reported in Result.OutputErr; the
// run, its status, its events and its artifacts go on as if it were not
// there, in text and in JSON mode.
func TestFailingOutput(t *testing.T) {
	const n = 200
	for _, jsonMode := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", jsonMode), func(t *testing.T) {
			cfg := fakeConfig(t, "bigevents")
			cfg.EnvVars["FAKE_EVENTS"] = strconv.Itoa(n)
			cfg.EnvVars["FAKE_SIZE"] = "100"
			cfg.JSONOutput = jsonMode
			var log eventLog
			cfg.EventHandler = log.handle
			out := &failingWriter{ok: 1000}
			cfg.Output = out
			const secret = "output-secret-4711"
			cfg.ExtraVars = map[string]any{"token": secret}
			trackLeaks(t, &cfg)

			res, err := Run(context.Background(), cfg)
			require.NoError(t, err, "a failing Output does not fail the run")
			assert.Equal(t, StatusSuccessful, res.Status)
			assert.Equal(t, "successful", readArtifact(t, res, "status"))
			var oe *OutputError
			require.ErrorAs(t, res.OutputErr, &oe)
			assert.ErrorIs(t, res.OutputErr, errBroken)
			stdout := readArtifact(t, res, "stdout")
			assert.Equal(t, int64(len(stdout)-1000), oe.Lost, "Lost counts what Output did not get")
			assert.Equal(t, stdout[:1000], out.got.String())

			log.assertAllEvents(t, n+2)
			files, err := os.ReadDir(filepath.Join(res.ArtifactDir, "job_events"))
			require.NoError(t, err)
			assert.Len(t, files, n+2)
			if jsonMode {
				assert.Equal(t, n+2, strings.Count(stdout, "\n"))
			} else {
				assert.Equal(t, log.text.String(), stdout)
			}
			assertNoSecrets(t, res, err, secret)
		})
	}
}

// blockingWriter takes ok bytes, then blocks until release is closed.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	ok      int
	got     bytes.Buffer
	calls   int
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.calls++
	if w.got.Len()+len(p) <= w.ok {
		defer w.mu.Unlock()
		return w.got.Write(p)
	}
	w.mu.Unlock()
	<-w.release
	return 0, errors.New("released")
}

func (w *blockingWriter) callCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls
}

// An Output that blocks starves neither ansible nor the events: it falls
// behind, is dropped, and the end of the run waits for it only a moment.
// Once its Write returns, nothing more is written to it.
func TestBlockingOutput(t *testing.T) {
	defer func(b int, q time.Duration) { outputBuffer, outputQuiet = b, q }(outputBuffer, outputQuiet)
	outputBuffer, outputQuiet = 16<<10, 500*time.Millisecond
	const n = 2000 // 200 KB of text: far more than the buffer
	cfg := fakeConfig(t, "bigevents")
	cfg.EnvVars["FAKE_EVENTS"] = strconv.Itoa(n)
	cfg.EnvVars["FAKE_SIZE"] = "100"
	cfg.JobTimeout = 30 * time.Second
	var log eventLog
	cfg.EventHandler = log.handle
	out := &blockingWriter{release: make(chan struct{}), ok: 1000}
	defer close(out.release)
	cfg.Output = out
	const secret = "blocked-secret-4711"
	cfg.ExtraVars = map[string]any{"token": secret}
	trackLeaks(t, &cfg)

	start := time.Now()
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err, "a blocked Output does not fail the run")
	assert.Less(t, time.Since(start), 20*time.Second)
	assert.Equal(t, StatusSuccessful, res.Status)
	var oe *OutputError
	require.ErrorAs(t, res.OutputErr, &oe)
	assert.ErrorIs(t, res.OutputErr, ErrOutputStalled)
	stdout := readArtifact(t, res, "stdout")
	assert.Equal(t, log.text.String(), stdout)
	out.mu.Lock()
	got := out.got.String()
	out.mu.Unlock()
	assert.True(t, strings.HasPrefix(stdout, got), "Output got the text's beginning")
	assert.Equal(t, int64(len(stdout)-len(got)), oe.Lost, "Lost counts what Output did not get")
	log.assertAllEvents(t, n+2)
	assertNoSecrets(t, res, err, secret)

	calls := out.callCount()
	out.release <- struct{}{} // the blocked Write returns
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, calls, out.callCount(), "Output is not written after the run")
}

// slowWriter takes everything, a while after each call.
type slowWriter struct {
	proctest.Buffer
	delay time.Duration
}

func (w *slowWriter) Write(p []byte) (int, error) {
	time.Sleep(w.delay)
	return w.Buffer.Write(p)
}

// A slow Output that keeps taking is waited for at the end, longer than
// outputQuiet in all, and gets everything.
func TestSlowOutputGetsEverything(t *testing.T) {
	defer func(q time.Duration) { outputQuiet = q }(outputQuiet)
	outputQuiet = 300 * time.Millisecond
	cfg := fakeConfig(t, "bigevents")
	cfg.EnvVars["FAKE_EVENTS"] = "1000"
	cfg.EnvVars["FAKE_SIZE"] = "500" // 500 KB: 8 chunks and more
	out := &slowWriter{delay: 200 * time.Millisecond}
	cfg.Output = out
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.NoError(t, res.OutputErr)
	assert.Equal(t, readArtifact(t, res, "stdout"), out.String())
}
