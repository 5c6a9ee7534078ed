package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"
)

// Receiver is AWX's callback receiver: it takes the events off the queue,
// saves them in batches (a redelivered event is skipped by its job and
// counter), then acknowledges them and broadcasts them to the job's
// WebSocket clients. A job's EOF marks its events complete and closes its
// streams.
type Receiver struct {
	Store Store
	Queue Queue
	Hub   *Hub
	Log   *slog.Logger
	// afterStore, when set, runs between storing a batch and acknowledging
	// it: tests stop the receiver there.
	afterStore func()
}

// Run receives until ctx ends.
func (r *Receiver) Run(ctx context.Context) error {
	for {
		ds, err := r.Queue.Receive(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			err = r.handle(ctx, ds)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Unacknowledged messages come back: wait and try again.
			r.Log.Warn("callback receiver", "err", err)
			select {
			case <-time.After(500 * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
}

func (r *Receiver) handle(ctx context.Context, ds []Delivery) error {
	var evs []StoredEvent
	var eofs []Message
	for _, d := range ds {
		switch {
		case d.EOF:
			eofs = append(eofs, d.Message)
		case d.Job != 0 && d.Event != nil:
			var head struct {
				Counter   int    `json:"counter"`
				Event     string `json:"event"`
				EventData struct {
					Host string `json:"host"`
				} `json:"event_data"`
			}
			if err := json.Unmarshal(d.Event, &head); err != nil {
				r.Log.Warn("callback receiver: dropping a garbled event", "job", d.Job, "err", err)
				continue
			}
			evs = append(evs, StoredEvent{Job: d.Job, Counter: head.Counter, Event: head.Event, Host: head.EventData.Host, Data: d.Event})
		}
	}
	if err := r.Store.InsertEvents(ctx, evs); err != nil {
		return err
	}
	for _, m := range eofs {
		if err := r.Store.SetEventsDone(ctx, m.Job, m.FinalCounter); err != nil {
			return err
		}
	}
	if r.afterStore != nil {
		r.afterStore()
	}
	if err := r.Queue.Ack(ctx, ds); err != nil {
		return err
	}
	for _, e := range evs {
		r.Hub.Publish(e)
	}
	for _, m := range eofs {
		r.Hub.Close(m.Job)
	}
	return nil
}

// Hub fans a job's events out to its WebSocket clients.
type Hub struct {
	mu   sync.Mutex
	subs map[int64]map[chan StoredEvent]bool
}

func NewHub() *Hub { return &Hub{subs: map[int64]map[chan StoredEvent]bool{}} }

// Subscribe returns a channel of the job's events from now on. It is closed
// at the job's EOF, or when the client falls too far behind (it then reads
// the rest from the database).
func (h *Hub) Subscribe(job int64) chan StoredEvent {
	ch := make(chan StoredEvent, 1024)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[job] == nil {
		h.subs[job] = map[chan StoredEvent]bool{}
	}
	h.subs[job][ch] = true
	return ch
}

// Unsubscribe drops ch, unless the hub already closed it.
func (h *Hub) Unsubscribe(job int64, ch chan StoredEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[job][ch] {
		delete(h.subs[job], ch)
		close(ch)
	}
	if len(h.subs[job]) == 0 {
		delete(h.subs, job)
	}
}

func (h *Hub) Publish(e StoredEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[e.Job] {
		select {
		case ch <- e:
		default:
			delete(h.subs[e.Job], ch)
			close(ch)
		}
	}
}

func (h *Hub) Close(job int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[job] {
		close(ch)
	}
	delete(h.subs, job)
}
