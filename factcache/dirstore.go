package factcache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// DirStore is a Store that keeps one JSON file per host in a directory:
// {"modified": RFC 3339 time, "facts": {...}}. Each file is replaced atomically
// (temporary file and rename), and an flock on <dir>/.lock makes every Save,
// Clear and Load a unit, so two processes can share the directory.
type DirStore struct {
	// Now stamps Record.Modified on Save; nil means time.Now.
	Now func() time.Time

	dir string
}

// dirRecord is the on-disk form of one host in a DirStore.
type dirRecord struct {
	Modified time.Time       `json:"modified"`
	Facts    json.RawMessage `json:"facts"`
}

const lockName = ".lock"

const (
	lockShared    = syscall.LOCK_SH
	lockExclusive = syscall.LOCK_EX
)

// Test seams, nil outside tests. The lock is only observable while another
// process is inside a Save, so tests pause a Save between two hosts and learn
// when a Load is kept waiting.
var (
	testHookSaveHost func(host string) // after Save wrote host, lock held
	testHookLockBusy func()            // each time lock finds the lock held elsewhere
)

// NewDirStore returns a DirStore in dir, creating it (0700) if needed.
func NewDirStore(dir string) (*DirStore, error) {
	if dir == "" {
		return nil, errors.New("factcache: NewDirStore: empty directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("factcache: %w", err)
	}
	return &DirStore{dir: dir}, nil
}

// Dir returns the directory the store keeps its files in.
func (d *DirStore) Dir() string { return d.dir }

// Load implements Store. A host file that cannot be decoded gives a *CorruptError.
func (d *DirStore) Load(ctx context.Context, hosts []string) (map[string]Record, error) {
	unlock, err := d.lock(ctx, lockShared)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if hosts == nil {
		if hosts, err = listHosts(d.dir); err != nil {
			return nil, err
		}
	}
	out := make(map[string]Record, len(hosts))
	for _, h := range hosts {
		if err := ValidateHost(h); err != nil {
			return nil, err
		}
		path := filepath.Join(d.dir, h)
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("factcache: %w", err)
		}
		var rec dirRecord
		if err := json.Unmarshal(data, &rec); err != nil {
			return nil, &CorruptError{Path: path, Host: h, Err: err}
		}
		facts, err := decodeFacts(rec.Facts)
		if err != nil {
			return nil, &CorruptError{Path: path, Host: h, Err: fmt.Errorf("field facts: %w", err)}
		}
		out[h] = Record{Facts: facts, Modified: rec.Modified}
	}
	return out, nil
}

// Save implements Store. Host names are validated before anything is written.
func (d *DirStore) Save(ctx context.Context, facts map[string]Facts) error {
	encoded, err := encodeAll(facts)
	if err != nil {
		return err
	}
	now := nowFunc(d.Now)().UTC()
	unlock, err := d.lock(ctx, lockExclusive)
	if err != nil {
		return err
	}
	defer unlock()
	for _, h := range slices.Sorted(maps.Keys(encoded)) {
		data, err := json.MarshalIndent(dirRecord{Modified: now, Facts: encoded[h]}, "", "  ")
		if err != nil {
			return fmt.Errorf("factcache: encode host %q: %w", h, err)
		}
		if err := writeFileAtomic(filepath.Join(d.dir, h), data); err != nil {
			return err
		}
		if testHookSaveHost != nil {
			testHookSaveHost(h)
		}
	}
	return nil
}

// Clear implements Store.
func (d *DirStore) Clear(ctx context.Context, hosts []string) error {
	for _, h := range hosts {
		if err := ValidateHost(h); err != nil {
			return err
		}
	}
	unlock, err := d.lock(ctx, lockExclusive)
	if err != nil {
		return err
	}
	defer unlock()
	for _, h := range hosts {
		if err := os.Remove(filepath.Join(d.dir, h)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("factcache: %w", err)
		}
	}
	return nil
}

// lock takes an flock on the store's lock file, polling without blocking so
// that a cancelled ctx is honoured while another process holds the lock.
func (d *DirStore) lock(ctx context.Context, how int) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(d.dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("factcache: %w", err)
	}
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = f.Close() }, nil // closing releases the flock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("factcache: lock %s: %w", f.Name(), err)
		}
		if testHookLockBusy != nil {
			testHookLockBusy()
		}
		select {
		case <-ctx.Done():
			_ = f.Close()
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// listHosts returns the host files in dir: every regular file whose name is not
// hidden (temporary files and the lock file are hidden).
func listHosts(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("factcache: %w", err)
	}
	var hosts []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || !e.Type().IsRegular() {
			continue
		}
		hosts = append(hosts, e.Name())
	}
	return hosts, nil
}
