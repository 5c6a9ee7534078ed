package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/arunner/arunner/runner"
)

// DefaultSSHWorker is the command RunSSH starts when given none: a worker in
// a temporary private data dir that is removed when the job ends, writing
// a keepalive every 10 s so that an idle job's connection is not dropped
// and a dead controller is noticed.
const DefaultSSHWorker = "arunner worker --keepalive-seconds 10"

// RunSSH runs cfg on the far side of client: it starts command there
// (DefaultSSHWorker when empty; `ansible-runner worker` works as well),
// sends it the job with Transmit and reads the worker's stream back with
// Process, so that the caller sees the run as a local one: the same hooks,
// Result and artifacts, under cfg.PrivateDataDir.
//
// Canceling ctx, or CancelCallback returning true, sends SIGINT to the
// worker, which cancels ansible as a local run would (SIGINT to its process
// group, SIGKILL after the grace period) and still streams the artifacts;
// if the stream has not ended CancelGrace (default 5 s) plus 5 s later,
// the session is closed, which breaks the worker's stream and ends its run
// too (at its next write: a keepalive at the latest). sshd refuses signals
// to a root login's session (they need privilege separation), so for a
// root worker the second way is the one that works. A hook that panics
// ends the run as in Process, and RunSSH then panics with the
// *runner.HookPanic. SSH keys for the hosts ansible manages do not travel:
// the worker uses its own agent or env/ssh_key from the private data dir.
func RunSSH(ctx context.Context, client *ssh.Client, command string, cfg runner.Config) (*runner.Result, error) {
	if command == "" {
		command = DefaultSSHWorker
	}
	if _, _, err := configKwargs(cfg); err != nil {
		return nil, fmt.Errorf("stream: %w", err)
	}
	sess, err := client.NewSession()
	if err != nil {
		return nil, fmt.Errorf("stream: ssh session: %w", err)
	}
	defer sess.Close()
	stdin, err := sess.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := sess.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr := &tailBuffer{max: 4 << 10}
	sess.Stderr = stderr
	if err := sess.Start(command); err != nil {
		return nil, fmt.Errorf("stream: starting %q over ssh: %w", command, err)
	}
	sent := make(chan error, 1)
	go func() {
		err := Transmit(stdin, cfg)
		stdin.Close()
		sent <- err
	}()

	grace := cfg.CancelGrace
	if grace <= 0 {
		grace = 5 * time.Second
	}
	pctx, pcancel := context.WithCancel(context.Background())
	defer pcancel()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var stopOnce sync.Once
	stopWatch := func() { stopOnce.Do(func() { close(stop); wg.Wait() }) }
	// A hook's panic comes up through Process: the watch stops on the way.
	defer stopWatch()
	var canceled bool
	// hookPanic is CancelCallback's, which this watch calls: it is handed
	// to Process, which ends the run as for a panic in its own hooks.
	var hookPanic atomic.Pointer[runner.HookPanic]
	wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
			case <-t.C:
				if cfg.CancelCallback == nil {
					continue
				}
				if p := callCancel(cfg.CancelCallback, &canceled); p != nil {
					hookPanic.Store(p)
					return
				}
				if !canceled {
					continue
				}
			}
			canceled = true
			sess.Signal(ssh.SIGINT)
			select {
			case <-stop:
			case <-time.After(grace + 5*time.Second):
				pcancel() // Process closes the session
			}
			return
		}
	})
	inner := cfg
	inner.CancelCallback = func() bool {
		if p := hookPanic.Load(); p != nil {
			panic(relayedPanic{p})
		}
		return false
	}
	res, err := Process(pctx, sessionReader{stdout, sess}, inner)
	stopWatch()
	waitErr := make(chan error, 1)
	go func() { waitErr <- sess.Wait() }()
	select {
	case <-waitErr:
	case <-time.After(5 * time.Second):
		sess.Close()
	}
	if terr := <-sent; terr != nil && err != nil && !errors.Is(terr, io.EOF) {
		err = errors.Join(err, fmt.Errorf("sending the job: %w", terr))
	}
	if err != nil && res != nil && res.Status == runner.StatusError {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w (the worker's stderr: %s)", err, msg)
		}
	}
	if canceled && ctx.Err() != nil && err != nil {
		err = errors.Join(err, context.Cause(ctx))
	}
	return res, err
}

// callCancel calls CancelCallback, sets *cancel to what it returned, and
// returns its panic, recovered.
func callCancel(f func() bool, cancel *bool) (p *runner.HookPanic) {
	defer func() {
		if v := recover(); v != nil {
			p = &runner.HookPanic{Hook: "CancelCallback", Value: v, Stack: debug.Stack()}
		}
	}()
	*cancel = f()
	return nil
}

// sessionReader is the worker's stdout; closing it closes the session.
type sessionReader struct {
	io.Reader
	sess *ssh.Session
}

func (r sessionReader) Close() error { return r.sess.Close() }

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
