// Package lazyio holds a writer that batches small writes in time: what
// comes in pieces, hundreds a second, goes out together a moment later.
package lazyio

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// Delay is the delay arunner uses: short enough that a person watching
// does not notice it.
const Delay = 50 * time.Millisecond

// Writer buffers what is written to it and writes it out when 64 KiB have
// gathered, or a delay after the first byte not yet written. A real ansible
// run prints in small pieces, hundreds a second; writing each piece as it
// came cost a system call and, after every idle moment, a wake-up of the Go
// runtime's monitor thread, several times the CPU of the text itself. A
// reader sees the text at most the delay late; Flush writes everything at
// once. A Writer is safe for concurrent use.
type Writer struct {
	mu    sync.Mutex
	w     *bufio.Writer
	delay time.Duration
	timer *time.Timer
	armed bool // timer is set to flush the buffer
}

// New returns a Writer that writes to w. Its timer writes from a goroutine
// of its own.
func New(w io.Writer, delay time.Duration) *Writer {
	l := &Writer{w: bufio.NewWriterSize(w, 64<<10), delay: delay}
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
func (l *Writer) Write(p []byte) (int, error) {
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
func (l *Writer) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.armed {
		l.timer.Stop()
		l.armed = false
	}
	return l.w.Flush()
}
