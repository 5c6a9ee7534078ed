package runner

import (
	"sync"

	"github.com/arunner/arunner/privdata"
)

const (
	// sinkWriters is how many goroutines create job_events files. Creating
	// a file costs an inode allocation, which the kernel does mostly in the
	// calling thread; two writers keep both cores of a small machine busy
	// while the reader decodes, and more only fight over the directory lock.
	sinkWriters = 2
	// sinkQueue bounds the events waiting to be written, and
	// sinkQueueBytes their total size, so that a disk slower than ansible
	// slows the reader down (back pressure on the pty) instead of growing
	// memory. One event larger than sinkQueueBytes still goes through,
	// alone.
	sinkQueue      = 1024
	sinkQueueBytes = 8 << 20
)

// eventWriter is what the sink calls to create one file: the artifacts'
// WriteEvent, or a stub in tests.
type eventWriter func(counter int, uuid string, data []byte) error

func newEventSink(art *privdata.Artifacts) *asyncSink { return newAsyncSink(art.WriteEvent) }

// asyncSink persists job_events files. The reader goroutine hands it each
// kept event in order; close returns once everything handed over is on disk
// (or failed), and the first error. close is called before the final status,
// so FinishedCallback sees every file.
//
// It writes events from a few goroutines, so the pty reader never
// waits on the disk unless the queue is full. Files appear in any order;
// each one is complete once its WriteEvent returns, and close waits for
// all of them. Writers start with the first event, so a run whose handler
// keeps nothing starts none.
type asyncSink struct {
	writeEvent eventWriter
	queue      chan sinkItem
	start      sync.Once
	done       sync.WaitGroup
	closed     bool

	mu       sync.Mutex
	room     *sync.Cond // signaled when queued bytes go down
	queued   int        // bytes of data in the queue or being written
	firstErr error      // the error of the lowest counter that failed
	errAt    int
}

type sinkItem struct {
	counter int
	uuid    string
	data    []byte
}

func newAsyncSink(w eventWriter) *asyncSink {
	s := &asyncSink{writeEvent: w, queue: make(chan sinkItem, sinkQueue)}
	s.room = sync.NewCond(&s.mu)
	return s
}

// write takes ownership of data: the caller must not modify data[:len]
// afterwards (appending past it is fine).
func (s *asyncSink) write(counter int, uuid string, data []byte) {
	s.start.Do(func() {
		for range sinkWriters {
			s.done.Add(1)
			go s.drain()
		}
	})
	s.mu.Lock()
	for s.queued > 0 && s.queued+len(data) > sinkQueueBytes {
		s.room.Wait()
	}
	s.queued += len(data)
	s.mu.Unlock()
	s.queue <- sinkItem{counter, uuid, data}
}

func (s *asyncSink) drain() {
	defer s.done.Done()
	for it := range s.queue {
		err := s.writeEvent(it.counter, it.uuid, it.data)
		s.mu.Lock()
		s.queued -= len(it.data)
		if err != nil && (s.firstErr == nil || it.counter < s.errAt) {
			s.firstErr, s.errAt = err, it.counter
		}
		s.mu.Unlock()
		s.room.Broadcast()
	}
}

// close waits for every event handed to write and returns the error of the
// lowest counter that failed: writers finish out of order, and the caller
// should see the same error whichever goroutine hit it first. Every event is
// attempted even after a failure. close must
// not run concurrently with write; a second call returns the same error.
func (s *asyncSink) close() error {
	if !s.closed {
		s.closed = true
		close(s.queue)
		s.done.Wait()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstErr
}
