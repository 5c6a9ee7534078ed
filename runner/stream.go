package runner

import (
	"context"
	"iter"
	"sync"

	"github.com/arunner/arunner/events"
)

// Stream runs cfg and yields its events as ansible produces them, in counter
// order. When the run ends badly (a failed playbook, a cancel, a timeout, a
// bad private data dir) the last pair yielded is (nil, err) with the error
// Run would have returned. Breaking out of the loop cancels the run and
// waits for it to end. Config.EventHandler, if set, still decides which
// events reach job_events/.
func Stream(ctx context.Context, cfg Config) iter.Seq2[*events.Event, error] {
	return func(yield func(*events.Event, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch := make(chan *events.Event, 256)
		stopped := make(chan struct{})
		// The loop's body may also panic: the handler must not block the
		// run on a channel nobody reads any more.
		stop := sync.OnceFunc(func() { close(stopped) })
		defer stop()
		user := cfg.EventHandler
		cfg.EventHandler = func(ev *events.Event) bool {
			keep := user == nil || user(ev)
			select {
			case ch <- ev:
			case <-stopped: // the caller broke out: drop the rest
			}
			return keep
		}
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
				job.Wait()
				return
			}
		}
		if _, err := job.Wait(); err != nil {
			yield(nil, err)
		}
	}
}
