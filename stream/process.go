package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/lazyio"
	"github.com/arunner/arunner/internal/resultx"
	"github.com/arunner/arunner/privdata"
	"github.com/arunner/arunner/runner"
)

// ProcessOptions configure ProcessWith.
type ProcessOptions struct {
	// Limits bound what the worker's stream may make Process hold or
	// unpack.
	Limits Limits
}

// Process reads a worker's stream from r (what Worker or ansible-runner's
// worker writes) and makes the run look as if it had run here: it calls
// cfg's StatusHandler for every status line, EventHandler for every event
// (in order; an event it keeps goes to job_events/), writes ansible's text
// to cfg.Output (one JSON event per line with JSONOutput), unpacks the
// artifacts into <ArtifactDir>/<ident> and calls FinishedCallback once, at
// the end, with the Result it returns, as runner.Run would.
//
// The ident is cfg.Ident, or else the worker's (its first status line's
// runner_ident). A stream that is truncated, garbled or ends without eof
// ends the run with StatusError and an error that says why; the artifacts
// dir then says "error" too. Canceling ctx or CancelCallback returning true
// closes r when it is an io.Closer (which is what stops a remote worker:
// its stream breaks) and ends the run with StatusCanceled. A hook that
// panics ends the run as in runner.Run: the stream is closed (which stops
// the worker), no hook is called after it, the job_events files already
// handed over are written and the artifacts say "error"; then Process
// panics with a *runner.HookPanic on the caller's goroutine.
//
// Kept events' job_events files are written in the background, through a
// bounded queue, as a local run writes them; a file that cannot be written
// ends the run with StatusError and an error that wraps an
// *runner.ArtifactError.
func Process(ctx context.Context, r io.Reader, cfg runner.Config) (*runner.Result, error) {
	return ProcessWith(ctx, r, cfg, ProcessOptions{})
}

// ProcessWith is Process with options.
func ProcessWith(ctx context.Context, r io.Reader, cfg runner.Config, opts ProcessOptions) (*runner.Result, error) {
	if cfg.PrivateDataDir == "" {
		return nil, &runner.ConfigError{Field: "PrivateDataDir", Err: errors.New("required")}
	}
	if cfg.Ident != "" {
		if err := privdata.ValidateIdent(cfg.Ident); err != nil {
			return nil, &runner.ConfigError{Field: "Ident", Err: err}
		}
	}
	if err := os.MkdirAll(cfg.PrivateDataDir, 0o700); err != nil {
		return nil, &runner.ConfigError{Field: "PrivateDataDir", Err: err}
	}
	p := &processor{cfg: cfg, opts: opts, r: r, res: &runner.Result{Ident: cfg.Ident, Status: runner.StatusUnstarted, Started: time.Now()}}
	if cfg.Output != nil {
		p.out = lazyio.New(cfg.Output, lazyio.Delay)
	}
	p.root = cfg.ArtifactDir
	if p.root == "" {
		p.root = privdata.Paths{Root: cfg.PrivateDataDir}.Artifacts()
	}

	// Cancel: the stream is closed, which ends the read below.
	canceled := make(chan struct{})
	stopCancel := make(chan struct{})
	var wg sync.WaitGroup
	var stopOnce sync.Once
	stopWatch := func() { stopOnce.Do(func() { close(stopCancel); wg.Wait() }) }
	// Should this package's own code panic, the watch and the job_events
	// writers stop on the way up.
	defer stopWatch()
	defer p.closeSink()
	wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stopCancel:
				return
			case <-ctx.Done():
			case <-t.C:
				if cfg.CancelCallback == nil {
					continue
				}
				cancel := false
				if !p.call("CancelCallback", func() { cancel = cfg.CancelCallback() }) {
					return // it panicked: the stream is closed
				}
				if !cancel {
					continue
				}
			}
			close(canceled)
			p.closeStream()
			return
		}
	})
	err := p.read(r)
	if err == nil && !p.last.Final() {
		err = errors.New("the worker's stream ended without a final status")
	}
	stopWatch()
	wasCanceled := false
	select {
	case <-canceled:
		wasCanceled = true
	default:
	}
	switch hp := p.hookPanic.Load(); {
	case hp != nil:
		// The status hook is not called after a panic; the run ends in
		// error all the same.
		err = hp
		p.status(runner.StatusUpdate{Status: runner.StatusError, RunnerIdent: p.res.Ident})
	case wasCanceled:
		err = fmt.Errorf("stream: %w", errors.Join(runner.ErrCanceled, context.Cause(ctx)))
		if ctx.Err() == nil {
			err = fmt.Errorf("stream: %w", runner.ErrCanceled)
		}
		p.status(runner.StatusUpdate{Status: runner.StatusCanceled, RunnerIdent: p.res.Ident})
	case err != nil:
		p.status(runner.StatusUpdate{Status: runner.StatusError, RunnerIdent: p.res.Ident})
	}
	res, err := p.finish(err)
	if hp := p.hookPanic.Load(); hp != nil {
		panic(hp) // FinishedCallback's, or the one above
	}
	return res, err
}

type processor struct {
	cfg  runner.Config
	opts ProcessOptions
	r    io.Reader // the stream, closed on cancel and on a hook's panic
	root string
	res  *runner.Result

	art    *privdata.Artifacts
	sink   resultx.EventSink // job_events files, written in the background
	last   runner.Status
	reason string // the worker's job_explanation
	gotZip bool
	artErr error
	// out is cfg.Output, written in batches at most lazyio.Delay late, as
	// a local run writes it.
	out *lazyio.Writer

	// hookPanic is the first panic recovered from a hook (call).
	hookPanic atomic.Pointer[runner.HookPanic]
	closeOnce sync.Once
}

// errHookPanic ends the read after a hook panicked.
var errHookPanic = errors.New("a hook panicked")

// call runs one of cfg's hooks and reports whether it returned. A panic in
// it is recovered and recorded, and closes the stream, as runner's call
// stops a local run; after it no hook runs again.
func (p *processor) call(hook string, f func()) (ok bool) {
	if p.hookPanic.Load() != nil {
		return false
	}
	defer func() {
		if v := recover(); v != nil {
			hp := &runner.HookPanic{Hook: hook, Value: v, Stack: debug.Stack()}
			if r, ok := v.(relayedPanic); ok {
				hp = r.p
			}
			if p.hookPanic.CompareAndSwap(nil, hp) {
				p.closeStream()
			}
			ok = false
		}
	}()
	f()
	return true
}

// relayedPanic is a hook's panic recovered elsewhere (RunSSH calls
// CancelCallback itself) and raised again in a hook Process calls, so
// that Process ends the run for it.
type relayedPanic struct{ p *runner.HookPanic }

// closeStream closes the stream when it is an io.Closer: what stops a
// remote worker, and a read blocked on it.
func (p *processor) closeStream() {
	p.closeOnce.Do(func() {
		if c, ok := p.r.(io.Closer); ok {
			c.Close()
		}
	})
}

func (p *processor) status(u runner.StatusUpdate) {
	p.last = u.Status
	if u.Status == runner.StatusStarting {
		p.res.Command, p.res.Cwd = u.Command, u.Cwd
	}
	if p.cfg.StatusHandler != nil {
		p.call("StatusHandler", func() { p.cfg.StatusHandler(u) })
	}
}

// closeSink waits for the job_events files handed over and records the
// first that failed.
func (p *processor) closeSink() {
	if p.sink != nil {
		if err := p.sink.Close(); err != nil && p.artErr == nil {
			p.artErr = err
		}
		p.sink = nil
	}
}

// artifacts creates the artifacts dir once the ident is known.
func (p *processor) artifacts() error {
	if p.art != nil {
		return nil
	}
	if p.res.Ident == "" {
		return errors.New("the worker's stream names no ident (runner_ident) before its first event")
	}
	art, err := privdata.NewArtifacts(p.root, p.res.Ident)
	if err != nil {
		return err
	}
	p.art, p.sink = art, resultx.NewEventSink(art)
	if p.cfg.RotateArtifacts > 0 {
		// As a local run does, once this run's dir is made.
		if err := privdata.Rotate(p.root, p.cfg.RotateArtifacts); err != nil {
			return &runner.ConfigError{Field: "RotateArtifacts", Err: err}
		}
	}
	p.res.ArtifactDir = art.Dir
	return nil
}

func (p *processor) read(r io.Reader) error {
	rd := newReader(r, p.opts.Limits)
	rd.events = true
	if p.res.Ident != "" {
		if err := p.artifacts(); err != nil {
			return err
		}
	}
	for {
		if p.hookPanic.Load() != nil {
			return errHookPanic
		}
		m, err := rd.next()
		if err != nil {
			return err
		}
		switch {
		case m.ev != nil:
			if err := p.event(m.ev, m.raw); err != nil {
				return &LineError{N: rd.n, Line: firstLine(m.raw), Err: err}
			}
		case m.has("status"):
			var u runner.StatusUpdate
			var extra struct {
				Explanation string `json:"job_explanation"`
				Traceback   string `json:"result_traceback"`
			}
			if err := json.Unmarshal(m.raw, &u); err != nil {
				return &LineError{N: rd.n, Line: firstLine(m.raw), Err: err}
			}
			json.Unmarshal(m.raw, &extra)
			if extra.Explanation != "" {
				p.reason = strings.TrimSpace(extra.Explanation + "\n" + extra.Traceback)
			}
			if p.res.Ident == "" && u.RunnerIdent != "" {
				if err := privdata.ValidateIdent(u.RunnerIdent); err != nil {
					return fmt.Errorf("the worker's runner_ident: %w", err)
				}
				p.res.Ident = u.RunnerIdent
			}
			if p.res.Ident != "" {
				if err := p.artifacts(); err != nil {
					return err
				}
			}
			p.status(u)
		case m.has("zipfile"):
			if err := p.artifacts(); err != nil {
				return err
			}
			f, err := rd.payload(m.zipSize)
			if err == nil {
				err = unpack(f, m.zipSize, p.art.Dir, p.opts.Limits)
				f.Close()
			}
			if err != nil {
				return fmt.Errorf("the worker's artifacts: %w", err)
			}
			p.gotZip = true
		case m.has("eof"):
			return nil
		default:
			if string(m.fields["event"]) == `"keepalive"` {
				continue
			}
			ev := new(events.Event)
			if err := ev.UnmarshalJSON(m.raw); err != nil {
				return &LineError{N: rd.n, Line: firstLine(m.raw), Err: err}
			}
			if err := p.event(ev, m.raw); err != nil {
				return &LineError{N: rd.n, Line: firstLine(m.raw), Err: err}
			}
		}
	}
}

// event delivers one event line as a local run delivers an event.
func (p *processor) event(ev *events.Event, raw []byte) error {
	if ev.Counter == 0 || ev.UUID == "" {
		return errors.New("an event needs a counter and a uuid")
	}
	if err := p.artifacts(); err != nil {
		return err
	}
	resultx.SeeEvent(p.res, ev)
	if out := p.out; out != nil {
		if p.cfg.JSONOutput {
			out.Write(append(raw[:len(raw):len(raw)], '\n'))
		} else if ev.Stdout != "" {
			io.WriteString(out, ev.Stdout+"\n")
		}
	}
	keep := true
	if p.cfg.EventHandler != nil {
		p.call("EventHandler", func() { keep = p.cfg.EventHandler(ev) })
	}
	p.res.FinalCounter = ev.Counter
	if keep && p.hookPanic.Load() == nil {
		p.sink.Write(ev.Counter, ev.UUID, bytes.Clone(raw))
	}
	return nil
}

// finish completes the Result from the stream's last status and the
// artifacts, and calls FinishedCallback.
func (p *processor) finish(streamErr error) (*runner.Result, error) {
	res := p.res
	res.Ended = time.Now()
	if p.out != nil {
		if err := p.out.Flush(); err != nil {
			res.OutputErr = &runner.OutputError{Err: err}
		}
	}
	p.closeSink()
	res.Status = p.last

	if p.art != nil {
		if b, err := os.ReadFile(filepath.Join(p.art.Dir, "rc")); err == nil {
			res.RC, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
	}
	if p.artErr != nil {
		res.ArtifactErr = p.artErr
		res.Status = runner.StatusError
	}
	var err error
	switch {
	case streamErr != nil:
		err = streamErr
		if !errors.Is(err, runner.ErrCanceled) {
			err = fmt.Errorf("stream: %w", err)
		}
	case res.Status == runner.StatusFailed:
		err = resultx.ExitError(res, res.RC)
	case res.Status == runner.StatusCanceled:
		err = fmt.Errorf("stream: worker: %w", runner.ErrCanceled)
	case res.Status == runner.StatusTimeout:
		err = fmt.Errorf("stream: worker: %w", runner.ErrTimeout)
	case res.Status == runner.StatusError:
		err = fmt.Errorf("stream: worker: %s", cmpOr(p.reason, "the run ended in error"))
	}
	if p.artErr != nil {
		err = errors.Join(p.artErr, err)
	}
	if streamErr != nil || p.artErr != nil {
		res.Status = runner.StatusError
		if errors.Is(streamErr, runner.ErrCanceled) {
			res.Status = runner.StatusCanceled
		}
	}
	if p.art != nil && (streamErr != nil || !p.gotZip) {
		// What the worker's artifacts would have said is lost; the local
		// ones must not look like a finished run.
		p.art.WriteStatus(string(res.Status))
		if _, serr := os.Stat(filepath.Join(p.art.Dir, "rc")); serr != nil {
			rc := 1
			if res.Status == runner.StatusCanceled {
				rc = 254
			}
			res.RC = rc
			p.art.WriteRC(rc)
		}
	}
	res.Err = err
	if p.cfg.FinishedCallback != nil {
		p.call("FinishedCallback", func() { p.cfg.FinishedCallback(res) })
	}
	return res, err
}
