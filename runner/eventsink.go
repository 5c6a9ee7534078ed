package runner

import (
	"sync"
	"time"

	"github.com/arunner/arunner/internal/lazyio"
	"github.com/arunner/arunner/privdata"
)

const (
	// sinkWriters is how many goroutines create job_events files. Creating
	// a file costs an inode allocation, which the kernel does mostly in the
	// calling thread; two writers keep both cores of a small machine busy
	// while the reader decodes, and more only fight over the directory lock.
	sinkWriters = 2
	// sinkBatch queued events (or sinkBatchBytes of them) wake a writer at
	// once; fewer wait up to lazyio.Delay. A real ansible run delivers
	// events one at a time, hundreds a second, and waking a writer for each
	// cost more CPU than the file; a replayed burst fills a batch at once.
	sinkBatch      = 64
	sinkBatchBytes = 1 << 20
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

// newEventSink writes art's job_events files through a privdata.EventWriter
// (one name looked up per file, not the whole path), opened with the first
// event and closed by close. Should the directory not open, the files go
// through WriteEvent, whose errors name each file.
func newEventSink(art *privdata.Artifacts) *asyncSink {
	s := newAsyncSink(art.WriteEvent)
	s.open = func() (eventWriter, func() error) {
		w, err := art.OpenEventWriter()
		if err != nil {
			return art.WriteEvent, nil
		}
		return w.Write, w.Close
	}
	return s
}

// asyncSink persists job_events files. The reader goroutine hands it each
// kept event in order; close returns once everything handed over is on disk
// (or failed), and the first error. close is called before the final status,
// so FinishedCallback sees every file.
//
// It writes events from a few goroutines, so the pty reader never waits on
// the disk unless the queue is full, and in batches: a file is on disk at
// most lazyio.Delay after its event was handed over (sooner when events come
// fast). Files appear in any order; each one is complete once its
// WriteEvent returns, and close waits for all of them. Writers start with
// the first event, so a run whose handler keeps nothing starts none.
type asyncSink struct {
	writeEvent eventWriter
	// open, if set, is called before the writers start and replaces
	// writeEvent; its closer runs once they are done.
	open       func() (eventWriter, func() error)
	closeWrite func() error
	start      sync.Once
	done       sync.WaitGroup
	closed     bool
	timer      *time.Timer

	mu       sync.Mutex
	work     *sync.Cond // signaled when writers have a batch to take
	room     *sync.Cond // signaled when queued bytes go down
	items    []sinkItem // handed over, not yet taken by a writer
	due      bool       // the delay passed: write what is queued, batch or not
	armed    bool       // timer is set
	ending   bool       // close was called: write everything, then stop
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
	s := &asyncSink{writeEvent: w}
	s.work = sync.NewCond(&s.mu)
	s.room = sync.NewCond(&s.mu)
	s.timer = time.AfterFunc(time.Hour, func() {
		s.mu.Lock()
		s.armed, s.due = false, true
		s.mu.Unlock()
		s.work.Broadcast()
	})
	s.timer.Stop()
	return s
}

// write takes ownership of data: the caller must not modify data[:len]
// afterwards (appending past it is fine).
func (s *asyncSink) write(counter int, uuid string, data []byte) {
	s.start.Do(func() {
		if s.open != nil {
			s.writeEvent, s.closeWrite = s.open()
		}
		for range sinkWriters {
			s.done.Add(1)
			go s.drain()
		}
	})
	s.mu.Lock()
	for s.queued > 0 && (s.queued+len(data) > sinkQueueBytes || len(s.items) >= sinkQueue) {
		s.room.Wait()
	}
	s.queued += len(data)
	s.items = append(s.items, sinkItem{counter, uuid, data})
	switch {
	case len(s.items) >= sinkBatch || s.queued >= sinkBatchBytes || s.due:
		s.work.Signal()
	case !s.armed:
		s.armed = true
		s.timer.Reset(lazyio.Delay)
	}
	s.mu.Unlock()
}

// take waits for a batch and removes it from the queue; false means the
// sink is closed and empty.
func (s *asyncSink) take(batch []sinkItem) ([]sinkItem, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.items) < sinkBatch && s.queued < sinkBatchBytes && !s.due && !s.ending || len(s.items) == 0 {
		if s.ending {
			return nil, false
		}
		s.work.Wait()
	}
	n := min(len(s.items), sinkBatch)
	batch = append(batch[:0], s.items[:n]...)
	rest := copy(s.items, s.items[n:])
	clear(s.items[rest:]) // drop the references to written data
	s.items = s.items[:rest]
	switch {
	case rest == 0:
		s.due = false
	case rest >= sinkBatch || s.due || s.ending:
		s.work.Signal() // another writer takes the rest
	}
	return batch, true
}

func (s *asyncSink) drain() {
	defer s.done.Done()
	var batch []sinkItem
	for {
		var ok bool
		if batch, ok = s.take(batch); !ok {
			return
		}
		bytes := 0
		for _, it := range batch {
			err := s.writeEvent(it.counter, it.uuid, it.data)
			bytes += len(it.data)
			if err != nil {
				s.mu.Lock()
				if s.firstErr == nil || it.counter < s.errAt {
					s.firstErr, s.errAt = err, it.counter
				}
				s.mu.Unlock()
			}
		}
		clear(batch)
		s.mu.Lock()
		s.queued -= bytes
		s.mu.Unlock()
		s.room.Broadcast()
	}
}

// close waits for every event handed to write and returns the error of the
// lowest counter that failed: writers finish out of order, and the caller
// should see the same error whichever goroutine hit it first. Every event is
// attempted even after a failure. close must not run concurrently with
// write; a second call returns the same error.
func (s *asyncSink) close() error {
	if !s.closed {
		s.closed = true
		s.mu.Lock()
		s.ending = true
		s.timer.Stop()
		s.mu.Unlock()
		s.work.Broadcast()
		s.done.Wait()
		if s.closeWrite != nil {
			s.closeWrite()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstErr
}
