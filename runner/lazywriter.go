package runner

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// lazyDelay is how long text may wait in the stdout artifact's buffer, and
// job_events files in the sink's queue, before they are written.
const lazyDelay = 50 * time.Millisecond

// lazyWriter buffers the stdout artifact and writes it out when 64 KiB have
// gathered, or delay after the first byte not yet written. A real ansible
// run prints in small pieces, hundreds a second; writing each piece as it
// came cost a system call and, after every idle moment, a wake-up of the Go
// runtime's monitor thread, several times the CPU of the text itself. A
// reader of the artifact sees the text at most delay late; Flush writes
// everything at once.
type lazyWriter struct {
	mu    sync.Mutex
	w     *bufio.Writer
	delay time.Duration
	timer *time.Timer
	armed bool // timer is set to flush the buffer
}

func newLazyWriter(w io.Writer, delay time.Duration) *lazyWriter {
	l := &lazyWriter{w: bufio.NewWriterSize(w, 64<<10), delay: delay}
	l.timer = time.AfterFunc(time.Hour, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.armed = false
		_ = l.w.Flush() // a failure sticks: the next Write or Flush returns it
	})
	l.timer.Stop()
	return l
}

// Write buffers p. A write error sticks, as bufio.Writer's does: it is
// returned by every later Write and Flush.
func (l *lazyWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(p)
	if !l.armed && l.w.Buffered() > 0 {
		l.armed = true
		l.timer.Reset(l.delay)
	}
	return n, err
}

// Flush writes what is buffered now.
func (l *lazyWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.armed {
		l.timer.Stop()
		l.armed = false
	}
	return l.w.Flush()
}
