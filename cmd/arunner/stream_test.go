package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/lockdir"
)

// arunner transmit | arunner worker --delete | arunner process, as a shell
// pipeline of three arunner processes: the exit code is ansible's rc, the
// process side has the artifacts and prints ansible's text, and nothing of
// the job is left on the worker.
func TestTransmitWorkerProcessPipeline(t *testing.T) {
	pdd, fake := fakeRun(t, "echo fake says hello\nexit 3\n")
	worker := filepath.Join(t.TempDir(), "worker")
	ctrl := filepath.Join(t.TempDir(), "ctrl")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", `
ARUNNER_TEST_ARGS="transmit $PDD -p site.yml -b $FAKE --ident piped" "$0" |
ARUNNER_TEST_ARGS="worker --private-data-dir $WORKER --delete --keepalive-seconds 1" "$0" |
ARUNNER_TEST_ARGS="process $CTRL --ident piped" "$0"`, os.Args[0])
	cmd.Env = append(os.Environ(), "ARUNNER_TEST_MAIN=1", "PDD="+pdd, "FAKE="+fake, "WORKER="+worker, "CTRL="+ctrl)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "stderr: %s", stderr.String())
	assert.Equal(t, 3, exit.ExitCode())
	assert.Contains(t, stdout.String(), "fake says hello")
	before, summary := cutSummary(stderr.String())
	assert.Empty(t, before)
	assert.Contains(t, summary, "arunner: run piped failed, rc 3")
	for name, want := range map[string]string{"status": "failed", "rc": "3"} {
		b, err := os.ReadFile(filepath.Join(ctrl, "artifacts", "piped", name))
		require.NoError(t, err)
		assert.Equal(t, want, string(b))
	}
	assert.NoDirExists(t, worker)
}

func TestWorkerInfo(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, realMain([]string{"worker", "--worker-info"}, &stdout, &stderr))
	assert.Regexp(t, regexp.MustCompile(`^\{cpu_count: \d+, errors: \[\], mem_in_bytes: \d+, runner_version: 2\.3\.1, uuid: [0-9a-f-]{36}\}\n$`), stdout.String())
	first := stdout.String()
	stdout.Reset()
	realMain([]string{"worker", "--worker-info"}, &stdout, &stderr)
	assert.Equal(t, first, stdout.String(), "the node keeps its uuid")
	st, err := os.Stat(filepath.Join(os.Getenv("HOME"), ".ansible_runner_uuid"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

func TestWorkerArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		rc   int
		says string
	}{
		{[]string{"worker", "--keepalive-seconds", "x"}, 2, "whole number"},
		{[]string{"worker", "--frobnicate"}, 2, "unknown argument"},
		{[]string{"worker", "cleanup", "--remove-images", "img"}, 1, "not supported"},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, c.rc, realMain(c.args, &stdout, &stderr), "%v", c.args)
		assert.Contains(t, stderr.String(), c.says)
	}
}

func TestWorkerCleanup(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	base := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	for _, d := range []string{"job-1", "job-2", "job-keep", "job-new"} {
		p := filepath.Join(base, d)
		require.NoError(t, os.MkdirAll(filepath.Join(p, "env"), 0o700))
		if d != "job-new" {
			require.NoError(t, os.Chtimes(p, old, old))
		}
	}
	var stdout, stderr bytes.Buffer
	rc := realMain([]string{"worker", "cleanup", "--file-pattern", filepath.Join(base, "job-*"), "--exclude-strings", "keep"}, &stdout, &stderr)
	require.Equal(t, 0, rc, stderr.String())
	assert.Equal(t, "Removed 2 private data dir(s) in pattern "+filepath.Join(base, "job-*")+"\n(changed: True)\n", stdout.String())
	left, _ := os.ReadDir(base)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"job-keep", "job-new"}, names)

	// A worker killed hard left its temporary dir, and another worker is
	// live: cleanup, with no pattern, removes the first only.
	stdout.Reset()
	dead := filepath.Join(os.TempDir(), "arunner-worker-dead")
	lock, err := lockdir.Make(dead)
	require.NoError(t, err)
	lock.Close() // as a SIGKILL lets go of it
	live := filepath.Join(os.TempDir(), "arunner-worker-live")
	lock, err = lockdir.Make(live)
	require.NoError(t, err)
	defer lock.Close()
	require.Equal(t, 0, realMain([]string{"worker", "cleanup"}, &stdout, &stderr), stderr.String())
	assert.Equal(t, "Removed 1 private data dir(s) left by killed workers in "+os.TempDir()+"\n(changed: True)\n", stdout.String())
	assert.NoDirExists(t, dead)
	assert.DirExists(t, live)

	stdout.Reset()
	assert.Equal(t, 1, realMain([]string{"worker", "cleanup", "--file-pattern", "/etc"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "Refusing to continue")
	assert.DirExists(t, "/etc")
}

// process reads a stream that is not one and says so: exit code 1 and the
// line that was wrong.
func TestProcessBadStream(t *testing.T) {
	ctrl := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(os.Environ(), "ARUNNER_TEST_MAIN=1", "ARUNNER_TEST_ARGS=process "+ctrl+" --ident bad")
	cmd.Stdin = strings.NewReader("{\"status\": \"starting\", \"runner_ident\": \"bad\"}\nTraceback (most recent call last):\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Contains(t, stderr.String(), `stream line 2 is not a JSON object`)
	b, _ := os.ReadFile(filepath.Join(ctrl, "artifacts", "bad", "status"))
	assert.Equal(t, "error", string(b))
}

// ^C on `arunner process` waiting for a worker that went quiet: the read
// is given up (stdin is closed under it), the run is canceled, rc 254.
func TestProcessInterrupted(t *testing.T) {
	ctrl := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "ARUNNER_TEST_MAIN=1", "ARUNNER_TEST_ARGS=process "+ctrl+" --ident quiet")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		stdin.Close()
	}()
	stdin.Write([]byte("{\"status\": \"starting\", \"runner_ident\": \"quiet\"}\n"))
	status := filepath.Join(ctrl, "artifacts", "quiet")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(status); err == nil {
			break
		}
		require.False(t, time.Now().After(deadline), "process never read the first line")
	}
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("arunner process did not end on ^C")
	}
	assert.Equal(t, 254, cmd.ProcessState.ExitCode())
	b, _ := os.ReadFile(filepath.Join(status, "status"))
	assert.Equal(t, "canceled", string(b))
}

// transmit --only-transmit-kwargs writes the kwargs line and eof, no zip.
func TestTransmitOnlyKwargs(t *testing.T) {
	pdd, fake := fakeRun(t, "echo hi\n")
	var stdout, stderr bytes.Buffer
	rc := realMain([]string{"transmit", pdd, "-p", "site.yml", "-b", fake, "--only-transmit-kwargs", "--ident", "k"}, &stdout, &stderr)
	require.Equal(t, 0, rc, stderr.String())
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	require.Len(t, lines, 2, stdout.String())
	assert.Contains(t, lines[0], `"kwargs"`)
	assert.Contains(t, lines[0], `"ident":"k"`)
	assert.Equal(t, `{"eof": true}`, lines[1])

	stdout.Reset()
	require.Equal(t, 0, realMain([]string{"transmit", pdd, "-p", "site.yml", "-b", fake}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), `{"zipfile": `, "the zip without the flag")
}
