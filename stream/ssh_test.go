package stream

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/lockdir"
	"github.com/arunner/arunner/internal/testsshd"
	"github.com/arunner/arunner/runner"
)

// With STREAM_TEST_WORKER=1 the test binary is a worker, as `arunner
// worker --keepalive-seconds 1` is: the SSH tests start it on the far side.
func TestMain(m *testing.M) {
	if os.Getenv("STREAM_TEST_WORKER") == "1" {
		signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		res, err := Worker(ctx, os.Stdin, os.Stdout, WorkerOptions{Keepalive: time.Second})
		stop()
		if res == nil && err != nil {
			os.Exit(1)
		}
		os.Exit(res.RC)
	}
	os.Exit(m.Run())
}

func sshClient(t *testing.T) *ssh.Client {
	t.Helper()
	priv, pub := testsshd.GenerateKey(t, "")
	srv := testsshd.Start(t, pub)
	signer, err := ssh.ParsePrivateKey(priv)
	require.NoError(t, err)
	hostKey, _, _, _, err := ssh.ParseAuthorizedKey(srv.HostKeyPub)
	require.NoError(t, err)
	client, err := ssh.Dial("tcp", srv.Addr, &ssh.ClientConfig{
		User:            srv.User,
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(hostKey),
		Timeout:         10 * time.Second,
	})
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	return client
}

func TestRunSSH(t *testing.T) {
	client := sshClient(t)
	worker := "STREAM_TEST_WORKER=1 exec " + os.Args[0]

	t.Run("failed run", func(t *testing.T) {
		cfg := fakeJob(t, map[string]string{"FAKE_RC": "2"})
		var statuses []runner.Status
		cfg.StatusHandler = func(u runner.StatusUpdate) { statuses = append(statuses, u.Status) }
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		res, err := RunSSH(ctx, client, worker, cfg)
		var exit *runner.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 2, res.RC)
		assert.Equal(t, []runner.Status{"starting", "running", "failed"}, statuses)
		b, err := os.ReadFile(filepath.Join(cfg.PrivateDataDir, "artifacts", "job1", "stdout"))
		require.NoError(t, err)
		assert.Contains(t, string(b), "fake ansible")
	})

	t.Run("cancel reaches ansible", func(t *testing.T) {
		pidfile := filepath.Join(t.TempDir(), "pid")
		cfg := fakeJob(t, map[string]string{"FAKE_SLEEP": "60", "FAKE_PIDFILE": pidfile})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cfg.EventHandler = func(ev *events.Event) bool {
			if strings.Contains(ev.Stdout, "second") {
				time.AfterFunc(500*time.Millisecond, cancel)
			}
			return true
		}
		start := time.Now()
		res, err := RunSSH(ctx, client, worker, cfg)
		assert.Less(t, time.Since(start), 30*time.Second)
		assert.ErrorIs(t, err, runner.ErrCanceled)
		assert.ErrorIs(t, err, context.Canceled)
		require.NotNil(t, res)
		assert.Equal(t, runner.StatusCanceled, res.Status)
		b, err := os.ReadFile(filepath.Join(res.ArtifactDir, "status"))
		require.NoError(t, err)
		assert.Equal(t, "canceled", string(b), "the worker's own artifacts came back")
		b, err = os.ReadFile(pidfile)
		require.NoError(t, err)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "ansible on the worker is gone")
	})
}

// TestRunSSHHookPanic: a hook that panics (CancelCallback, which RunSSH
// calls itself, or one Process calls) ends the run over SSH as a local
// run's: ansible on the worker is stopped, the artifacts say error, and
// RunSSH panics with a *runner.HookPanic.
func TestRunSSHHookPanic(t *testing.T) {
	client := sshClient(t)
	worker := "STREAM_TEST_WORKER=1 exec " + os.Args[0]
	for _, hook := range []string{"CancelCallback", "EventHandler"} {
		t.Run(hook, func(t *testing.T) {
			pidfile := filepath.Join(t.TempDir(), "pid")
			cfg := fakeJob(t, map[string]string{"FAKE_SLEEP": "60", "FAKE_PIDFILE": pidfile})
			var second atomic.Bool
			cfg.EventHandler = func(ev *events.Event) bool {
				if strings.Contains(ev.Stdout, "second") {
					if hook == "EventHandler" {
						panic("boom")
					}
					second.Store(true)
				}
				return true
			}
			cfg.CancelCallback = func() bool {
				if hook == "CancelCallback" && second.Load() {
					panic("boom")
				}
				return false
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			var p *runner.HookPanic
			func() {
				defer func() {
					v := recover()
					require.IsType(t, &runner.HookPanic{}, v, "%v", v)
					p = v.(*runner.HookPanic)
				}()
				RunSSH(ctx, client, worker, cfg)
			}()
			assert.Equal(t, hook, p.Hook)
			assert.Equal(t, "boom", p.Value)
			assert.Contains(t, string(p.Stack), "ssh_test.go", "the stack is the hook's")
			b, err := os.ReadFile(filepath.Join(cfg.PrivateDataDir, "artifacts", "job1", "status"))
			require.NoError(t, err)
			assert.Equal(t, "error", string(b))
			b, err = os.ReadFile(pidfile)
			require.NoError(t, err)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			deadline := time.Now().Add(20 * time.Second)
			for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "ansible on the worker is gone")
		})
	}
}

// TestWorkerKilled: the worker process dies (SIGKILL) mid-run. The process
// side ends with an error that says the stream was cut, its artifacts say
// error, and ansible died with the worker.
func TestWorkerKilled(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	cfg := fakeJob(t, map[string]string{"FAKE_SLEEP": "60", "FAKE_PIDFILE": pidfile})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0])
	// A worker killed by SIGKILL cannot remove its private data dir (env/
	// holds the job's secrets) or its run's scratch dir: they go in a
	// temporary dir of the test's, and the next worker removes them.
	tmp := t.TempDir()
	cmd.Env = append(os.Environ(), "STREAM_TEST_WORKER=1", "TMPDIR="+tmp)
	cmd.Stdin = bytes.NewReader(transmitted(t, cfg))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Wait()
	cfg.EventHandler = func(ev *events.Event) bool {
		if strings.Contains(ev.Stdout, "second") {
			time.AfterFunc(300*time.Millisecond, func() { cmd.Process.Kill() })
		}
		return true
	}
	res, err := Process(ctx, out, cfg)
	assert.ErrorIs(t, err, ErrTruncated)
	require.NotNil(t, res)
	assert.Equal(t, runner.StatusError, res.Status)
	b, err := os.ReadFile(filepath.Join(res.ArtifactDir, "status"))
	require.NoError(t, err)
	assert.Equal(t, "error", string(b))
	b, err = os.ReadFile(pidfile)
	require.NoError(t, err)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "ansible died with its worker")
	b, err = os.ReadFile(pidfile + ".child")
	require.NoError(t, err)
	pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	assert.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "and so did its children")

	left, err := filepath.Glob(filepath.Join(tmp, "*"))
	require.NoError(t, err)
	secrets, _ := filepath.Glob(filepath.Join(tmp, workerDirPrefix+"*", workerPDD, "env", "passwords"))
	require.Len(t, secrets, 1, "the killed worker left its private data dir: %v", left)
	for d := filepath.Dir(filepath.Dir(secrets[0])); d != tmp; d = filepath.Dir(d) {
		if st, err := os.Stat(d); assert.NoError(t, err) {
			assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), d)
		}
	}

	// The next worker, in the same TMPDIR, removes all of it (the run's
	// scratch dir too) and leaves nothing of its own.
	next := fakeJob(t, nil)
	cmd2 := exec.CommandContext(ctx, os.Args[0])
	cmd2.Env = append(os.Environ(), "STREAM_TEST_WORKER=1", "TMPDIR="+tmp)
	cmd2.Stdin = bytes.NewReader(transmitted(t, next))
	out2, err := cmd2.Output()
	require.NoError(t, err)
	_, err = Process(ctx, bytes.NewReader(out2), next)
	require.NoError(t, err)
	left, err = filepath.Glob(filepath.Join(tmp, "*"))
	require.NoError(t, err)
	hidden, _ := filepath.Glob(filepath.Join(tmp, ".*"))
	assert.Empty(t, append(left, hidden...), "the killed worker's dirs are gone")
}

// TestCleanWorkerDirs: a live worker's temporary dir is left alone, one
// whose worker is gone is removed.
func TestCleanWorkerDirs(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	live, done, err := makeWorkerDir()
	require.NoError(t, err)
	// A worker killed by SIGKILL: its lock is let go of (its file closed),
	// nothing removed.
	deadDir := filepath.Join(tmp, workerDirPrefix+"dead")
	lock, err := lockdir.Make(deadDir)
	require.NoError(t, err)
	lock.Close()
	dead := filepath.Join(deadDir, workerPDD)
	require.NoError(t, os.MkdirAll(filepath.Join(dead, "env"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dead, "env", "passwords"), []byte("{}"), 0o600))
	other := filepath.Join(tmp, "arunner-worker-old")
	require.NoError(t, os.Mkdir(other, 0o700)) // an older arunner's: no lock

	removed, err := CleanWorkerDirs("")
	require.NoError(t, err)
	assert.Equal(t, []string{deadDir}, removed)
	assert.NoDirExists(t, deadDir)
	assert.DirExists(t, live)
	assert.DirExists(t, other)
	done()
	assert.NoDirExists(t, filepath.Dir(live))
}
