package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

// WorkerOptions configure Worker.
type WorkerOptions struct {
	// PrivateDataDir is where the job is unpacked and run; empty means a
	// temporary dir (0700), removed when Worker returns, or, should the
	// worker be killed, by the next Worker or CleanWorkerDirs.
	PrivateDataDir string
	// Delete removes PrivateDataDir before the job is unpacked and after it
	// ran, as `ansible-runner worker --delete` does: nothing of the job,
	// its env/ secrets included, stays on the worker.
	Delete bool
	// Keepalive, when positive, writes ansible-runner's keepalive event
	// whenever the stream has been quiet that long, so that a proxy
	// (Receptor, a load balancer) does not close an idle connection.
	Keepalive time.Duration
	// StallTimeout cancels the run when one write to the stream has been
	// blocked that long: the process side stopped reading. Default 5 min;
	// negative waits forever.
	StallTimeout time.Duration
	// Limits bound what the transmitted stream may unpack to.
	Limits Limits
	// Configure, when set, may change the Config built from the kwargs
	// before the run starts (a Go program embedding a worker sets
	// CancelGrace or Wrap there). The hooks it sets are replaced.
	Configure func(*runner.Config) error
}

// explanations of ansible-runner's worker, which AWX shows.
const (
	explainParse   = "Failed to JSON parse a line from transmit stream."
	explainExtract = "Failed to extract private data directory on worker."
)

// errorStatus is the status line of a job that failed in the stream.
type errorStatus struct {
	Status      runner.Status `json:"status"`
	Explanation string        `json:"job_explanation"`
	Traceback   string        `json:"result_traceback,omitempty"`
}

// Worker reads a job from r (what Transmit or ansible-runner's transmit
// writes), runs it with runner.Run and writes its stream to w: status lines,
// every event, the artifacts dir as a zip payload, then eof. Events are not
// kept on the worker's disk. A job that cannot be read or run ends its
// stream with an error status line that explains why, and eof; Worker then
// returns the error. Canceling ctx cancels the run, as does a stream that
// cannot be written (the process side is gone or stopped reading).
func Worker(ctx context.Context, r io.Reader, w io.Writer, opts WorkerOptions) (*runner.Result, error) {
	pdd := opts.PrivateDataDir
	switch {
	case pdd == "":
		d, done, err := makeWorkerDir()
		if err != nil {
			return nil, fmt.Errorf("stream: worker: %w", err)
		}
		pdd = d
		defer done()
	case opts.Delete:
		if err := os.RemoveAll(pdd); err != nil {
			return nil, err
		}
		defer os.RemoveAll(pdd)
	}
	pdd, err := filepath.Abs(pdd)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(pdd, 0o700); err != nil {
		return nil, err
	}
	sw := newWriter(w)
	fail := func(explain string, err error) (*runner.Result, error) {
		sw.json(errorStatus{Status: runner.StatusError, Explanation: explain, Traceback: err.Error()})
		sw.line([]byte(eofJSON))
		return nil, fmt.Errorf("stream: worker: %w", err)
	}

	rd := newReader(r, opts.Limits)
	var kwargs []byte
	for done := false; !done; {
		m, err := rd.next()
		if le := (*LineError)(nil); errors.As(err, &le) {
			// The job's lines carry its secrets (passwords, extra vars):
			// the error that goes back up the stream does not quote them.
			le.Line = ""
		}
		if err != nil {
			return fail(explainParse, err)
		}
		switch {
		case m.has("kwargs"):
			kwargs = m.fields["kwargs"]
		case m.has("zipfile"):
			f, err := rd.payload(m.zipSize)
			if err == nil {
				err = unpack(f, m.zipSize, pdd, opts.Limits)
				f.Close()
			}
			if err != nil {
				return fail(explainExtract, err)
			}
		case m.has("eof"):
			done = true
		}
	}
	if kwargs == nil {
		return fail(explainParse, errors.New("the transmit stream has no kwargs line"))
	}
	cfg, err := kwargsConfig(kwargs, pdd)
	if err != nil {
		return fail(err.Error(), err)
	}
	if opts.Configure != nil {
		if err := opts.Configure(&cfg); err != nil {
			return fail(err.Error(), err)
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cfg.Output, cfg.JSONOutput = nil, false
	cfg.StatusHandler = func(u runner.StatusUpdate) {
		if sw.json(u) != nil {
			cancel(sw.Err())
		}
	}
	cfg.EventHandler = func(ev *events.Event) bool {
		b, err := ev.MarshalJSON()
		if err == nil && sw.event(b) != nil {
			cancel(sw.Err())
		}
		return false // the process side keeps them
	}
	cfg.FinishedCallback = nil

	sw.batch()
	stopWatch := watch(sw, opts, cancel)
	res, err := runner.Run(ctx, cfg)
	stopWatch()
	if res == nil {
		return fail(err.Error(), err)
	}
	if serr := sw.Err(); serr != nil {
		return res, errors.Join(err, serr)
	}
	f, perr := packArtifacts(res.ArtifactDir)
	if perr != nil {
		return fail(perr.Error(), perr)
	}
	defer f.Close()
	if werr := sw.zip(f); werr != nil {
		return res, errors.Join(err, werr)
	}
	if werr := sw.line([]byte(eofJSON)); werr != nil {
		return res, errors.Join(err, werr)
	}
	return res, err
}

// ErrStalled is the cause of a run canceled because its stream's reader
// stopped reading.
var ErrStalled = errors.New("the stream's reader stopped reading")

// watch writes keepalives while the run goes on and cancels it when a write
// has been blocked longer than opts.StallTimeout. The returned func stops it
// before the artifacts and eof are written, as ansible-runner stops its
// keepalives.
func watch(sw *writer, opts WorkerOptions, cancel context.CancelCauseFunc) func() {
	stall := opts.StallTimeout
	if stall == 0 {
		stall = 5 * time.Minute
	}
	tick := 200 * time.Millisecond
	if k := opts.Keepalive; k > 0 && k < 4*tick {
		tick = k / 4
	}
	done := make(chan struct{})
	var sending atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if stall > 0 && sw.stalled(stall) {
				err := fmt.Errorf("%w: a write has been blocked for %v", ErrStalled, stall)
				sw.fail(err)
				cancel(err)
				return
			}
			if opts.Keepalive > 0 && sw.idle() >= opts.Keepalive && !sending.Swap(true) {
				// On a goroutine of its own: a write that blocks must not
				// stop the watch for stalls.
				go func() {
					defer sending.Store(false)
					if sw.line([]byte(`{"event": "keepalive", "counter": 0, "uuid": 0}`)) != nil {
						cancel(sw.Err())
					}
				}()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
