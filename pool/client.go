package pool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/stream"
)

// Options configure a Client.
type Options struct {
	// Replicas is how many copies of the pool's streams and buckets the
	// server keeps when this client is the first to use them: 1 (the
	// default) on a single server, 3 in a cluster of three or more.
	Replicas int
	// HeartbeatTimeout is how long the worker of a running job may stay
	// silent before the job is declared lost. Default: five of the
	// worker's heartbeat intervals.
	HeartbeatTimeout time.Duration
	// Keep leaves a job's results on the server after Wait has collected
	// them, until Job.Release; by default Wait releases them.
	Keep bool
	// Process configures the stream.ProcessWith that reads the results.
	Process stream.ProcessOptions
}

// SubmitOptions configure one job.
type SubmitOptions struct {
	// ID names the job: 1-64 letters, digits, '_' or '-'. Default: a
	// unique one. A job whose ID exists is refused with ErrJobExists.
	ID string
	// Rerun lets a job whose worker was lost after it started ansible run
	// again, as a new attempt, on another worker: only for a playbook that
	// can safely run twice. (A job whose worker was lost before is queued
	// again without it.)
	// The lost attempt's run ends with StatusError in the hooks, then the
	// new one starts from the beginning.
	Rerun bool
}

// ErrJobExists is the error of a Submit whose SubmitOptions.ID exists.
var ErrJobExists = errors.New("pool: a job with this ID exists")

// Client submits jobs to a pool and collects their results.
type Client struct {
	s    *store
	opts Options
	// queueCheck is how long a waited-for job may stay queued before
	// its controller checks that its message is on the queue (checkQueued).
	queueCheck time.Duration
}

// NewClient checks that nc's server has JetStream (2.9 or later) and
// creates the pool's streams and buckets when they are missing. nc is the
// caller's, with what credentials and TLS it was given.
func NewClient(ctx context.Context, nc *nats.Conn, opts Options) (*Client, error) {
	s, err := open(ctx, nc, opts.Replicas)
	if err != nil {
		return nil, err
	}
	return &Client{s: s, opts: opts, queueCheck: queueCheck}, nil
}

// Job is a job in the pool.
type Job struct {
	c   *Client
	id  string
	cfg runner.Config
}

// ID returns the job's ID, which Attach takes.
func (j *Job) ID() string { return j.id }

// Submit queues cfg on queue: packed by stream.Transmit (its private data
// dir, env/ secrets included, with what stream.Transmit refuses refused
// here), in the job message or, when large, in the object store. cfg is
// also what Wait reads the results with: its PrivateDataDir gets the
// artifacts, its hooks are called.
func (c *Client) Submit(ctx context.Context, queue string, cfg runner.Config, opts SubmitOptions) (*Job, error) {
	if err := checkQueue(queue); err != nil {
		return nil, err
	}
	id := opts.ID
	if id == "" {
		id = nuid.Next()
	} else if !nameRE.MatchString(id) {
		return nil, fmt.Errorf("pool: job ID %q: want 1-64 letters, digits, '_' or '-'", id)
	}
	var buf bytes.Buffer
	if err := stream.Transmit(&buf, cfg); err != nil {
		return nil, err
	}
	payload := buf.Bytes()
	defer clear(payload) // it holds env/ secrets
	inline := !opts.Rerun && len(payload) <= min(inlinePayload, int(c.s.nc.MaxPayload())-4096)
	rec := record{State: stateQueued, Queue: queue, Attempt: 1, Rerun: opts.Rerun, Object: !inline, Token: nuid.Next()}
	if err := retry(ctx, func(ctx context.Context) error {
		_, err := c.s.records.Create(ctx, id, rec.encode())
		if errors.Is(err, jetstream.ErrKeyExists) {
			if cur, _, gerr := c.s.getRecord(ctx, id); gerr == nil && cur.Token == rec.Token {
				return nil // this submit's create, retried after its answer was lost
			}
		}
		return err
	}); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("%w: %s", ErrJobExists, id)
		}
		return nil, fmt.Errorf("pool: job %s: %w", id, err)
	}
	m := nats.NewMsg(jobSubject(queue, id))
	if inline {
		m.Data = payload
	} else {
		m.Header.Set(hdrPayloadObj, id)
		if err := retryEach(ctx, 10*time.Minute, func(ctx context.Context) error {
			_, err := c.s.objects.PutBytes(ctx, id, payload)
			return err
		}); err != nil {
			c.release(ctx, id)
			return nil, fmt.Errorf("pool: job %s: storing its payload: %w", id, err)
		}
	}
	if err := retry(ctx, func(ctx context.Context) error {
		_, err := c.s.js.PublishMsg(ctx, m, jetstream.WithMsgID(fmt.Sprintf("%s.%d", id, rec.Attempt)))
		return err
	}); err != nil {
		c.release(ctx, id)
		return nil, fmt.Errorf("pool: job %s: queueing it: %w", id, err)
	}
	return &Job{c: c, id: id, cfg: cfg}, nil
}

// Attach returns the job id, whose results Wait replays from the start
// with cfg's hooks and private data dir: how a controller that restarted
// collects the jobs it had submitted.
func (c *Client) Attach(ctx context.Context, id string, cfg runner.Config) (*Job, error) {
	if !nameRE.MatchString(id) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownJob, id)
	}
	if _, _, err := c.s.getRecord(ctx, id); err != nil {
		return nil, err
	}
	return &Job{c: c, id: id, cfg: cfg}, nil
}

// Cancel asks for the job to be canceled: a queued job is taken off its
// queue, a running one's worker cancels ansible (SIGINT to its process
// group, SIGKILL after the grace period) and streams what it got. Wait
// then returns the run with StatusCanceled. Canceling Wait's context, or
// the Config's CancelCallback returning true, calls Cancel.
func (j *Job) Cancel(ctx context.Context) error {
	rec, _, changed, err := j.c.s.change(ctx, j.id, func(r *record) bool {
		switch r.State {
		case stateQueued:
			r.State = stateCanceled
		case stateRunning:
			r.State = stateCancel
		default:
			return false
		}
		return true
	})
	if err != nil || !changed || rec.State != stateCanceled {
		return err
	}
	j.c.dropPayload(ctx, j.id, rec)
	return publishEnd(j.c.s, j.id, rec.Attempt, endCanceled, "")
}

// dropPayload removes the job's payload (its secrets) from the server.
func (c *Client) dropPayload(ctx context.Context, id string, rec record) {
	c.s.purge(ctx, JobsStream, jobSubject(rec.Queue, id))
	if rec.Object {
		c.s.deletePayload(ctx, id)
	}
}

// Release removes everything of the job from the server: its payload, its
// results and its record. Wait does it once it has collected the results,
// unless Options.Keep.
func (j *Job) Release(ctx context.Context) error { return j.c.release(ctx, j.id) }

func (c *Client) release(ctx context.Context, id string) error {
	err := errors.Join(
		c.s.purge(ctx, JobsStream, jobsPrefix+"*."+id),
		c.s.deletePayload(ctx, id),
		c.s.purge(ctx, ResultsStream, resultsPrefix+id+".>"),
		// The record goes with no delete marker left behind.
		c.s.purge(ctx, "KV_"+RecordsBucket, "$KV."+RecordsBucket+"."+id),
	)
	if err != nil {
		return fmt.Errorf("pool: releasing job %s: %w", id, err)
	}
	return nil
}

// Wait reads the job's results through stream.ProcessWith, from the first
// event, and returns when the run has ended: the same hooks, Result,
// artifacts and errors as a local run, and a *WorkerLostError (with
// StatusError) when the worker was lost after it started ansible; an
// attempt whose worker was lost before is passed over, without a word to
// the hooks, for the next one. A job not yet started is waited
// for as long as it takes. Canceling ctx, or the Config's CancelCallback
// returning true, cancels the job (Cancel) and waits for the worker's
// canceled run, for the Config's CancelGrace plus the heartbeat timeout at
// most.
func (j *Job) Wait(ctx context.Context) (*runner.Result, error) {
	rec, _, err := j.c.s.getRecord(ctx, j.id)
	if err != nil {
		return nil, err
	}
	for attempt := rec.Attempt; ; attempt++ {
		res, ended, err := j.waitAttempt(ctx, attempt)
		switch ended {
		case endRequeued:
			// Queued again before it started: the next attempt is the
			// job's run, also when ctx is canceled (its watch cancels it).
			continue
		case endLost:
			if next, _, gerr := j.c.s.getRecord(ctx, j.id); gerr == nil && next.Attempt > attempt && ctx.Err() == nil {
				continue // re-run: the hooks see the new attempt from its start
			}
		}
		if ended != "" && !j.c.opts.Keep {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			if rerr := j.c.release(rctx, j.id); rerr != nil && err == nil {
				err = rerr
			}
			cancel()
		}
		return res, err
	}
}

// waitAttempt processes one attempt's results; ended is its end marker,
// empty when the results could not be read to their end. An attempt whose
// results end with endRequeued before anything else is not processed: the
// hooks see nothing of it.
func (j *Job) waitAttempt(ctx context.Context, attempt int) (*runner.Result, string, error) {
	pctx, pcancel := context.WithCancelCause(context.Background())
	defer pcancel(nil)
	octx := ctx
	if ctx.Err() != nil {
		// Canceled, after an attempt queued again: this one's watch
		// cancels the job, and its results say how that ended.
		var ocancel context.CancelFunc
		octx, ocancel = context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer ocancel()
	}
	rr, err := j.c.s.openResults(octx, j.id, attempt, func() { pcancel(runner.ErrCanceled) })
	if err != nil {
		return nil, "", err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { j.watch(ctx, attempt, rr, pcancel, stop) })
	select {
	case <-rr.first:
	case <-pctx.Done():
	}
	if rr.requeued() {
		close(stop)
		wg.Wait()
		rr.finish(0)
		return nil, endRequeued, nil
	}
	inner := j.cfg
	inner.CancelCallback = nil
	res, err := stream.ProcessWith(pctx, rr, inner, j.c.opts.Process)
	close(stop)
	wg.Wait()
	rr.finish(5 * time.Second)
	if ctx.Err() != nil && err != nil && !errors.Is(err, ctx.Err()) {
		err = errors.Join(err, context.Cause(ctx))
	}
	return res, rr.ended, err
}

// watch follows the job's record while an attempt is read: it declares the
// worker lost when its heartbeats stop, ends the results of a job that
// someone else declared lost or canceled before it started, and turns a
// cancel of ctx or of the CancelCallback into Cancel.
func (j *Job) watch(ctx context.Context, attempt int, rr *resultReader, pcancel context.CancelCauseFunc, stop <-chan struct{}) {
	s := j.c.s
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// What waits on the server (a watch being set up again while the
	// connection is away) stops with the watch.
	go func() { <-stop; cancel() }()
	var updates <-chan jetstream.KeyValueEntry
	startWatch := func() {
		var kw jetstream.KeyWatcher
		if retry(wctx, func(ctx context.Context) (err error) {
			kw, err = s.records.Watch(wctx, j.id)
			return err
		}) == nil {
			updates = kw.Updates()
		}
	}
	startWatch()
	var (
		rec        record
		rev        uint64
		known      bool
		seen       = time.Now()
		cancelSent bool
		giveUp     time.Time
		checked    time.Time
	)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case e, ok := <-updates:
			if !ok {
				updates = nil
				startWatch()
				continue
			}
			if e == nil {
				continue // the current value has been given
			}
			if e.Operation() != jetstream.KeyValuePut {
				rr.fail(fmt.Errorf("%w: %s was released while it was read", ErrUnknownJob, j.id))
				return
			}
			r, err := decodeRecord(e)
			if err != nil {
				continue
			}
			rec, rev, known, seen = r, e.Revision(), true, time.Now()
			switch {
			case rec.Attempt == attempt+1 && rec.Requeued:
				// Queued again before it started (by another controller,
				// or before a restart): the marker may not have been
				// written. Its message is still on the queue.
				publishEnd(s, j.id, attempt, endRequeued, rec.Explanation)
			case rec.Attempt > attempt, rec.State == stateLost && rec.Attempt == attempt:
				// Lost (by another controller, or before a restart): the
				// marker may not have been written.
				if rec.State == stateQueued && !rec.Requeued {
					j.requeue(rec)
				}
				publishEnd(s, j.id, attempt, endLost, cmpOr(rec.Explanation, "the worker was lost"))
			case rec.State == stateCanceled:
				publishEnd(s, j.id, attempt, endCanceled, "")
			case rec.State == stateUnqueued && rec.Attempt == attempt:
				publishEnd(s, j.id, attempt, endUnqueued, rec.Explanation)
			}
		case <-tick.C:
		}
		now := time.Now()
		if !cancelSent && (ctx.Err() != nil || j.cfg.CancelCallback != nil && j.cfg.CancelCallback()) {
			cancelSent = true
			cctx, c := context.WithTimeout(wctx, 10*time.Second)
			j.Cancel(cctx)
			c()
			grace := j.cfg.CancelGrace
			if grace <= 0 {
				grace = 5 * time.Second
			}
			giveUp = now.Add(grace + j.timeout(rec) + 5*time.Second)
		}
		if cancelSent && now.After(giveUp) {
			pcancel(runner.ErrCanceled)
			return
		}
		switch {
		case !known:
		case rec.State == stateDone || rec.Attempt > attempt || rec.State == stateLost || rec.State == stateCanceled || rec.State == stateUnqueued:
			rr.kick(2 * time.Second) // its end is there to read
		case rec.State == stateRunning || rec.State == stateCancel:
			rr.kick(10 * time.Second)
		}
		if known && (rec.State == stateRunning || rec.State == stateCancel) && rec.Attempt == attempt && now.Sub(seen) > j.timeout(rec) {
			j.declareLost(wctx, rec, rev, now.Sub(seen))
			seen = now // the watch shows what came of it
		}
		if known && rec.State == stateQueued && rec.Attempt == attempt && now.Sub(seen) > j.c.queueCheck && now.Sub(checked) > j.c.queueCheck {
			j.checkQueued(wctx)
			checked = now
		}
	}
}

// timeout is how long rec's worker may stay silent.
func (j *Job) timeout(rec record) time.Duration {
	if t := j.c.opts.HeartbeatTimeout; t > 0 {
		return t
	}
	if hb := rec.heartbeat(); hb > 0 {
		return 5 * hb
	}
	return 5 * time.Second
}

// declareLost ends the attempt of a silent worker if its record is still
// rev. A job it had not started goes back to its queue as a new attempt
// (its message is still on the queue, unacknowledged, and is delivered
// again once the consumer's ack wait has passed), or ends canceled if a
// cancel was asked for; the attempt's results end with endRequeued, which
// Wait passes over without a word to the hooks. A started job is lost (or,
// with Rerun, queued again as a new attempt).
func (j *Job) declareLost(ctx context.Context, rec record, rev uint64, silent time.Duration) {
	lost := rec
	lost.Explanation = fmt.Sprintf("worker %s lost: no heartbeat for %v", rec.Worker, silent.Round(time.Millisecond))
	lost.State, lost.Requeued = stateLost, false
	end := endLost
	switch {
	case !rec.Started && rec.State == stateCancel:
		lost.State, end = stateCanceled, endCanceled
	case !rec.Started:
		lost.State, lost.Attempt, lost.Worker, lost.Beat, lost.Requeued = stateQueued, rec.Attempt+1, "", 0, true
		lost.Explanation = fmt.Sprintf("worker %s lost before it started ansible: no heartbeat for %v; queued again as attempt %d",
			rec.Worker, silent.Round(time.Millisecond), lost.Attempt)
		end = endRequeued
	case rec.Rerun:
		lost.State, lost.Attempt, lost.Worker, lost.Beat = stateQueued, rec.Attempt+1, "", 0
		lost.Explanation += fmt.Sprintf("; re-run as attempt %d", lost.Attempt)
	}
	lost.Started = false
	if _, err := j.c.s.records.Update(ctx, j.id, lost.encode(), rev); err != nil {
		return // the worker spoke after all, or someone else decided
	}
	switch {
	case end == endCanceled:
		j.c.dropPayload(ctx, j.id, lost)
		lost.Explanation = ""
	case lost.State == stateQueued && !lost.Requeued:
		j.requeue(lost) // before the end: Wait then waits for the new attempt
	}
	publishEnd(j.c.s, j.id, rec.Attempt, end, lost.Explanation)
}

// ErrNotQueued ends a job whose message never reached its queue and whose
// payload is not on the server: its controller stopped (or lost the
// server) between creating the job's record and queueing its message.
var ErrNotQueued = errors.New("pool: the job never reached its queue")

// checkQueued makes sure that a job queued for long has its message on
// its queue: a controller that stopped between creating a job's record
// and publishing its message (in Submit), or between queueing a re-run
// again and publishing the new attempt's, leaves a record no worker will
// ever see. A payload in the object store is queued again (a duplicate of
// a message that was there after all finds the job claimed); a payload
// that was only in the message is gone: the job ends with ErrNotQueued.
// The compare-and-set of the record makes a message that arrives late
// (its Submit was slower than queueCheck, not dead) find the job ended.
func (j *Job) checkQueued(ctx context.Context) {
	s := j.c.s
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rec, rev, err := s.getRecord(ctx, j.id)
	if err != nil || rec.State != stateQueued {
		return
	}
	if _, err := s.streams[JobsStream].GetLastMsgForSubject(ctx, jobSubject(rec.Queue, j.id)); !errors.Is(err, jetstream.ErrMsgNotFound) {
		return // on its queue, or no telling now
	}
	if rec.Object {
		if _, err := s.objects.GetInfo(ctx, j.id); err == nil {
			j.requeue(rec)
			return
		}
	}
	ended := rec
	ended.State = stateUnqueued
	ended.Explanation = fmt.Sprintf("queued for more than %v, its message is not on queue %s and its payload is not on the server "+
		"(its controller stopped while submitting it?)", j.c.queueCheck, rec.Queue)
	if _, err := s.records.Update(ctx, j.id, ended.encode(), rev); err != nil {
		return
	}
	j.c.dropPayload(ctx, j.id, ended)
	publishEnd(s, j.id, rec.Attempt, endUnqueued, ended.Explanation)
}

// requeue publishes the job message of a new attempt; a duplicate of it
// does no harm: the worker that gets it finds the job claimed.
func (j *Job) requeue(rec record) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := nats.NewMsg(jobSubject(rec.Queue, j.id))
	m.Header.Set(hdrPayloadObj, j.id)
	retry(ctx, func(ctx context.Context) error {
		_, err := j.c.s.js.PublishMsg(ctx, m, jetstream.WithMsgID(fmt.Sprintf("%s.%d", j.id, rec.Attempt)))
		return err
	})
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
