package factcache

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Store is where a controller keeps facts between runs. Implementations must be
// safe for concurrent use; a controller plugs its own database in here.
type Store interface {
	// Load returns the stored facts of hosts, or of every host the Store knows
	// when hosts is nil. Hosts without facts are absent from the result.
	Load(ctx context.Context, hosts []string) (map[string]Record, error)
	// Save replaces the facts of each host in facts and stamps them as modified now.
	Save(ctx context.Context, facts map[string]Facts) error
	// Clear forgets the facts of hosts; unknown hosts are not an error.
	Clear(ctx context.Context, hosts []string) error
}

// MemoryStore is a Store in process memory, for tests and short-lived programs.
// It keeps facts serialised, so callers can change maps they passed to Save or
// got from Load without changing the Store.
type MemoryStore struct {
	// Now stamps Record.Modified on Save; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	hosts map[string]memRecord
}

type memRecord struct {
	data     []byte
	modified time.Time
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{hosts: map[string]memRecord{}}
}

// Load implements Store.
func (m *MemoryStore) Load(ctx context.Context, hosts []string) (map[string]Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if hosts == nil {
		hosts = make([]string, 0, len(m.hosts))
		for h := range m.hosts {
			hosts = append(hosts, h)
		}
	}
	out := make(map[string]Record, len(hosts))
	for _, h := range hosts {
		r, ok := m.hosts[h]
		if !ok {
			continue
		}
		facts, err := decodeFacts(r.data)
		if err != nil { // only reachable if encodeFacts and decodeFacts disagree
			return nil, fmt.Errorf("factcache: memory store host %q: %w", h, err)
		}
		out[h] = Record{Facts: facts, Modified: r.modified}
	}
	return out, nil
}

// Save implements Store. It saves all hosts or, if one fails to encode, none.
func (m *MemoryStore) Save(ctx context.Context, facts map[string]Facts) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	encoded, err := encodeAll(facts)
	if err != nil {
		return err
	}
	now := nowFunc(m.Now)()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hosts == nil {
		m.hosts = map[string]memRecord{}
	}
	for h, data := range encoded {
		m.hosts[h] = memRecord{data: data, modified: now}
	}
	return nil
}

// Clear implements Store.
func (m *MemoryStore) Clear(ctx context.Context, hosts []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, h := range hosts {
		delete(m.hosts, h)
	}
	return nil
}

// encodeAll validates and serialises every host before anything is stored, so
// one bad host name or unencodable value does not leave a half-applied Save.
func encodeAll(facts map[string]Facts) (map[string][]byte, error) {
	out := make(map[string][]byte, len(facts))
	for _, h := range slices.Sorted(maps.Keys(facts)) {
		if err := ValidateHost(h); err != nil {
			return nil, err
		}
		data, err := encodeFacts(facts[h])
		if err != nil {
			return nil, fmt.Errorf("factcache: encode facts of host %q: %w", h, err)
		}
		out[h] = data
	}
	return out, nil
}

func nowFunc(f func() time.Time) func() time.Time {
	if f == nil {
		return time.Now
	}
	return f
}
