package stream

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

// fakeAnsible is a stand-in for ansible-playbook: it prints two lines
// (which become verbose events), records its pid and, when it sleeps, its
// child's before the second, and exits with $FAKE_RC.
const fakeAnsible = `#!/bin/sh
echo "fake ansible $*"
[ -n "$FAKE_PIDFILE" ] && echo $$ > "$FAKE_PIDFILE"
if [ -n "$FAKE_SLEEP" ]; then
	sleep "$FAKE_SLEEP" &
	[ -n "$FAKE_PIDFILE" ] && echo $! > "$FAKE_PIDFILE.child"
fi
echo "second line"
wait
exit ${FAKE_RC:-0}
`

// fakeJob is a private data dir and a Config that runs fakeAnsible in it.
func fakeJob(t *testing.T, env map[string]string) runner.Config {
	t.Helper()
	dir := tree(t, map[string]string{
		"project/site.yml": "- hosts: all\n",
		"inventory/hosts":  "localhost ansible_connection=local\n",
		"env/passwords":    `{"^Vault password:": "s3cret-vault"}`,
	})
	bin := filepath.Join(t.TempDir(), "fake-ansible")
	require.NoError(t, os.WriteFile(bin, []byte(fakeAnsible), 0o700))
	return runner.Config{PrivateDataDir: dir, Ident: "job1", Target: runner.Playbook{Path: "site.yml"}, Binary: bin, EnvVars: env, CancelGrace: 500 * time.Millisecond}
}

func transmitted(t *testing.T, cfg runner.Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, Transmit(&buf, cfg))
	return buf.Bytes()
}

// lines decodes a stream's JSON lines, skipping zip payloads.
func lines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	rd := newReader(bytes.NewReader(b), Limits{})
	for {
		m, err := rd.next()
		if err != nil {
			t.Fatalf("stream after %d lines: %v\n%s", len(out), err, b)
		}
		var v map[string]any
		require.NoError(t, json.Unmarshal(m.raw, &v))
		out = append(out, v)
		if m.has("zipfile") {
			f, err := rd.payload(m.zipSize)
			require.NoError(t, err)
			f.Close()
		}
		if m.has("eof") {
			return out
		}
	}
}

func TestWorkerProcessRoundTrip(t *testing.T) {
	cfg := fakeJob(t, map[string]string{"FAKE_RC": "2"})
	var wout bytes.Buffer
	wpdd := filepath.Join(t.TempDir(), "worker")
	wres, err := Worker(context.Background(), bytes.NewReader(transmitted(t, cfg)), &wout, WorkerOptions{PrivateDataDir: wpdd, Delete: true})
	var exit *runner.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 2, wres.RC)
	assert.NoDirExists(t, wpdd, "--delete leaves nothing of the job, env/passwords included")

	got := lines(t, wout.Bytes())
	assert.Equal(t, "starting", got[0]["status"])
	assert.Equal(t, "running", got[1]["status"])
	last := got[len(got)-1]
	assert.Equal(t, map[string]any{"eof": true}, last)
	assert.Contains(t, got[len(got)-2], "zipfile")
	assert.Equal(t, "failed", got[len(got)-3]["status"])
	assert.NotContains(t, wout.String(), "s3cret-vault", "the worker's stream shows no secret")

	// The controller side.
	var statuses []runner.Status
	var evs []string
	var finished int
	pcfg := runner.Config{
		PrivateDataDir: t.TempDir(),
		StatusHandler:  func(u runner.StatusUpdate) { statuses = append(statuses, u.Status) },
		EventHandler: func(ev *events.Event) bool {
			evs = append(evs, ev.Stdout)
			return !strings.Contains(ev.Stdout, "second")
		},
		FinishedCallback: func(*runner.Result) { finished++ },
	}
	var out bytes.Buffer
	pcfg.Output = &out
	res, err := Process(context.Background(), bytes.NewReader(wout.Bytes()), pcfg)
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 2, exit.RC)
	assert.Equal(t, runner.StatusFailed, res.Status)
	assert.Equal(t, 2, res.RC)
	assert.Equal(t, "job1", res.Ident)
	assert.Equal(t, filepath.Join(pcfg.PrivateDataDir, "artifacts", "job1"), res.ArtifactDir)
	assert.Equal(t, []runner.Status{"starting", "running", "failed"}, statuses)
	assert.Equal(t, 1, finished)
	assert.Equal(t, len(evs), res.FinalCounter)
	assert.Contains(t, out.String(), "fake ansible")
	for _, name := range []string{"stdout", "stderr", "rc", "status", "command"} {
		assert.FileExists(t, filepath.Join(res.ArtifactDir, name))
	}
	status, _ := os.ReadFile(filepath.Join(res.ArtifactDir, "status"))
	assert.Equal(t, "failed", string(status))
	n := 0
	for ev, err := range res.Events() {
		require.NoError(t, err)
		assert.NotContains(t, ev.Stdout, "second", "an event the EventHandler dropped is not kept")
		n++
	}
	assert.Equal(t, len(evs)-1, n)
}

// workerError runs Worker on input and returns its error and the stream's
// error status line, checking that the stream ends with eof.
func workerError(t *testing.T, input []byte, opts WorkerOptions) (error, map[string]any) {
	t.Helper()
	var out bytes.Buffer
	if opts.PrivateDataDir == "" {
		opts.PrivateDataDir = filepath.Join(t.TempDir(), "pdd")
	}
	_, err := Worker(context.Background(), bytes.NewReader(input), &out, opts)
	require.Error(t, err)
	got := lines(t, out.Bytes())
	require.Len(t, got, 2, "%s", out.Bytes())
	assert.Equal(t, "error", got[0]["status"])
	assert.Equal(t, map[string]any{"eof": true}, got[1])
	return err, got[0]
}

func TestWorkerBadInput(t *testing.T) {
	cfg := fakeJob(t, nil)
	good := transmitted(t, cfg)
	kwargsLine, _, _ := bytes.Cut(good, []byte("\n"))
	zipOf := func(entries ...[2]string) []byte {
		z := zipBytes(t, entries...)
		var b bytes.Buffer
		b.Write(kwargsLine)
		b.WriteString("\n{\"zipfile\": " + strconv.Itoa(len(z)) + "}\n")
		b.WriteString(b64(z))
		b.WriteString(eofJSON + "\n")
		return b.Bytes()
	}
	cases := []struct {
		name, input, explain, says string
		limits                     Limits
	}{
		{"not json", "{\"kwargs\": {}}\nthis is not json\n", explainParse, "not a JSON object", Limits{}},
		{"secret in a bad line", "{\"kwargs\": {\"passwords\": {\"x\": \"hunter2\"}}\n", explainParse, "line 1 is not a JSON object", Limits{}},
		{"truncated", string(good[:len(good)/2]), explainExtract, "ended before", Limits{}},
		{"empty", "", explainParse, "ended before", Limits{}},
		{"no eof", string(bytes.TrimSuffix(good, []byte(eofJSON+"\n"))), explainParse, "ended before", Limits{}},
		{"not a zip", string(kwargsLine) + "\n{\"zipfile\": 9}\n" + b64([]byte("not a zip")) + eofJSON + "\n", explainExtract, "not a zip", Limits{}},
		{"dotdot", string(zipOf([2]string{"../../escaped", "x"})), explainExtract, "outside", Limits{}},
		{"symlink out", string(zipOf([2]string{"l", "->/"}, [2]string{"l/tmp/escaped", "x"})), explainExtract, "outside", Limits{}},
		{"bomb", string(zipOf([2]string{"a", strings.Repeat("0", 1<<20)})), explainExtract, "Limits.MaxUnpacked", Limits{MaxUnpacked: 1 << 19}},
		{"unknown kwarg", "{\"kwargs\": {\"playbook\": \"x.yml\", \"frobnicate\": 1}}\n{\"eof\": true}\n", "", "frobnicate", Limits{}},
		{"no kwargs", "{\"eof\": true}\n", explainParse, "no kwargs", Limits{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			outer := t.TempDir()
			pdd := filepath.Join(outer, "pdd")
			err, status := workerError(t, []byte(c.input), WorkerOptions{PrivateDataDir: pdd, Limits: c.limits})
			if c.explain != "" {
				assert.Equal(t, c.explain, status["job_explanation"])
			}
			assert.Contains(t, err.Error(), c.says)
			assert.Contains(t, status["result_traceback"], c.says)
			assert.NotContains(t, err.Error()+status["result_traceback"].(string), "hunter2", "no secret of the job is quoted back")
			assert.NoFileExists(t, filepath.Join(outer, "escaped"))
			assert.NoFileExists(t, "/tmp/escaped")
		})
	}
}

// TestWorkerBadInputReference checks that ansible-runner's worker answers
// the same bad input with the same explanation.
func TestWorkerBadInputReference(t *testing.T) {
	if _, err := exec.LookPath("ansible-runner"); err != nil {
		t.Skip("ansible-runner is not installed")
	}
	for input, explain := range map[string]string{
		"{\"kwargs\": {}}\nthis is not json\n":                                             explainParse,
		"{\"kwargs\": {}}\n{\"zipfile\": 9}\n" + b64([]byte("not a zip")) + eofJSON + "\n": explainExtract,
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, "ansible-runner", "worker", "--private-data-dir", filepath.Join(t.TempDir(), "pdd"))
		cmd.Stdin = strings.NewReader(input)
		out, err := cmd.Output()
		cancel()
		require.NoError(t, err)
		got := lines(t, out)
		require.Len(t, got, 2)
		assert.Equal(t, explain, got[0]["job_explanation"])
		assert.Equal(t, "error", got[0]["status"])
	}
}

// TestProcessCancelStopsWorker cancels on the process side: the stream is
// closed, the worker's next write (a keepalive) fails, and the worker
// cancels its run, whose process is gone when Worker returns.
func TestProcessCancelStopsWorker(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	cfg := fakeJob(t, map[string]string{"FAKE_SLEEP": "60", "FAKE_PIDFILE": pidfile})
	pr, pw := io.Pipe()
	type done struct {
		res *runner.Result
		err error
	}
	workerDone := make(chan done, 1)
	go func() {
		res, err := Worker(context.Background(), bytes.NewReader(transmitted(t, cfg)), pw, WorkerOptions{
			PrivateDataDir: filepath.Join(t.TempDir(), "w"), Keepalive: 100 * time.Millisecond,
		})
		pw.CloseWithError(err)
		workerDone <- done{res, err}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	var running bool
	pcfg := runner.Config{PrivateDataDir: t.TempDir(), StatusHandler: func(u runner.StatusUpdate) {
		if u.Status == runner.StatusRunning {
			running = true
		}
	}, EventHandler: func(ev *events.Event) bool {
		if strings.Contains(ev.Stdout, "second") {
			time.AfterFunc(300*time.Millisecond, cancel)
		}
		return true
	}}
	res, err := Process(ctx, pr, pcfg)
	assert.ErrorIs(t, err, runner.ErrCanceled)
	assert.ErrorIs(t, err, context.Canceled)
	assert.True(t, running)
	assert.Equal(t, runner.StatusCanceled, res.Status)
	status, _ := os.ReadFile(filepath.Join(res.ArtifactDir, "status"))
	assert.Equal(t, "canceled", string(status))

	select {
	case d := <-workerDone:
		require.NotNil(t, d.res)
		assert.Equal(t, runner.StatusCanceled, d.res.Status)
	case <-time.After(20 * time.Second):
		t.Fatal("the worker did not stop when the process side closed the stream")
	}
	b, err := os.ReadFile(pidfile)
	require.NoError(t, err)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "ansible is gone")
}

// TestWorkerStalledReader: a process side that keeps the stream open but
// stops reading; the worker gives up on it and cancels the run.
func TestWorkerStalledReader(t *testing.T) {
	cfg := fakeJob(t, map[string]string{"FAKE_SLEEP": "60"})
	_, pw := io.Pipe() // nobody reads
	type done struct {
		res *runner.Result
		err error
	}
	ch := make(chan done, 1)
	go func() {
		res, err := Worker(context.Background(), bytes.NewReader(transmitted(t, cfg)), pw, WorkerOptions{
			PrivateDataDir: filepath.Join(t.TempDir(), "w"), StallTimeout: 500 * time.Millisecond,
		})
		ch <- done{res, err}
	}()
	select {
	case d := <-ch:
		require.Error(t, d.err)
		assert.ErrorIs(t, d.err, ErrStalled)
		if d.res != nil {
			assert.Equal(t, runner.StatusCanceled, d.res.Status)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the worker waits forever on a reader that stopped reading")
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
