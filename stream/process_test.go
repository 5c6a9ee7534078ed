package stream

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
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

// A hook that panics: the panic reaches Process's caller, and Process
// leaves no goroutine behind that could close the stream later.
func TestProcessHookPanic(t *testing.T) {
	r := &closeRecorder{Reader: bytes.NewReader(workerStream(t))}
	ctx, cancel := context.WithCancel(context.Background())
	func() {
		defer func() { assert.Equal(t, "boom", recover()) }()
		Process(ctx, r, runner.Config{PrivateDataDir: t.TempDir(), EventHandler: func(*events.Event) bool { panic("boom") }})
	}()
	cancel()
	time.Sleep(500 * time.Millisecond)
	assert.False(t, r.closed.Load(), "a cancel after Process returned closed the stream")
}

type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return nil }
