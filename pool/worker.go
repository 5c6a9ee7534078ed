package pool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/stream"
)

// WorkerOptions configure Serve.
type WorkerOptions struct {
	// Queues are the queues the worker takes jobs from, and the only ones.
	Queues []string
	// Capacity is how many jobs the worker runs at a time (default 1).
	Capacity int
	// Name names the worker in job records and in a lost job's
	// explanation. Default: host name and a unique suffix.
	Name string
	// Heartbeat is how often the worker tells that a job it runs is alive
	// (default 1 s); the controller declares it lost after five missed.
	Heartbeat time.Duration
	// AckWait is how long a job fetched by a worker that died before it
	// started ansible for it waits before it is delivered again (default
	// 30 s); until then the worker keeps it with each heartbeat.
	AckWait time.Duration
	// Replicas: as Options.Replicas.
	Replicas int
	// Worker configures stream.Worker for each job. Its PrivateDataDir
	// must be empty: each job runs in a temporary dir of its own, removed
	// after the run.
	Worker stream.WorkerOptions
	// Logf, when set, gets a line per job taken and ended (never its
	// payload) and per error met while pulling.
	Logf func(format string, args ...any)
}

// Serve runs jobs from opts.Queues until ctx is canceled: it takes at most
// opts.Capacity at a time, runs each through stream.Worker and publishes
// its stream to the job's results, heartbeats while it runs and honours
// the controller's cancel. When ctx is canceled it takes no more jobs,
// cancels the ones running and returns once their streams are published.
func Serve(ctx context.Context, nc *nats.Conn, opts WorkerOptions) error {
	if len(opts.Queues) == 0 {
		return errors.New("pool: a worker needs at least one queue")
	}
	for _, q := range opts.Queues {
		if err := checkQueue(q); err != nil {
			return err
		}
	}
	if opts.Worker.PrivateDataDir != "" {
		return errors.New("pool: WorkerOptions.Worker.PrivateDataDir must be empty: each job gets a temporary dir")
	}
	if opts.Capacity <= 0 {
		opts.Capacity = 1
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = time.Second
	}
	if opts.AckWait <= 0 {
		opts.AckWait = 30 * time.Second
	}
	if opts.Name == "" {
		host, _ := os.Hostname()
		opts.Name = cmpOr(host, "worker") + "-" + nuid.Next()[16:]
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s, err := open(ctx, nc, opts.Replicas)
	if err != nil {
		return err
	}
	w := &worker{s: s, opts: opts, slots: make(chan struct{}, opts.Capacity)}
	var pullers sync.WaitGroup
	for _, q := range opts.Queues {
		cons, err := w.consumer(ctx, q)
		if err != nil {
			return err
		}
		pullers.Go(func() { w.pull(ctx, q, cons) })
	}
	pullers.Wait()
	w.jobs.Wait()
	return nil
}

type worker struct {
	s     *store
	opts  WorkerOptions
	slots chan struct{}
	jobs  sync.WaitGroup
}

// consumer is the queue's durable consumer, shared by all its workers.
func (w *worker) consumer(ctx context.Context, queue string) (jetstream.Consumer, error) {
	var cons jetstream.Consumer
	err := retry(ctx, func(ctx context.Context) (err error) {
		cons, err = w.s.js.CreateOrUpdateConsumer(ctx, JobsStream, jetstream.ConsumerConfig{
			Durable: consumerName(queue), FilterSubject: jobsPrefix + queue + ".>",
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: w.opts.AckWait, MaxDeliver: -1,
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("pool: the consumer of queue %s: %w", queue, err)
	}
	return cons, nil
}

// pull keeps one pull request of one job open per free slot, never more:
// a job fetched waits for no one, so another worker gets what this one
// cannot run now.
func (w *worker) pull(ctx context.Context, queue string, cons jetstream.Consumer) {
	var mu sync.Mutex // guards cons, renewed when the consumer is gone
	var fetchers sync.WaitGroup
	for range cap(w.slots) {
		fetchers.Go(func() {
			for ctx.Err() == nil {
				select {
				case w.slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				mu.Lock()
				c := cons
				mu.Unlock()
				m, err := c.Next(jetstream.FetchMaxWait(500 * time.Millisecond))
				if err == nil {
					w.jobs.Add(1)
					w.handle(ctx, m)
					w.jobs.Done()
				}
				<-w.slots
				if err == nil || errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoMessages) || ctx.Err() != nil {
					continue
				}
				w.opts.Logf("queue %s: fetching jobs: %v", queue, err)
				if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
					if nc, cerr := w.consumer(ctx, queue); cerr == nil {
						mu.Lock()
						cons = nc
						mu.Unlock()
					}
				}
				select {
				case <-ctx.Done():
				case <-time.After(250 * time.Millisecond):
				}
			}
		})
	}
	fetchers.Wait()
}

// handle claims the job of m and runs it. The claim is a compare-and-set
// of its record from queued to running by this worker. The message stays
// unacknowledged (kept from redelivery by in-progress calls with the
// heartbeats) until the worker has recorded that it starts ansible: a
// worker that dies before that leaves the message, and the payload it may
// carry, for the attempt that the controller queues again. A worker that
// finds the job claimed and not started by another leaves the message too
// (delivered again later); one that finds it started, ended, canceled or
// released drops the message without running it.
func (w *worker) handle(ctx context.Context, m jetstream.Msg) {
	subj := m.Subject()
	id := subj[strings.LastIndexByte(subj, '.')+1:]
	token := nuid.Next()
	rec, rev, claimed, err := w.s.change(ctx, id, func(r *record) bool {
		if r.State != stateQueued {
			return false
		}
		r.State, r.Worker, r.HeartbeatMS, r.Beat, r.Explanation, r.Token = stateRunning, w.opts.Name, w.opts.Heartbeat.Milliseconds(), 0, "", token
		r.Started = false
		return true
	})
	if err == nil && !claimed && rec.State == stateRunning && rec.Token == token {
		claimed = true // the claim went through; its answer was lost
	}
	switch {
	case errors.Is(err, ErrUnknownJob):
		// A job message without its record: released, or a submit that
		// failed half-way. Dropped only when that is seen again.
		if meta, merr := m.Metadata(); merr == nil && meta.NumDelivered >= 3 {
			m.Term()
		} else {
			m.NakWithDelay(time.Second)
		}
		return
	case err != nil:
		w.opts.Logf("job %s: claiming it: %v", id, err)
		m.NakWithDelay(time.Second)
		return
	case !claimed && (rec.State == stateRunning || rec.State == stateCancel) && !rec.Started:
		// Its worker unpacks it, or died doing so: the message is the
		// payload of the attempt its controller will queue again.
		m.NakWithDelay(min(max(5*rec.heartbeat(), time.Second), 30*time.Second))
		return
	case !claimed:
		m.Ack()
		return
	}
	w.opts.Logf("job %s (queue %s, attempt %d): claimed", id, rec.Queue, rec.Attempt)
	var payload io.Reader = bytes.NewReader(m.Data())
	if m.Headers().Get(hdrPayloadObj) != "" {
		obj, err := w.s.objects.Get(ctx, id)
		if err != nil {
			payload = errReader{fmt.Errorf("pool: the job's payload: %w", err)}
		} else {
			defer obj.Close()
			payload = obj
		}
	}
	res, err := w.run(ctx, id, rec, rev, &claim{m: m}, payload)
	status := "no result"
	if res != nil {
		status = string(res.Status)
	}
	if err != nil && !errors.As(err, new(*runner.ExitError)) {
		status += ": " + err.Error()
	}
	w.opts.Logf("job %s (attempt %d): %s", id, rec.Attempt, status)
}

// claim is a claimed job's message, acknowledged once.
type claim struct {
	m     jetstream.Msg
	mu    sync.Mutex
	acked bool
}

// inProgress keeps the message from being delivered again.
func (c *claim) inProgress() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.acked {
		c.m.InProgress()
	}
}

func (c *claim) ack(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.acked {
		return nil
	}
	c.acked = true
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.m.DoubleAck(actx)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// run runs a claimed job and publishes its stream, heartbeating all along.
// Just before ansible starts it records the start (markStarted).
func (w *worker) run(ctx context.Context, id string, rec record, rev uint64, cl *claim, payload io.Reader) (*runner.Result, error) {
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	out := newResultWriter(w.s, id, rec.Attempt)
	hbStop := make(chan struct{})
	var hb sync.WaitGroup
	hb.Go(func() { w.heartbeat(id, rec, rev, cl, out, cancel, hbStop) })

	wopts := w.opts.Worker
	configure := wopts.Configure
	wopts.Configure = func(cfg *runner.Config) error {
		if configure != nil {
			if err := configure(cfg); err != nil {
				return err
			}
		}
		// Wrap is the last thing the runner calls before it starts the
		// ansible process (after the private data dir, the isolation and
		// the caller's own Wrap): what comes before can be done again
		// elsewhere, what comes after cannot. Configure is too early (the
		// runner still prepares), the first status line too late (it is
		// written from the runner once the process may exist).
		wrap := cfg.Wrap
		cfg.Wrap = func(c *runner.Command) error {
			if wrap != nil {
				if err := wrap(c); err != nil {
					return err
				}
			}
			return w.markStarted(rctx, id, rec.Attempt, cl, out, cancel)
		}
		return nil
	}
	res, err := stream.Worker(rctx, payload, out, wopts)
	var endErr error
	if !out.isFenced() {
		endErr = out.end(endEOF)
	}
	close(hbStop)
	hb.Wait()
	if out.isFenced() {
		// Not this worker's any more: its message, if it has it still, is
		// the payload of the attempt queued again.
		return res, errors.Join(err, context.Cause(rctx))
	}
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer dcancel()
	final, _, _, cerr := w.s.change(dctx, id, func(r *record) bool {
		if r.Worker != w.opts.Name || r.Attempt != rec.Attempt || (r.State != stateRunning && r.State != stateCancel) {
			return false
		}
		r.State, r.Beat = stateDone, 0
		return true
	})
	if errors.Is(cerr, ErrUnknownJob) {
		cerr = nil // the controller has collected and released it already
	}
	// A run that ended before ansible started (a payload it could not
	// unpack, a cancel) still holds its message: after the record is
	// done, so that a delivery again finds it ended.
	if aerr := cl.ack(dctx); aerr != nil {
		w.opts.Logf("job %s: acknowledging it: %v", id, aerr)
	}
	if cerr == nil && final.Object {
		// The payload's secrets leave the server with the run.
		w.s.deletePayload(dctx, id)
	}
	return res, errors.Join(err, endErr, cerr)
}

// markStarted records in the job's record that ansible starts, by a
// compare-and-set that fails when the job is no longer this worker's (its
// controller queued it again while this worker was silent): then ansible
// does not start and the stream is dropped. Only then is the job's message
// acknowledged. A job canceled meanwhile is not started either.
func (w *worker) markStarted(ctx context.Context, id string, attempt int, cl *claim, out *resultWriter, cancel context.CancelCauseFunc) error {
	mine := func(r *record) bool { return r.Worker == w.opts.Name && r.Attempt == attempt }
	rec, _, _, err := w.s.change(ctx, id, func(r *record) bool {
		if !mine(r) || r.State != stateRunning || r.Started {
			return false
		}
		r.Started = true
		return true
	})
	switch {
	case err == nil && mine(&rec) && rec.State == stateRunning && rec.Started:
		// Started by this call, or by one whose answer was lost.
	case err == nil && mine(&rec) && rec.State == stateCancel:
		cancel(ErrCanceledByController) // the runner stops before ansible starts
		return nil
	case ctx.Err() != nil:
		return nil // canceled: the runner stops before ansible starts
	case err != nil && !errors.Is(err, ErrUnknownJob):
		return fmt.Errorf("pool: job %s: recording its start: %w", id, err)
	default:
		out.fence()
		ferr := fmt.Errorf("%w: job %s is %s (%s)", errFenced, id, rec.State, rec.Explanation)
		if err != nil {
			ferr = fmt.Errorf("%w: job %s was released", errFenced, id)
		}
		cancel(ferr)
		return ferr
	}
	if err := cl.ack(ctx); err != nil {
		// Started all the same: a delivery again finds it started.
		w.opts.Logf("job %s: acknowledging it: %v", id, err)
	}
	w.opts.Logf("job %s (attempt %d): started", id, attempt)
	return nil
}

func (o *resultWriter) isFenced() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.fenced
}

// ErrCanceledByController is the cause of a run canceled by Job.Cancel.
var ErrCanceledByController = errors.New("pool: the controller canceled the job")

// heartbeat bumps the job's record every interval. A compare-and-set that
// fails means someone else changed it: a cancel request cancels the run;
// a record that is no longer this worker's (declared lost, released)
// fences the worker: its run is canceled and its stream dropped. Until
// the job is started, each beat also keeps its message from being
// delivered again.
func (w *worker) heartbeat(id string, rec record, rev uint64, cl *claim, out *resultWriter, cancel context.CancelCauseFunc, stop <-chan struct{}) {
	t := time.NewTicker(w.opts.Heartbeat)
	defer t.Stop()
	canceled := false
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		cl.inProgress()
		ctx, c := context.WithTimeout(context.Background(), max(w.opts.Heartbeat, time.Second))
		rec.Beat++
		nrev, err := w.s.records.Update(ctx, id, rec.encode(), rev)
		if err == nil {
			rev = nrev
			c()
			continue
		}
		e, gerr := w.s.records.Get(ctx, id)
		c()
		if errors.Is(gerr, jetstream.ErrKeyNotFound) || errors.Is(gerr, jetstream.ErrKeyDeleted) {
			out.fence()
			cancel(fmt.Errorf("%w: job %s was released", errFenced, id))
			return
		}
		if gerr != nil {
			continue // the server is away for now; the controller's timeout is the judge
		}
		cur, derr := decodeRecord(e)
		if derr != nil {
			continue
		}
		if cur.Worker != w.opts.Name || cur.Attempt != rec.Attempt || (cur.State != stateRunning && cur.State != stateCancel) {
			out.fence()
			cancel(fmt.Errorf("%w: job %s is %s (%s)", errFenced, id, cur.State, cur.Explanation))
			return
		}
		if cur.State == stateCancel && !canceled {
			canceled = true
			cancel(ErrCanceledByController)
		}
		rec, rev = cur, e.Revision()
	}
}
