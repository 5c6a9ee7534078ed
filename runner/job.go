package runner

import (
	"context"
	"sync"
	"sync/atomic"
)

// Job is a run started with Start. Its methods may be called from any
// goroutine.
type Job struct {
	ident  string
	done   chan struct{}
	cancel chan struct{}
	once   sync.Once
	status atomic.Value // Status

	res   *Result
	err   error
	panic *HookPanic
}

// Ident is the run's ident (its artifacts dir name).
func (j *Job) Ident() string { return j.ident }

// Status is the run's latest status.
func (j *Job) Status() Status {
	s, _ := j.status.Load().(Status)
	if s == "" {
		return StatusUnstarted
	}
	return s
}

// Cancel asks the run to stop: SIGINT to ansible's process group, SIGKILL
// after the grace period. It returns at once; Wait tells when the run ended.
// Calling it more than once, or after the run ended, does nothing.
func (j *Job) Cancel() { j.once.Do(func() { close(j.cancel) }) }

// Done is closed when the run has ended and FinishedCallback has returned.
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait waits for the run to end and returns what Run would have. If a hook
// panicked, Wait panics with a *HookPanic once the run has been stopped and
// cleaned up.
func (j *Job) Wait() (*Result, error) {
	<-j.done
	if j.panic != nil {
		panic(j.panic)
	}
	return j.res, j.err
}

// Run runs cfg to the end. The Result is non-nil whenever artifacts were
// created, even when err is not nil: a failed playbook gives an *ExitError
// together with a Result whose Status is StatusFailed. A hook's panic comes
// out of Run as a *HookPanic (see there).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	j, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return j.Wait()
}

// Start prepares the run and starts it in the background. Errors found
// before anything could be recorded (no private data dir, a bad ident) are
// returned here; everything later is reported by Wait.
func Start(ctx context.Context, cfg Config) (*Job, error) {
	r, err := newRun(ctx, cfg)
	if err != nil {
		return nil, err
	}
	j := &Job{ident: r.ident, done: make(chan struct{}), cancel: make(chan struct{})}
	r.job = j
	go func() {
		defer close(j.done)
		j.res, j.err = r.execute()
		j.panic = r.hookPanic.Load()
	}()
	return j, nil
}
