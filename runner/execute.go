package runner

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/internal/lazyio"
)

// cancelPoll is how often CancelCallback is polled, and the job and idle
// limits checked.
const cancelPoll = 200 * time.Millisecond

// rcStopped is what ansible-runner reports as rc for a canceled or timed-out
// run.
const rcStopped = 254

// maxFrameErrors bounds how many garbage frames a Result keeps.
const maxFrameErrors = 100

type atomicTime struct{ v atomic.Int64 }

func (t *atomicTime) Store(x time.Time) { t.v.Store(x.UnixNano()) }
func (t *atomicTime) Load() time.Time   { return time.Unix(0, t.v.Load()) }

// stop records why a run is being stopped; the first reason wins.
type stop struct {
	status Status
	err    error
	kind   TimeoutKind
}

func (r *run) execute() (*Result, error) {
	res := &Result{Ident: r.ident, ArtifactDir: r.art.Dir, Status: StatusUnstarted, Started: time.Now()}
	defer r.clean()

	stdoutF, err := r.art.CreateStdout()
	if err != nil {
		return r.finish(res, StatusError, 1, &ConfigError{Field: "ArtifactDir", Err: err})
	}
	defer stdoutF.Close()
	stdout := lazyio.New(stdoutF, lazyio.Delay)
	stderrF, err := r.art.CreateStderr()
	if err != nil {
		return r.finish(res, StatusError, 1, &ConfigError{Field: "ArtifactDir", Err: err})
	}
	defer stderrF.Close()
	// Room for the status and rc files, should the run fill the disk. At
	// worst (the disk is already full) they are written without it.
	_ = r.art.ReserveFinal()
	if r.cfg.Output != nil {
		r.out = newAsyncOutput(r.cfg.Output)
	}

	missing, err := r.prepare()
	if st := stoppedBy(err); st != nil {
		// Canceled or timed out while reading the private data dir.
		res.Timeout = st.kind
		return r.finish(res, st.status, rcStopped, err)
	}
	if err != nil {
		msg, status := err.Error(), StatusError
		var mp *missingPlaybookError
		if missing && errors.As(err, &mp) {
			// ansible-playbook's own words, so the stdout artifact reads as
			// ansible-runner's does.
			msg, status = fmt.Sprintf("ERROR! the playbook: %s could not be found", mp.playbook), StatusFailed
		}
		return r.failEarly(res, stdout, status, msg, err, missing)
	}

	if err := r.canceledEarly(); err != nil {
		// Canceled while preparing: ansible is not started only to be
		// stopped.
		return r.finish(res, StatusCanceled, rcStopped, err)
	}

	res.redactor = credentials.NewRedactor(r.secrets...)
	safeEnv := r.safeEnv()
	res.Command, res.Cwd = res.redactor.Strings(r.cmd.Argv), r.cmd.Dir
	if err := r.art.WriteCommand(res.Command, r.cmd.Dir, safeEnv); err != nil {
		return r.finish(res, StatusError, 1, &ConfigError{Field: "ArtifactDir", Err: err})
	}
	r.status(StatusUpdate{Status: StatusStarting, RunnerIdent: r.ident, Command: res.Command, Cwd: r.cmd.Dir, Env: safeEnv})
	if p := r.hookPanic.Load(); p != nil {
		return r.finish(res, StatusError, 1, p)
	}

	// The events side band, unless Wrap removed it from the environment.
	var side *eventproto.SideBand
	var sideW *os.File
	if r.cmd.Env[eventproto.SideBandEnv] == strconv.Itoa(eventproto.SideBandFD) {
		pr, pw, err := os.Pipe()
		if err != nil {
			return r.finish(res, StatusError, 1, fmt.Errorf("events side band: %w", err))
		}
		rr, err := newRawReader(pr)
		if err != nil {
			pr.Close()
			pw.Close()
			return r.finish(res, StatusError, 1, fmt.Errorf("events side band: %w", err))
		}
		side, sideW = eventproto.NewSideBand(rr, 0), pw
		defer side.Close()
	}

	text := r.textWriter(stdout)
	filter := eventproto.NewFilter(eventproto.FilterConfig{
		RunnerIdent: r.ident,
		Text:        text,
		SideBand:    side,
		// Whatever Wrap left is what the plugin gets.
		Key: r.cmd.Env[eventproto.KeyEnv],
		// The pty turns "\n" into "\r\n" (noEcho leaves ONLCR on).
		TerminalNewlines: !r.cfg.NoPTY,
		Handle:           func(ev *events.Event) error { r.onEvent(res, ev); return nil },
		OnError: func(err error) {
			if len(res.FrameErrors) < maxFrameErrors {
				res.FrameErrors = append(res.FrameErrors, err)
			}
		},
	})

	r.sink = newEventSink(r.art)
	// closeOutput delivers what the filter still holds and waits for every
	// job_events file: the last step before the final status. The Filter's
	// Text error is the stdout artifact's, which Flush returns too.
	closeOutput := func() {
		filter.Close()
		flushErr := stdout.Flush()
		res.FinalCounter = filter.Counter()
		sinkErr := r.sink.close()
		res.ArtifactErr = cmp.Or(artifactError(filepath.Join(r.art.Dir, "stdout"), flushErr), artifactError(r.art.JobEventsDir(), sinkErr))
	}
	r.start = time.Now()
	p, err := startProc(r.cmd, r.cfg.NoPTY, stderrF, sideW)
	if sideW != nil {
		// The children hold it now; ours would keep the side band open
		// after they exit.
		sideW.Close()
	}
	if err != nil {
		if isNotFound(err) {
			// ansible-runner's words, as one verbose event.
			filter.Write([]byte(fmt.Sprintf("The command was not found or was not executable: %s.\n", r.cmd.Argv[0])))
			closeOutput()
			return r.finish(res, StatusError, 127, fmt.Errorf("%s: %w", r.cmd.Argv[0], ErrBinaryNotFound))
		}
		closeOutput()
		return r.finish(res, StatusError, 1, fmt.Errorf("starting %s: %w", r.cmd.Argv[0], err))
	}
	r.status(StatusUpdate{Status: StatusRunning, RunnerIdent: r.ident})

	// Without a pty, stdin is empty and there is no terminal to prompt on:
	// nothing to answer, and no prompt can keep ansible waiting.
	var answers *answerer
	if !r.cfg.NoPTY {
		answers = newAnswerer(r.rules)
	}
	var lastOutput atomicTime
	lastOutput.Store(r.start)
	var filtering atomic.Bool // the Filter is working through a read
	var lastFiltered atomicTime
	readDone := make(chan error, 1)
	go func() {
		readDone <- readPty(p.out, func(b []byte) {
			for _, a := range answers.feed(b) {
				p.ptmx.Write(a)
			}
			filtering.Store(true)
			filter.Write(b) // the stdout artifact is written within lazyio.Delay
			lastFiltered.Store(time.Now())
			filtering.Store(false)
		}, &lastOutput)
	}()
	waitDone := make(chan error, 1)
	go func() { waitDone <- p.cmd.Wait() }()

	st := r.monitor(p, waitDone, &lastOutput, answers)

	// ansible is gone; whatever it left in its process group (a forked
	// worker, an ssh control master) goes too, then the pty is drained to
	// EOF so that nothing ansible wrote before exiting is lost, however
	// long the Filter and EventHandler take over it.
	p.signal(syscall.SIGKILL)
	if r.container != nil && (st != nil || !p.cmd.ProcessState.Success()) {
		// The client is gone; a container it could not remove (killed, or
		// the engine failed) must not outlive the run.
		r.removeContainer()
	}
	if !drained(readDone, &filtering, &lastOutput, &lastFiltered) {
		// A process that left our session still holds the pty (or the
		// side band, which the Filter may be waiting on) open.
		p.out.Close()
		if side != nil {
			side.Close()
		}
		<-readDone
	}
	p.ptmx.Close()
	if te := (*TimeoutError)(nil); st != nil && errors.As(st.err, &te) {
		// After the grace period, the output says why it ended, as one
		// more verbose event. The newline before it ends a line ansible
		// may have left open, so that the notice is a line of its own.
		nl := "\n"
		if !r.cfg.NoPTY {
			nl = "\r\n"
		}
		filter.Write([]byte(nl + te.notice() + nl))
	}
	closeOutput()
	if side != nil {
		res.sideRecords = side.Records()
	}
	r.collectFacts(res)

	rc := exitCode(p.cmd.ProcessState)
	if st != nil {
		res.Timeout = st.kind
		return r.finish(res, st.status, rcStopped, st.err)
	}
	if rc == 0 {
		return r.finish(res, StatusSuccessful, 0, nil)
	}
	return r.finish(res, StatusFailed, rc, res.fails.exitError(rc, exitSignal(p.cmd.ProcessState), r.ansible, res.redactor))
}

// stoppedBy tells a prepare error that is a cancel or a job timeout.
func stoppedBy(err error) *stop {
	var te *TimeoutError
	switch {
	case errors.As(err, &te):
		return &stop{status: StatusTimeout, kind: te.Kind}
	case errors.Is(err, ErrCanceled):
		return &stop{status: StatusCanceled}
	}
	return nil
}

// canceledEarly is the error of a run canceled (context or Job.Cancel)
// before ansible was started, nil if it was not.
func (r *run) canceledEarly() error {
	select {
	case <-r.job.cancel:
		return &cancelError{}
	default:
	}
	if err := r.ctx.Err(); err != nil {
		return &cancelError{cause: err}
	}
	return nil
}

// drainQuiet is how long, after ansible exited, the pty may stay open with
// nothing to read and nothing left to filter before the runner decides that
// a process which left its session holds it. drainLimit bounds the whole
// drain, against such a process that keeps writing.
const (
	drainQuiet = 2 * time.Second
	drainLimit = time.Minute
)

// drained waits for the reader to reach EOF, and reports false once it has
// seen neither output nor the Filter at work for drainQuiet since ansible
// exited (now), or after drainLimit.
func drained(readDone <-chan error, filtering *atomic.Bool, lastOutput, lastFiltered *atomicTime) bool {
	exited := time.Now()
	tick := time.NewTicker(drainQuiet / 10)
	defer tick.Stop()
	limit := time.After(drainLimit)
	for {
		select {
		case <-readDone:
			return true
		case <-limit:
			return false
		case now := <-tick.C:
			last := exited
			for _, t := range []time.Time{lastOutput.Load(), lastFiltered.Load()} {
				if t.After(last) {
					last = t
				}
			}
			if !filtering.Load() && now.Sub(last) > drainQuiet {
				return false
			}
		}
	}
}

// monitor waits for ansible to exit, stopping it on cancel or timeout: SIGINT
// to the group first, SIGKILL after the grace period. Limits are checked
// every 200 ms. A hook's panic kills the group at once.
func (r *run) monitor(p *proc, waitDone <-chan error, lastOutput *atomicTime, answers *answerer) *stop {
	grace := r.cfg.CancelGrace
	if grace <= 0 {
		grace = defaultCancelGrace
	}
	promptLimit := r.cfg.PromptTimeout
	if promptLimit == 0 {
		promptLimit = defaultPromptTimeout
	}
	ticker := time.NewTicker(cancelPoll)
	defer ticker.Stop()

	var st *stop
	var kill <-chan time.Time
	stopWith := func(s stop) {
		if st != nil {
			return
		}
		st = &s
		p.signal(syscall.SIGINT)
		if r.container != nil {
			// The engine's client does not pass every signal on to the
			// container (not in --tty mode): the engine does.
			go r.signalContainer("INT")
		}
		kill = time.After(grace)
	}
	ctxDone, jobCancel, abort := r.ctx.Done(), r.job.cancel, r.abort
	for {
		select {
		case <-waitDone:
			return st
		case <-abort:
			// A hook panicked (call): nothing is left to wait for.
			abort, kill = nil, nil
			st = &stop{status: StatusError, err: r.hookPanic.Load()}
			p.signal(syscall.SIGKILL)
		case <-ctxDone:
			ctxDone = nil
			stopWith(stop{status: StatusCanceled, err: &cancelError{cause: r.ctx.Err()}})
		case <-jobCancel:
			jobCancel = nil
			stopWith(stop{status: StatusCanceled, err: &cancelError{}})
		case <-kill:
			kill = nil
			// Killing the engine's client would leave the container
			// running: it goes first.
			r.removeContainer()
			p.signal(syscall.SIGKILL)
		case now := <-ticker.C:
			if st != nil {
				continue
			}
			canceled := false
			if r.cfg.CancelCallback != nil {
				r.call("CancelCallback", func() { canceled = r.cfg.CancelCallback() })
			}
			if canceled {
				stopWith(stop{status: StatusCanceled, err: &cancelError{}})
				continue
			}
			if r.jobLimit > 0 && now.Sub(r.start) >= r.jobLimit {
				stopWith(stop{status: StatusTimeout, kind: JobTimeout,
					err: &TimeoutError{Kind: JobTimeout, Limit: r.jobLimit.String()}})
				continue
			}
			silent := now.Sub(lastOutput.Load())
			if r.idle > 0 && silent >= r.idle {
				stopWith(stop{status: StatusTimeout, kind: IdleTimeout,
					err: &TimeoutError{Kind: IdleTimeout, Limit: r.idle.String()}})
				continue
			}
			if promptLimit > 0 && silent >= promptLimit {
				if text := answers.pending(); text != "" {
					stopWith(stop{status: StatusTimeout, kind: PromptTimeout,
						err: &TimeoutError{Kind: PromptTimeout, Limit: promptLimit.String(), Prompt: text}})
				}
			}
		}
	}
}

// onEvent runs in the pty reader goroutine, once per event, in order. It
// never fails the Filter: an error there would stop the output with it.
func (r *run) onEvent(res *Result, ev *events.Event) {
	if r.readAtStart != nil && ev.PID != 0 {
		// Sent by the callback plugin, which ansible loads after the
		// extra vars (text before it, a runner-made verbose event, is not).
		r.unlinkStarted()
	}
	res.fails.see(ev)
	keep := true
	if r.cfg.EventHandler != nil {
		r.call("EventHandler", func() { keep = r.cfg.EventHandler(ev) })
	}
	if !keep && r.jsonOut == nil {
		return
	}
	data, err := ev.MarshalJSON()
	if err != nil {
		if len(res.FrameErrors) < maxFrameErrors {
			res.FrameErrors = append(res.FrameErrors, fmt.Errorf("event %d: %w", ev.Counter, err))
		}
		return
	}
	if keep {
		r.sink.write(ev.Counter, ev.UUID, data)
	}
	if r.jsonOut != nil {
		r.jsonOut.Write(append(data, '\n'))
	}
}

// clean stops the agent and removes the run's private dir (credential
// files, extra vars, the callback plugin). It runs before FinishedCallback.
func (r *run) clean() {
	for _, f := range r.cleanup {
		f()
	}
	r.cleanup = nil
	r.removeRuntime()
}

// safeEnv is the command's environment as the run records it (the command
// artifact, the starting status): secrets redacted, and without the event
// key, which a task could forge events with. A container's is the run's
// own, which the container gets, as ansible-runner records it; the
// engine's (the host's) is not ansible's.
func (r *run) safeEnv() map[string]string {
	src := r.cmd.Env
	if r.container != nil {
		src = r.container.JobEnv
	}
	env := credentials.SafeEnv(src, r.secrets)
	delete(env, eventproto.KeyEnv)
	return env
}

// textWriter returns where the Filter writes ansible's text: the stdout
// artifact, and Output if there is one. With JSONOutput it returns nil and
// sends the JSON lines there instead, as ansible-runner's json mode puts one
// JSON event per line in place of ansible's text.
func (r *run) textWriter(stdout io.Writer) io.Writer {
	var text io.Writer = stdout
	if r.out != nil {
		text = &textTee{artifact: stdout, out: r.out}
	}
	if r.cfg.JSONOutput {
		r.jsonOut, text = text, nil
	}
	return text
}

func (r *run) status(u StatusUpdate) {
	r.job.status.Store(u.Status)
	if r.cfg.StatusHandler != nil {
		r.call("StatusHandler", func() { r.cfg.StatusHandler(u) })
	}
}

// finish records the final status and rc, then calls the hooks: status
// handler, then FinishedCallback, exactly once. A run whose artifacts could
// not all be written ends with StatusError and an error that wraps the
// *ArtifactError, and the run's own error if it had one; rc stays
// ansible's. Output gets a bounded time to take the rest of the text after
// the artifacts are complete.
func (r *run) finish(res *Result, status Status, rc int, err error) (*Result, error) {
	res.RC, res.Ended = rc, time.Now()
	if res.redactor == nil { // prepare failed: redact what it had found
		res.redactor = credentials.NewRedactor(r.secrets...)
	}
	if te := (*TimeoutError)(nil); errors.As(err, &te) {
		// ansible's text: a secret could be in it.
		te.Prompt = res.redactor.String(te.Prompt)
	}
	r.clean()
	artErr := res.ArtifactErr
	if artErr == nil {
		artErr = artifactError(filepath.Join(r.art.Dir, "rc"), r.art.WriteRC(rc))
	} else {
		r.art.WriteRC(rc)
	}
	if artErr != nil {
		status = StatusError
	}
	if werr := artifactError(filepath.Join(r.art.Dir, "status"), r.art.WriteStatus(string(status))); werr != nil {
		status, artErr = StatusError, cmp.Or(artErr, werr)
	}
	if artErr != nil {
		res.ArtifactErr = artErr
		if err == nil {
			err = artErr
		} else {
			err = errors.Join(artErr, err)
		}
	}
	res.Status = status
	res.OutputErr = r.out.close()
	r.status(StatusUpdate{Status: status, RunnerIdent: r.ident})
	res.Err = err
	if r.cfg.FinishedCallback != nil {
		r.call("FinishedCallback", func() { r.cfg.FinishedCallback(res) })
	}
	return res, err
}
