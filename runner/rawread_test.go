package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

func init() {
	// A child that leaves the session but keeps the terminal as its
	// stdout, as a daemon started by a task can: its pid goes to FAKE_OUT.
	fakeModes["escape"] = func() int {
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), "ARUNNER_FAKE=sleep")
		c.Stdout = os.Stdout
		c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := c.Start(); err != nil {
			return 3
		}
		os.WriteFile(os.Getenv("FAKE_OUT"), []byte(strconv.Itoa(c.Process.Pid)), 0o600)
		fmt.Println("escaped")
		return 0
	}
}

// TestEscapedChildHoldsTerminal checks that a run ends soon after ansible
// does even when a process that left its session still holds the terminal
// open: the runner's read of the pty master is closed under it. With the
// master left blocking, the read (and Run) waited for that process to exit.
func TestEscapedChildHoldsTerminal(t *testing.T) {
	cfg := fakeConfig(t, "escape")
	out := filepath.Join(t.TempDir(), "pid")
	cfg.EnvVars["FAKE_OUT"] = out
	res, err := Run(context.Background(), cfg)
	data, rerr := os.ReadFile(out)
	require.NoError(t, rerr)
	pid, _ := strconv.Atoi(string(data))
	require.Positive(t, pid)
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })

	require.NoError(t, err)
	assert.Equal(t, StatusSuccessful, res.Status)
	assert.Contains(t, readArtifact(t, res, "stdout"), "escaped")
	// The escaped child sleeps for 60 s: still running means Run did not
	// wait for it.
	assert.False(t, gone(pid), "Run returned only after the escaped child exited")
}

func TestPollablePtyMaster(t *testing.T) {
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer tty.Close()
	f, err := pollable(ptmx)
	require.NoError(t, err)
	defer f.Close()
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	var flags int
	require.NoError(t, rc.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFL, 0) }))
	require.NoError(t, err)
	assert.NotZero(t, flags&unix.O_NONBLOCK, "the master is left blocking")
	assert.True(t, isCloseOnExec(t, rc), "the master's copy is inherited by children")

	r, err := newRawReader(f)
	require.NoError(t, err)
	_, err = tty.Write([]byte("hello\n"))
	require.NoError(t, err)
	buf := make([]byte, 64)
	n, err := r.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, "hello\r\n", string(buf[:n]))
}

func isCloseOnExec(t *testing.T, rc syscall.RawConn) bool {
	var flags int
	var err error
	require.NoError(t, rc.Control(func(fd uintptr) { flags, err = unix.FcntlInt(fd, unix.F_GETFD, 0) }))
	require.NoError(t, err)
	return flags&unix.FD_CLOEXEC != 0
}

// TestRawReader reads a pipe through the poller: data as it comes, EOF when
// the write end closes, and a Read waiting for data returns when the reader
// is closed.
func TestRawReader(t *testing.T) {
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	r, err := newRawReader(pr)
	require.NoError(t, err)

	go func() {
		time.Sleep(10 * time.Millisecond) // let Read wait in the poller first
		pw.Write([]byte("abc"))
		pw.Close()
	}()
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "abc", string(got))
	n, err := r.Read(make([]byte, 8))
	assert.Zero(t, n)
	assert.ErrorIs(t, err, io.EOF)
	n, err = r.Read(nil)
	assert.Zero(t, n)
	assert.NoError(t, err)
	require.NoError(t, r.Close())

	pr2, pw2, err := os.Pipe()
	require.NoError(t, err)
	defer pw2.Close()
	r, err = newRawReader(pr2)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(make([]byte, 8))
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, r.Close())
	err = <-done
	assert.True(t, errors.Is(err, os.ErrClosed), "Read after Close: %v", err)
}
