package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The worker's stream goes to the job's results subject in chunks of at
// most maxChunk bytes, at least every flushEvery while it runs, so that the
// controller sees events as they come without a message per event.
const (
	maxChunk   = 256 << 10
	flushEvery = 20 * time.Millisecond
	publishFor = 2 * time.Minute // how long a chunk is retried through leader elections
)

// errFenced is what the worker's stream writes return once the job is no
// longer the worker's (declared lost, released).
var errFenced = errors.New("pool: the job is no longer this worker's")

// resultWriter is the worker's stream, published to the results subject of
// one attempt of a job. Each message has a Nats-Msg-Id of its own, so that
// a publish retried after a lost acknowledgement is stored once.
type resultWriter struct {
	s       *store
	subject string
	msgID   string // id.attempt
	max     int

	mu     sync.Mutex
	buf    []byte
	n      int
	err    error
	fenced bool

	stop chan struct{}
	wg   sync.WaitGroup
}

func newResultWriter(s *store, id string, attempt int) *resultWriter {
	w := &resultWriter{s: s, subject: resultsSubject(id, attempt), msgID: fmt.Sprintf("%s.%d", id, attempt),
		max: maxChunk, stop: make(chan struct{})}
	if mp := int(s.nc.MaxPayload()) - 4096; mp > 0 && mp < w.max {
		w.max = mp
	}
	w.wg.Go(func() {
		t := time.NewTicker(flushEvery)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
				w.mu.Lock()
				if len(w.buf) > 0 && w.err == nil {
					w.err = w.publishLocked(w.buf, "", "")
					w.buf = w.buf[:0]
				}
				w.mu.Unlock()
			}
		}
	})
	return w
}

func (w *resultWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	w.buf = append(w.buf, p...)
	for len(w.buf) >= w.max {
		if w.err = w.publishLocked(w.buf[:w.max], "", ""); w.err != nil {
			return 0, w.err
		}
		w.buf = w.buf[:copy(w.buf, w.buf[w.max:])]
	}
	return len(p), nil
}

// publishLocked publishes data, or, when end is set, the attempt's end
// marker (whose Msg-Id is the same whoever writes it: the first one wins).
func (w *resultWriter) publishLocked(data []byte, end, text string) error {
	if w.fenced {
		return errFenced
	}
	w.n++
	id := fmt.Sprintf("%s.%d", w.msgID, w.n)
	if end != "" {
		id = w.msgID + ".end"
	}
	return publish(w.s, w.subject, id, data, end, text)
}

func publish(s *store, subject, msgID string, data []byte, end, text string) error {
	m := nats.NewMsg(subject)
	m.Data = data
	if end != "" {
		m.Header.Set(hdrEnd, end)
		m.Data = []byte(text)
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishFor)
	defer cancel()
	err := retry(ctx, func(ctx context.Context) error {
		_, err := s.js.PublishMsg(ctx, m, jetstream.WithMsgID(msgID))
		return err
	})
	if err != nil {
		return fmt.Errorf("pool: publishing to %s: %w", subject, err)
	}
	return nil
}

// fence stops the writer for good: what is buffered is dropped.
func (w *resultWriter) fence() {
	w.mu.Lock()
	w.fenced = true
	w.buf = nil
	w.mu.Unlock()
}

// end flushes what is buffered and publishes the end marker.
func (w *resultWriter) end(kind string) error {
	close(w.stop)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil && len(w.buf) > 0 {
		w.err = w.publishLocked(w.buf, "", "")
	}
	clear(w.buf)
	if w.err != nil {
		return w.err
	}
	return w.publishLocked(nil, kind, "")
}

// publishEnd ends an attempt's stream from the controller's side: a lost
// worker's, or a job canceled before a worker claimed it.
func publishEnd(s *store, id string, attempt int, kind, text string) error {
	return publish(s, resultsSubject(id, attempt), fmt.Sprintf("%s.%d.end", id, attempt), nil, kind, text)
}

// resultReader is an attempt's results, replayed from the first message
// and followed live, as the worker's stream that stream.Process reads.
type resultReader struct {
	s       *store
	subject string
	pr      *io.PipeReader
	pw      *io.PipeWriter
	done    chan struct{}
	stop    chan struct{}

	mu      sync.Mutex
	msgs    jetstream.MessagesContext
	lastSeq uint64    // the stream sequence of the last message read
	lastAt  time.Time // when it was read (or the reading started)
	stopped bool
	// ended is the end marker met, if any.
	ended string
	// first is closed when the first message has come (or the reading
	// ended); onlyEnd says it was an end marker.
	first     chan struct{}
	firstOnce sync.Once
	onlyEnd   bool
}

// requeued says the attempt ended with endRequeued before anything else
// came: its worker was lost before it started ansible, and wrote nothing.
func (r *resultReader) requeued() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.onlyEnd && r.ended == endRequeued
}

// openResults starts reading the results of attempt; canceled is called
// when the stream ends with a job canceled before it started.
func (s *store) openResults(ctx context.Context, id string, attempt int, canceled func()) (*resultReader, error) {
	r := &resultReader{s: s, subject: resultsSubject(id, attempt), done: make(chan struct{}), stop: make(chan struct{}),
		first: make(chan struct{}), lastAt: time.Now()}
	firstCame := func(end string) {
		r.firstOnce.Do(func() {
			r.mu.Lock()
			r.onlyEnd = end != ""
			r.mu.Unlock()
			close(r.first)
		})
	}
	msgs, err := r.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("pool: reading the results of job %s: %w", id, err)
	}
	r.msgs = msgs
	r.pr, r.pw = io.Pipe()
	go func() {
		defer close(r.done)
		defer firstCame("")
		for {
			m, err := msgs.Next()
			if err != nil {
				if msgs, err = r.reopen(err); err != nil {
					r.pw.CloseWithError(fmt.Errorf("pool: reading the results of job %s: %w", id, err))
					return
				}
				continue
			}
			if meta, err := m.Metadata(); err == nil {
				r.mu.Lock()
				if meta.Sequence.Stream <= r.lastSeq {
					r.mu.Unlock()
					continue // read before a reopen
				}
				r.lastSeq, r.lastAt = meta.Sequence.Stream, time.Now()
				r.mu.Unlock()
			}
			end := m.Headers().Get(hdrEnd)
			switch end {
			case endEOF, endLost, endRequeued, endCanceled, endUnqueued:
				r.mu.Lock()
				r.ended = end
				r.mu.Unlock()
			}
			firstCame(end)
			switch end {
			case "":
				// After Process stopped reading (it has its eof line), what
				// comes is dropped until the end marker.
				r.pw.Write(m.Data())
				continue
			case endEOF:
				r.pw.Close()
			case endLost, endRequeued:
				// endRequeued here is an attempt queued again after its
				// stream had begun (a keepalive came first): Process ends
				// as for a lost worker, then Wait reads the new attempt.
				r.pw.CloseWithError(&WorkerLostError{Job: id, Attempt: attempt, Explanation: string(m.Data())})
			case endCanceled:
				canceled() // Process then closes the reader
			case endUnqueued:
				r.pw.CloseWithError(fmt.Errorf("%w: job %s: %s", ErrNotQueued, id, m.Data()))
			default:
				r.pw.CloseWithError(fmt.Errorf("pool: job %s: unknown end marker %q", id, end))
			}
			return
		}
	}()
	return r, nil
}

// open starts an ordered consumer of the attempt's results after the last
// message read.
func (r *resultReader) open(ctx context.Context) (jetstream.MessagesContext, error) {
	r.mu.Lock()
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{r.subject}}
	if r.lastSeq > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, r.lastSeq+1
	}
	r.mu.Unlock()
	var msgs jetstream.MessagesContext
	err := retry(ctx, func(ctx context.Context) error {
		cons, err := r.s.js.OrderedConsumer(ctx, ResultsStream, cfg)
		if err != nil {
			return err
		}
		// Short pulls: a consumer lost with its server (a cluster node
		// gone) is noticed, and made again, within a few seconds.
		msgs, err = cons.Messages(jetstream.PullExpiry(2 * time.Second))
		return err
	})
	return msgs, err
}

// reopen starts reading again after err ended the reading: a stop (kick)
// or a consumer that failed.
func (r *resultReader) reopen(err error) (jetstream.MessagesContext, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-r.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	r.mu.Lock()
	stopped := r.stopped
	r.mu.Unlock()
	if stopped {
		return nil, err
	}
	msgs, oerr := r.open(ctx)
	if oerr != nil {
		return nil, errors.Join(err, oerr)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		msgs.Stop()
		return nil, err
	}
	r.msgs, r.lastAt = msgs, time.Now()
	return msgs, nil
}

// kick makes the reading start again after the last message read, when
// nothing has come for quiet: an ordered consumer can stay stuck after its
// server was killed (seen with nats-server 2.9.10).
func (r *resultReader) kick(quiet time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped && time.Since(r.lastAt) > quiet {
		r.lastAt = time.Now()
		r.msgs.Stop()
	}
}

func (r *resultReader) Read(p []byte) (int, error) { return r.pr.Read(p) }

// Close stops the reading at once.
func (r *resultReader) Close() error {
	r.finish(0)
	return nil
}

// finish stops the reading once the end marker has come, or wait has
// passed: the stream's eof line comes before the marker, and Process
// returns on the line.
func (r *resultReader) finish(wait time.Duration) {
	r.pr.CloseWithError(io.ErrClosedPipe)
	if wait > 0 {
		select {
		case <-r.done:
		case <-time.After(wait):
		}
	}
	r.mu.Lock()
	if !r.stopped {
		r.stopped = true
		close(r.stop)
	}
	r.msgs.Stop()
	r.mu.Unlock()
	<-r.done
}

// fail ends the stream with err.
func (r *resultReader) fail(err error) { r.pw.CloseWithError(err) }

// WorkerLostError ends a job whose worker stopped heartbeating after it
// started ansible for the job: the job may have run in part.
type WorkerLostError struct {
	Job         string
	Attempt     int
	Explanation string // names the worker and says for how long it was silent
}

func (e *WorkerLostError) Error() string {
	return fmt.Sprintf("pool: job %s, attempt %d: %s", e.Job, e.Attempt, e.Explanation)
}
