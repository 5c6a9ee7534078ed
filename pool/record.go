package pool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A job's states in its record. queued → running → done is the course of
// a job; cancel asks its worker to stop; lost says its worker stopped
// heartbeating after it started ansible; canceled is a job canceled before
// a worker started it; unqueued a job whose message never reached its
// queue. A running job whose worker stops heartbeating
// before it started ansible is queued again as a new attempt.
const (
	stateQueued   = "queued"
	stateRunning  = "running"
	stateCancel   = "cancel"
	stateDone     = "done"
	stateLost     = "lost"
	stateCanceled = "canceled"
	stateUnqueued = "unqueued" // its message never reached the queue, and cannot (see checkQueued)
)

// record is a job's entry in the records bucket. Every change is a
// compare-and-set on the entry's revision, which fences a worker that was
// declared lost (its next heartbeat fails) and makes claim vs cancel a
// race with one winner.
type record struct {
	State   string `json:"state"`
	Queue   string `json:"queue"`
	Attempt int    `json:"attempt"`
	Rerun   bool   `json:"rerun,omitempty"`
	// Object says the payload is in the object store (it is always, with
	// Rerun: a new attempt needs it after the job message is gone).
	Object bool   `json:"object,omitempty"`
	Worker string `json:"worker,omitempty"`
	// Started says the worker is about to start ansible, or has: from
	// then on a lost worker's job is not run again behind the caller's
	// back. Before, it is queued again.
	Started bool `json:"started,omitempty"`
	// Requeued says the attempt before this one was lost before it
	// started: its results end with endRequeued, not endLost.
	Requeued bool `json:"requeued,omitempty"`
	// HeartbeatMS is the worker's heartbeat interval; Beat counts its
	// heartbeats, so that each one changes the entry.
	HeartbeatMS int64 `json:"heartbeat_ms,omitempty"`
	// Token is the last writer's own mark: a compare-and-set retried
	// after its answer was lost (a leader election) finds its own write.
	Token       string `json:"token,omitempty"`
	Beat        int64  `json:"beat,omitempty"`
	Explanation string `json:"explanation,omitempty"`
}

func (r record) heartbeat() time.Duration { return time.Duration(r.HeartbeatMS) * time.Millisecond }

func (r record) encode() []byte {
	b, _ := json.Marshal(r)
	return b
}

func decodeRecord(e jetstream.KeyValueEntry) (record, error) {
	var r record
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return r, fmt.Errorf("pool: job %s: its record is not JSON: %w", e.Key(), err)
	}
	return r, nil
}

// ErrUnknownJob is the error of Attach to a job the server does not know
// (never submitted, or released).
var ErrUnknownJob = errors.New("pool: no such job")

// getRecord reads a job's record.
func (s *store) getRecord(ctx context.Context, id string) (record, uint64, error) {
	var e jetstream.KeyValueEntry
	err := retry(ctx, func(ctx context.Context) (err error) {
		e, err = s.records.Get(ctx, id)
		return err
	})
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return record{}, 0, fmt.Errorf("%w: %s", ErrUnknownJob, id)
	}
	if err != nil {
		return record{}, 0, fmt.Errorf("pool: job %s: %w", id, err)
	}
	r, err := decodeRecord(e)
	return r, e.Revision(), err
}

// change applies f to the job's record until the compare-and-set wins or
// f says there is nothing to do (ok false). It returns the record as it is
// after.
func (s *store) change(ctx context.Context, id string, f func(r *record) (ok bool)) (record, uint64, bool, error) {
	for {
		r, rev, err := s.getRecord(ctx, id)
		if err != nil {
			return r, rev, false, err
		}
		if !f(&r) {
			return r, rev, false, nil
		}
		uctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		nrev, err := s.records.Update(uctx, id, r.encode(), rev)
		cancel()
		if err == nil {
			return r, nrev, true, nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && !errors.Is(err, jetstream.ErrKeyExists) && !transient(err) {
			return r, rev, false, fmt.Errorf("pool: job %s: %w", id, err)
		}
		if ctx.Err() != nil {
			return r, rev, false, ctx.Err()
		}
	}
}
