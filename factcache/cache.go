package factcache

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// Options controls Restore and Env. The zero value restores every host the
// Store knows, whatever its age, and lets ansible keep the facts forever.
type Options struct {
	// Hosts limits Restore to these hosts; nil means every host in the Store.
	Hosts []string
	// MaxAge skips facts whose Record.Modified is older than this; 0 means no
	// limit. It uses the Store's timestamps, not file times, because Restore
	// writes every file fresh.
	MaxAge time.Duration
	// Timeout is ANSIBLE_CACHE_PLUGIN_TIMEOUT in seconds: ansible ignores a cache
	// file whose mtime is older than this. 0 means never (ansible's own default
	// is 86400, so Env always passes it explicitly). Negative is refused by
	// Restore and treated as 0 by Env.
	Timeout int
	// Now is the clock MaxAge is measured against; nil means time.Now.
	Now func() time.Time
}

func (o Options) validate() error {
	if o.MaxAge < 0 {
		return fmt.Errorf("factcache: Options.MaxAge %v is negative", o.MaxAge)
	}
	if o.Timeout < 0 {
		return fmt.Errorf("factcache: Options.Timeout %d is negative", o.Timeout)
	}
	for _, h := range o.Hosts {
		if err := ValidateHost(h); err != nil {
			return err
		}
	}
	return nil
}

// Env returns the environment that makes ansible use dir as its jsonfile fact
// cache. ANSIBLE_CACHE_PLUGIN_PREFIX is set to "" so an ansible.cfg
// fact_caching_prefix cannot rename the files Restore and Collect look for; an
// empty variable overrides the ini value in ansible-core 2.14.
func Env(dir string, o Options) map[string]string {
	return map[string]string{
		"ANSIBLE_CACHE_PLUGIN":            "jsonfile",
		"ANSIBLE_CACHE_PLUGIN_CONNECTION": dir,
		"ANSIBLE_CACHE_PLUGIN_TIMEOUT":    strconv.Itoa(max(o.Timeout, 0)),
		"ANSIBLE_CACHE_PLUGIN_PREFIX":     "",
	}
}

// Snapshot remembers what Restore wrote, so Collect can tell what ansible changed.
type Snapshot struct {
	dir      string
	hashes   map[string][sha256.Size]byte // content hash of every host file present after Restore
	restored []string
	expired  []string
}

// Restore writes each host's facts from store into dir (usually
// artifacts/<ident>/fact_cache, created 0700 if missing) in the format ansible's
// jsonfile cache plugin reads, and returns a Snapshot of the directory's content
// for Collect. Hosts whose facts are older than o.MaxAge are skipped. Files
// already in dir are left in place and recorded as they are. A host name that
// would escape dir gives a *HostError and nothing is written.
func Restore(ctx context.Context, store Store, dir string, o Options) (*Snapshot, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	records, err := store.Load(ctx, o.Hosts)
	if err != nil {
		return nil, fmt.Errorf("factcache: load facts: %w", err)
	}
	now := nowFunc(o.Now)()
	s := &Snapshot{dir: dir, hashes: map[string][sha256.Size]byte{}}
	files := map[string][]byte{}
	for _, h := range slices.Sorted(maps.Keys(records)) {
		if err := ValidateHost(h); err != nil {
			return nil, err
		}
		r := records[h]
		if o.MaxAge > 0 && now.Sub(r.Modified) > o.MaxAge {
			s.expired = append(s.expired, h)
			continue
		}
		data, err := encodeFacts(r.Facts)
		if err != nil {
			return nil, fmt.Errorf("factcache: encode facts of host %q: %w", h, err)
		}
		files[h] = data
		s.restored = append(s.restored, h)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("factcache: %w", err)
	}
	for _, h := range s.restored {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := writeFileAtomic(filepath.Join(dir, h), files[h]); err != nil {
			return nil, err
		}
	}
	// Hash what is on disk rather than what was written, so that files left by
	// an earlier run in the same directory count as untouched too.
	present, err := listHosts(dir)
	if err != nil {
		return nil, err
	}
	for _, h := range present {
		facts, err := readFacts(dir, h)
		if err != nil {
			continue // Collect reports it if it is still corrupt afterwards
		}
		if s.hashes[h], err = contentHash(facts); err != nil {
			return nil, fmt.Errorf("factcache: hash facts of host %q: %w", h, err)
		}
	}
	return s, nil
}

// Dir returns the fact_cache directory the Snapshot was taken of.
func (s *Snapshot) Dir() string { return s.dir }

// Restored returns the hosts whose facts Restore wrote, sorted.
func (s *Snapshot) Restored() []string { return slices.Clone(s.restored) }

// Expired returns the hosts Restore skipped because of Options.MaxAge, sorted.
func (s *Snapshot) Expired() []string { return slices.Clone(s.expired) }

// Outcome is what a run did to one host's facts, as Collect saw it.
type Outcome int

const (
	// Untouched: the facts have the content Restore left, or there were none
	// before and none after. The Store is not written.
	Untouched Outcome = iota
	// Updated: the facts' content changed; the Store gets the new facts.
	Updated
	// Added: a host with no file after Restore has one now; the Store gets it.
	Added
	// Cleared: the file Restore left is gone (meta: clear_facts); the Store forgets the host.
	Cleared
	// Corrupt: the file is not a JSON object; the Store keeps the old facts
	// and Report.Errors holds a *CorruptError.
	Corrupt
)

var outcomeNames = [...]string{"untouched", "updated", "added", "cleared", "corrupt"}

// String returns the outcome in lower case, e.g. "cleared".
func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return "Outcome(" + strconv.Itoa(int(o)) + ")"
	}
	return outcomeNames[o]
}

// Report is Collect's per-host result.
type Report struct {
	// Hosts has every host restored, skipped as expired, or found in the directory.
	Hosts map[string]Outcome
	// Errors has a *CorruptError for each Corrupt host.
	Errors map[string]error
}

// mkstempName matches the temporary files Python's tempfile.mkstemp creates.
// ansible's jsonfile plugin writes into one and renames it over the host file;
// a killed ansible can leave one behind, and it is not a host.
var mkstempName = regexp.MustCompile(`^tmp[a-z0-9_]{8}$`)

// Collect compares the directory with the Snapshot by content, never by file
// times, and updates store: updated and added facts are saved, cleared hosts
// are cleared, and untouched or corrupt hosts are left alone. It returns an
// error, with the Report so far, only if the directory cannot be read or the
// Store fails; a missing directory is an error rather than "every host cleared".
func (s *Snapshot) Collect(ctx context.Context, store Store) (*Report, error) {
	rep := &Report{Hosts: map[string]Outcome{}, Errors: map[string]error{}}
	for _, h := range s.restored {
		rep.Hosts[h] = Untouched
	}
	for _, h := range s.expired {
		rep.Hosts[h] = Untouched
	}
	present, err := listHosts(s.dir)
	if err != nil {
		return rep, err
	}
	save := map[string]Facts{}
	seen := map[string]bool{}
	for _, h := range present {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		before, had := s.hashes[h]
		if !had && mkstempName.MatchString(h) {
			continue
		}
		seen[h] = true
		facts, err := readFacts(s.dir, h)
		if errors.Is(err, fs.ErrNotExist) { // removed while we listed
			seen[h] = false
			continue
		}
		if err != nil {
			rep.Hosts[h] = Corrupt
			rep.Errors[h] = err
			continue
		}
		after, err := contentHash(facts)
		if err != nil {
			return rep, fmt.Errorf("factcache: hash facts of host %q: %w", h, err)
		}
		switch {
		case !had:
			rep.Hosts[h] = Added
			save[h] = facts
		case after != before:
			rep.Hosts[h] = Updated
			save[h] = facts
		default:
			rep.Hosts[h] = Untouched
		}
	}
	var clear []string
	for _, h := range slices.Sorted(maps.Keys(s.hashes)) {
		if !seen[h] {
			rep.Hosts[h] = Cleared
			clear = append(clear, h)
		}
	}
	if len(save) > 0 {
		if err := store.Save(ctx, save); err != nil {
			return rep, fmt.Errorf("factcache: save facts: %w", err)
		}
	}
	if len(clear) > 0 {
		if err := store.Clear(ctx, clear); err != nil {
			return rep, fmt.Errorf("factcache: clear facts: %w", err)
		}
	}
	return rep, nil
}

// readFacts reads one host file of a fact_cache directory. Unlike Get, a
// missing file is an error (fs.ErrNotExist), because Collect must tell it apart.
func readFacts(dir, host string) (Facts, error) {
	path := filepath.Join(dir, host)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("factcache: read facts of host %q: %w", host, err)
	}
	facts, err := decodeFacts(data)
	if err != nil {
		return nil, &CorruptError{Path: path, Host: host, Err: err}
	}
	return facts, nil
}
