package runner

import (
	"io"
	"sync"
	"time"

	"github.com/arunner/arunner/internal/lazyio"
)

// What Config.Output may fall behind by, and how long the end of a run
// waits for it. Variables so that tests can shorten them.
var (
	// outputBuffer bounds the bytes queued for Output: beyond it Output is
	// dropped (ErrOutputStalled) rather than ansible slowed down or memory
	// grown. One write larger than it still goes through, alone.
	outputBuffer = 8 << 20
	// outputQuiet is how long the end of the run waits for an Output that
	// takes nothing; outputLimit bounds the whole wait.
	outputQuiet = 5 * time.Second
	outputLimit = time.Minute
)

// outputChunk is the most written to Output in one call, so that the end
// of the run sees a slow Output's progress; that much queued is written at
// once, less within lazyio.Delay.
const outputChunk = 64 << 10

// asyncOutput writes Config.Output from a goroutine of its own, through a
// bounded queue: a slow, blocked or failing Output never holds up the pty
// reader, so ansible, the events and the artifacts go on whatever the
// caller's writer does. Write never fails and never blocks on Output. After
// Output's first error, or once it fell outputBuffer behind, it gets
// nothing more: what it did get is the beginning of the text, without
// holes. close delivers the rest, within bounds, and reports what was lost.
//
// As lazyio.Writer, it batches in time: the writer is woken a delay after
// the first byte queued (or at once when a chunk is), not for every event,
// which would cost a wake-up each, more than the write.
type asyncOutput struct {
	w     io.Writer
	timer *time.Timer

	mu        sync.Mutex
	wake      *sync.Cond // a chunk is queued, the delay passed, or closing
	armed     bool       // timer is set
	due       bool       // the delay passed: write what is queued
	queue     []byte     // written to asyncOutput, not yet taken
	busy      int        // bytes taken by the writer, not yet written
	progress  time.Time  // when Output last took something
	err       error      // Output's first error, or ErrOutputStalled
	lost      int64      // bytes Output will not get
	closing   bool
	abandoned bool // close gave up: the writer stops after its current call
	done      chan struct{}
}

func newAsyncOutput(w io.Writer) *asyncOutput {
	o := &asyncOutput{w: w, done: make(chan struct{})}
	o.wake = sync.NewCond(&o.mu)
	o.timer = time.AfterFunc(time.Hour, func() {
		o.mu.Lock()
		o.armed, o.due = false, true
		o.mu.Unlock()
		o.wake.Signal()
	})
	o.timer.Stop()
	go o.run()
	return o
}

// Write queues p for Output. It returns len(p), nil: Output's errors are
// close's to report.
func (o *asyncOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	switch {
	case o.err != nil || o.closing:
		o.lost += int64(len(p))
	case o.busy+len(o.queue) > 0 && o.busy+len(o.queue)+len(p) > outputBuffer:
		o.err = ErrOutputStalled
		o.lost += int64(len(p))
	default:
		o.queue = append(o.queue, p...)
		switch {
		case len(o.queue) >= outputChunk || o.due:
			o.wake.Signal()
		case !o.armed:
			o.armed = true
			o.timer.Reset(lazyio.Delay)
		}
	}
	o.mu.Unlock()
	return len(p), nil
}

// WriteString is Write without a conversion at the caller.
func (o *asyncOutput) WriteString(s string) (int, error) {
	return o.Write([]byte(s))
}

// run is the writer goroutine: it takes the whole queue at once and writes
// it out in chunks, then, once closing and empty, flushes an Output that
// buffers (bufio.Writer and the like).
func (o *asyncOutput) run() {
	defer close(o.done)
	var out []byte
	o.mu.Lock()
	defer o.mu.Unlock()
	for {
		for !o.closing && (len(o.queue) == 0 || len(o.queue) < outputChunk && !o.due) {
			o.wake.Wait()
		}
		if o.abandoned || o.err != nil && o.err != ErrOutputStalled {
			return
		}
		if len(o.queue) == 0 { // closing, all written
			if f, ok := o.w.(interface{ Flush() error }); ok {
				o.mu.Unlock()
				err := f.Flush()
				o.mu.Lock()
				if err != nil && !o.abandoned && (o.err == nil || o.err == ErrOutputStalled) {
					o.err = err
				}
			}
			return
		}
		out, o.queue = o.queue, out[:0]
		o.busy, o.due = len(out), false
		for len(out) > 0 && !o.abandoned {
			chunk := out[:min(len(out), outputChunk)]
			o.mu.Unlock()
			n, err := o.w.Write(chunk)
			if err == nil && n < len(chunk) {
				err = io.ErrShortWrite
			}
			o.mu.Lock()
			o.progress = time.Now()
			if err != nil {
				if !o.abandoned {
					o.err = err
					o.lost += int64(o.busy - n + len(o.queue))
					o.queue, o.busy = nil, 0
				}
				return
			}
			out = out[n:]
			o.busy -= n
		}
	}
}

// close waits for Output to take what is queued, as long as it takes some
// every outputQuiet and at most outputLimit, and returns an *OutputError if
// Output did not get everything. An Output still blocked in its Write is
// left there; nothing more is written to it once that call returns.
func (o *asyncOutput) close() error {
	if o == nil {
		return nil
	}
	o.timer.Stop()
	o.mu.Lock()
	o.closing = true
	start := time.Now()
	o.progress = start
	o.mu.Unlock()
	o.wake.Signal()

	tick := time.NewTicker(outputQuiet / 10)
	defer tick.Stop()
wait:
	for {
		select {
		case <-o.done:
			break wait
		case now := <-tick.C:
			o.mu.Lock()
			if now.Sub(o.progress) >= outputQuiet || now.Sub(start) >= outputLimit {
				o.abandoned = true
				if o.err == nil {
					o.err = ErrOutputStalled
				}
				o.lost += int64(o.busy + len(o.queue))
				o.queue, o.busy = nil, 0
				o.mu.Unlock()
				break wait
			}
			o.mu.Unlock()
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		return nil
	}
	return &OutputError{Err: o.err, Lost: o.lost}
}

// textTee is the Filter's Text (or JSONOutput's destination) when there is
// an Output: the stdout artifact and Output are written apart, so that one
// failing does not stop the other. The artifact's lazyio.Writer keeps its
// first error for Flush to return.
type textTee struct {
	artifact io.Writer
	out      *asyncOutput
}

func (t *textTee) Write(p []byte) (int, error) {
	t.artifact.Write(p)
	t.out.Write(p)
	return len(p), nil
}
