package runner

import (
	"context"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/arunner/arunner/events"
)

// Stream runs cfg and yields its events as ansible produces them, in counter
// order. When the run ends badly (a failed playbook, a cancel, a timeout, a
// bad private data dir) the last pair yielded is (nil, err) with the error
// Run would have returned. Breaking out of the loop cancels the run and
// waits for it to end. Config.EventHandler, if set, still decides which
// events reach job_events/.
//
// result returns the run's *Result once the loop has ended, as Run would
// have returned it (after a break too: the Result of the canceled run); nil
// before, or when the run could not be started (the error was yielded).
// Each range over events starts a run, and result gives the latest's. The
// pair is shaped as iter.Pull's (next, stop): the loop stays a plain range
// over events, and the Result, which exists only once the run has ended,
// is asked for after it.
func Stream(ctx context.Context, cfg Config) (events iter.Seq2[*events.Event, error], result func() *Result) {
	var last atomic.Pointer[Result]
	return stream(ctx, cfg, &last), last.Load
}

func stream(ctx context.Context, cfg Config, last *atomic.Pointer[Result]) iter.Seq2[*events.Event, error] {
	return func(yield func(*events.Event, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch := make(chan *events.Event, 256)
		stopped := make(chan struct{})
		// The loop's body may also panic: the handler must not block the
		// run on a channel nobody reads any more.
		stop := sync.OnceFunc(func() { close(stopped) })
		defer stop()
		// Each range gets its own copy: wrapping the shared cfg's handler
		// would chain a second range's events into the first's closed
		// channel.
		cfg := cfg
		user := cfg.EventHandler
		cfg.EventHandler = func(ev *events.Event) bool {
			keep := user == nil || user(ev)
			select {
			case ch <- ev:
			case <-stopped: // the caller broke out: drop the rest
			}
			return keep
		}
		last.Store(nil)
		job, err := Start(ctx, cfg)
		if err != nil {
			yield(nil, err)
			return
		}
		go func() {
			<-job.Done()
			close(ch)
		}()
		for ev := range ch {
			if !yield(ev, nil) {
				stop()
				cancel()
				res, _ := job.Wait()
				last.Store(res)
				return
			}
		}
		res, err := job.Wait()
		last.Store(res)
		if err != nil {
			yield(nil, err)
		}
	}
}
