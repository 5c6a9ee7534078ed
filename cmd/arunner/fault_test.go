package main

import (
	"bytes"
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
)

// With ARUNNER_TEST_MAIN=1 the test binary is arunner itself, so that
// signals reach a process of its own and a broken stdout is met as the real
// command meets it, on descriptor 1, where Go's runtime raises SIGPIPE. Its
// arguments are the command line's, or ARUNNER_TEST_ARGS where a shell
// starts it.
func init() {
	if os.Getenv("ARUNNER_TEST_MAIN") == "1" {
		if args := os.Getenv("ARUNNER_TEST_ARGS"); args != "" {
			os.Args = append(os.Args[:1], strings.Fields(args)...)
		}
		main()
	}
}

// arunner run ... | head -c 10: head exits after the first line, and what
// arunner writes next meets a closed pipe (the rest is more than a pipe
// holds, should head be slow to exit). arunner is not killed: ansible
// runs to its end, the artifacts are complete (status, rc, all of stdout),
// stderr says what happened, the exit code is 1, and no process is left.
func TestBrokenPipe(t *testing.T) {
	if _, err := exec.LookPath("head"); err != nil {
		t.Skip("needs head")
	}
	tmp := t.TempDir()
	pidFile := filepath.Join(tmp, "pid")
	pdd, fake := fakeRun(t, "echo $$ > "+pidFile+"\necho 'the first line'\nsleep 1\n"+
		"i=0; while [ $i -lt 2000 ]; do echo \"line $i of the rest, long enough that all of it is more than a pipe holds\"; i=$((i+1)); done\necho LAST LINE\n")
	const secret = "pipe-secret-4711"
	require.NoError(t, os.MkdirAll(filepath.Join(pdd, "env"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "env", "extravars"), []byte("token: "+secret+"\n"), 0o600))
	rcFile, errFile := filepath.Join(tmp, "rc"), filepath.Join(tmp, "stderr")
	cmd := exec.Command("sh", "-c", `{ "$0"; echo $? > "$RC_FILE"; } 2>"$ERR_FILE" | head -c 10`, os.Args[0])
	cmd.Env = append(os.Environ(), "ARUNNER_TEST_MAIN=1", "RC_FILE="+rcFile, "ERR_FILE="+errFile,
		"ARUNNER_TEST_ARGS=run "+pdd+" -p site.yml -b "+fake+" --ident piped")
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.Output(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("arunner | head did not end")
	}
	require.NoError(t, err)
	assert.Equal(t, "the first ", string(out))

	rc, _ := os.ReadFile(rcFile)
	assert.Equal(t, "1\n", string(rc), "exit code (141: killed by SIGPIPE)")
	stderr, _ := os.ReadFile(errFile)
	assert.Contains(t, string(stderr), "broken pipe")
	assert.Contains(t, string(stderr), filepath.Join(pdd, "artifacts", "piped"))

	art := filepath.Join(pdd, "artifacts", "piped")
	for name, want := range map[string]string{"status": "successful", "rc": "0"} {
		data, err := os.ReadFile(filepath.Join(art, name))
		require.NoError(t, err, name)
		assert.Equal(t, want, string(data), name)
	}
	stdout, err := os.ReadFile(filepath.Join(art, "stdout"))
	require.NoError(t, err)
	assert.True(t, strings.HasSuffix(string(stdout), "line 1999 of the rest, long enough that all of it is more than a pipe holds\r\nLAST LINE\r\n"), "the stdout artifact is complete")
	_, err = os.Lstat(filepath.Join(art, ".arunner"))
	assert.True(t, os.IsNotExist(err), "the run's private dir is removed")
	require.NoError(t, filepath.WalkDir(art, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			data, rerr := os.ReadFile(path)
			require.NoError(t, rerr)
			assert.NotContains(t, string(data), secret, "secret left in %s", path)
		}
		return err
	}))
	assert.NotContains(t, string(stderr), secret)

	data, err := os.ReadFile(pidFile)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "ansible is gone")
}

// A lost artifact is named on stderr even when ansible failed, whose own
// output usually says why: the exit code stays ansible's rc.
func TestLostArtifactExitCode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("filling a disk needs a small tmpfs, which needs root")
	}
	pdd, fake := fakeRun(t, "i=0; while [ $i -lt 3000 ]; do echo \"line $i of a lot of text to fill the disk\"; i=$((i+1)); done\nexit 3\n")
	art := filepath.Join(pdd, "artifacts")
	require.NoError(t, os.MkdirAll(art, 0o700))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", art).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", art).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", art, err, out)
		}
	})
	var stdout, stderr bytes.Buffer
	rc := realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "--ident", "full"}, &stdout, &stderr)
	assert.Equal(t, 3, rc)
	assert.Contains(t, stderr.String(), "artifact "+filepath.Join(art, "full", "stdout")+" not written: no space left on device")
	assert.Contains(t, stdout.String(), "line 2999 of a lot", "stdout gets everything")
	status, err := os.ReadFile(filepath.Join(art, "full", "status"))
	require.NoError(t, err)
	assert.Equal(t, "error", string(status))
}

// Help read by a reader that stops early (arunner run --help | head): the
// failed write is not reported, and the exit code is help's.
func TestHelpToClosedPipe(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"run", "--help"}, {"worker", "--help"}} {
		var stderr strings.Builder
		code := realMain(args, failingWriter{syscall.EPIPE}, &stderr)
		assert.Equal(t, 0, code, "%v", args)
		assert.Empty(t, stderr.String(), "%v", args)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// The same for what show, report and completion write to stdout: no
// message, and the exit code is the command's (show's: the run's rc).
func TestOutputToClosedPipe(t *testing.T) {
	pdd, fake := fakeRun(t, "echo fake says hello\nexit 3\n")
	require.Equal(t, 3, realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "--ident", "own"}, io.Discard, io.Discard))
	art := filepath.Join(pdd, "artifacts", "own")
	for _, c := range []struct {
		args []string
		rc   int
	}{
		{[]string{"show", art}, 3},
		{[]string{"report", art}, 0},
		{[]string{"completion", "bash"}, 0},
	} {
		var stderr strings.Builder
		assert.Equal(t, c.rc, realMain(c.args, failingWriter{syscall.EPIPE}, &stderr), "%v", c.args)
		assert.NotContains(t, stderr.String(), "broken pipe", "%v", c.args)
		assert.NotContains(t, stderr.String(), "usage", "%v", c.args)
	}
}
