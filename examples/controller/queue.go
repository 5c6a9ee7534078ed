package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Message is what a running job sends the callback receiver: one event, or
// the job's EOF with the counter of its last event (AWX's final_counter).
type Message struct {
	Job          int64           `json:"job"`
	Event        json.RawMessage `json:"event,omitempty"`
	EOF          bool            `json:"eof,omitempty"`
	FinalCounter int             `json:"final_counter,omitempty"`
}

// Delivery is a received message, to be acknowledged once stored.
type Delivery struct {
	ID string
	Message
}

// Queue is the seam between the jobs and the callback receiver: an
// in-process queue by default, a Redis stream when one is configured.
// Delivery is at least once: a message received but not acknowledged is
// received again (after a receiver restart), so the receiver's insert must
// be idempotent.
type Queue interface {
	Publish(ctx context.Context, msgs []Message) error
	// Receive blocks until messages are there or ctx ends.
	Receive(ctx context.Context) ([]Delivery, error)
	Ack(ctx context.Context, ds []Delivery) error
	Close() error
}

// memQueue is the in-process queue.
type memQueue struct {
	mu    sync.Mutex
	msgs  []Message
	ready chan struct{} // closed and replaced when msgs grows
}

func newMemQueue() *memQueue { return &memQueue{ready: make(chan struct{})} }

func (q *memQueue) Publish(_ context.Context, msgs []Message) error {
	q.mu.Lock()
	q.msgs = append(q.msgs, msgs...)
	close(q.ready)
	q.ready = make(chan struct{})
	q.mu.Unlock()
	return nil
}

func (q *memQueue) Receive(ctx context.Context) ([]Delivery, error) {
	for {
		q.mu.Lock()
		msgs, ready := q.msgs, q.ready
		q.msgs = nil
		q.mu.Unlock()
		if len(msgs) > 0 {
			ds := make([]Delivery, len(msgs))
			for i, m := range msgs {
				ds[i] = Delivery{Message: m}
			}
			return ds, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (q *memQueue) Ack(context.Context, []Delivery) error { return nil }
func (q *memQueue) Close() error                          { return nil }

// redisQueue is one Redis stream read through a consumer group: XADD to
// publish, XREADGROUP to receive, XACK once stored. Messages received but
// not acknowledged stay pending and are read again first after a restart.
type redisQueue struct {
	c        *redis.Client
	stream   string
	group    string
	consumer string
	pending  bool // read our pending entries (ID 0) before new ones
}

func newRedisQueue(addr string) *redisQueue {
	return &redisQueue{
		c:      redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1}),
		stream: "controller:events", group: "receiver", consumer: "receiver-1", pending: true,
	}
}

func (q *redisQueue) Publish(ctx context.Context, msgs []Message) error {
	_, err := q.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range msgs {
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: q.stream, Values: []any{"m", string(b)}})
		}
		return nil
	})
	return err
}

func (q *redisQueue) Receive(ctx context.Context) ([]Delivery, error) {
	for {
		id := ">"
		if q.pending {
			id = "0"
		}
		res, err := q.c.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: q.group, Consumer: q.consumer, Streams: []string{q.stream, id}, Count: 1000, Block: time.Second,
		}).Result()
		if err != nil && strings.HasPrefix(err.Error(), "NOGROUP") {
			// A fresh Redis (or one restarted without its data): make the group.
			err = q.c.XGroupCreateMkStream(ctx, q.stream, q.group, "0").Err()
			if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
				return nil, err
			}
			continue
		}
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var ds []Delivery
		for _, s := range res {
			for _, m := range s.Messages {
				d := Delivery{ID: m.ID}
				if raw, ok := m.Values["m"].(string); ok {
					// Not ours when it does not decode: Job 0, which the
					// receiver skips and acknowledges with the rest.
					_ = json.Unmarshal([]byte(raw), &d.Message)
				}
				ds = append(ds, d)
			}
		}
		if q.pending && len(ds) == 0 {
			q.pending = false
			continue
		}
		if len(ds) > 0 {
			return ds, nil
		}
	}
}

func (q *redisQueue) Ack(ctx context.Context, ds []Delivery) error {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	if err := q.c.XAck(ctx, q.stream, q.group, ids...).Err(); err != nil {
		return err
	}
	return q.c.XDel(ctx, q.stream, ids...).Err()
}

func (q *redisQueue) Close() error { return q.c.Close() }
