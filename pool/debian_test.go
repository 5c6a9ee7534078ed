package pool

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/proctest"
	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

// systemServer starts the nats-server on PATH (Debian 12's is 2.9.10) as
// the README says to: `nats-server -js -a 127.0.0.1 -p PORT -sd DIR`.
func systemServer(t *testing.T) string {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		needNATSServer(t)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-sd", t.TempDir())
	var log proctest.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	eventually(t, 10*time.Second, "nats-server listening", func() bool {
		nc, err := nats.Connect(url)
		if err == nil {
			nc.Close()
		}
		return err == nil
	})
	t.Logf("%s", strings.SplitN(log.String(), "\n", 3)[0])
	return url
}

// The pool on the system's nats-server: jobs run once, a lost worker's
// job ends in error, a cancel reaches ansible.
func TestPoolSystemServer(t *testing.T) {
	url := systemServer(t)
	nc := connect(t, url)
	t.Logf("server %s", nc.ConnectedServerVersion())
	c := newClient(t, nc, Options{})
	quick := runnertest.New(t, quickPlay...)
	want := localEventNames(t, jobConfig(t, quick, "local"))
	a := startWorker(t, url, "a", 2, "default")
	ids := runJobs(t, c, quick, "default", 10, want)
	assertOnce(t, ids, a)

	slow := runnertest.New(t, slowPlay...)
	killFakes(t, slow)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	job, err := c.Submit(ctx, "default", jobConfig(t, slow, "lost"), SubmitOptions{})
	require.NoError(t, err)
	waitState(t, c, job.ID(), stateRunning)
	// Killed once ansible runs: killed before, the job would be queued
	// again, and wait for a worker.
	eventually(t, 30*time.Second, "ansible started", func() bool { return len(procsOf(slow.Env[runnertest.ScriptEnv])) > 0 })
	require.NoError(t, a.cmd.Process.Kill())
	res, err := job.Wait(ctx)
	var lost *WorkerLostError
	require.ErrorAs(t, err, &lost)
	assert.Equal(t, runner.StatusError, res.Status)
	assertEmpty(t, c)
}

// needNATSServer skips a test that wants Debian's nats-server when it is not
// installed, except under CI (make test installs it), where that fails.
func needNATSServer(t *testing.T) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal("nats-server not on PATH; make test installs it (apt-get install nats-server)")
	}
	t.Skip("nats-server not on PATH (Debian: apt-get install nats-server)")
}
