package factcache

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEnv(t *testing.T) {
	assert.Equal(t, map[string]string{
		"ANSIBLE_CACHE_PLUGIN":            "jsonfile",
		"ANSIBLE_CACHE_PLUGIN_CONNECTION": "/pdd/artifacts/1/fact_cache",
		"ANSIBLE_CACHE_PLUGIN_TIMEOUT":    "0",
		"ANSIBLE_CACHE_PLUGIN_PREFIX":     "",
	}, Env("/pdd/artifacts/1/fact_cache", Options{}))
	assert.Equal(t, "3600", Env("d", Options{Timeout: 3600})["ANSIBLE_CACHE_PLUGIN_TIMEOUT"])
	assert.Equal(t, "0", Env("d", Options{Timeout: -5})["ANSIBLE_CACHE_PLUGIN_TIMEOUT"])
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Untouched: "untouched", Updated: "updated", Added: "added", Cleared: "cleared", Corrupt: "corrupt", Outcome(9): "Outcome(9)", Outcome(-1): "Outcome(-1)"} {
		assert.Equal(t, want, o.String())
	}
}

func TestRestore(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	store.Now = func() time.Time { return fixedNow.Add(-2 * time.Hour) }
	require.NoError(t, store.Save(ctx, map[string]Facts{"old": {"a": 1}}))
	store.Now = func() time.Time { return fixedNow.Add(-time.Minute) }
	require.NoError(t, store.Save(ctx, map[string]Facts{"new": {"a": 2}, "web:22": {"a": 3}}))

	tests := []struct {
		name              string
		o                 Options
		restored, expired []string
	}{
		{"all", Options{}, []string{"new", "old", "web:22"}, nil},
		{"max age", Options{MaxAge: time.Hour}, []string{"new", "web:22"}, []string{"old"}},
		{"hosts", Options{Hosts: []string{"old", "absent"}}, []string{"old"}, nil},
		{"hosts and max age", Options{Hosts: []string{"old", "new"}, MaxAge: time.Hour}, []string{"new"}, []string{"old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "artifacts", "1", "fact_cache")
			tt.o.Now = func() time.Time { return fixedNow }
			snap, err := Restore(ctx, store, dir, tt.o)
			require.NoError(t, err)
			assert.Equal(t, dir, snap.Dir())
			assert.Equal(t, tt.restored, snap.Restored())
			assert.Equal(t, tt.expired, snap.Expired())
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			assert.Equal(t, tt.restored, names)
		})
	}

	dir := t.TempDir()
	_, err := Restore(ctx, store, dir, Options{MaxAge: time.Hour, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	st, err := os.Stat(filepath.Join(dir, "new"))
	require.NoError(t, err)
	// ansible's timeout is measured from the file's mtime: it must be fresh, not the Store's time.
	assert.WithinDuration(t, time.Now(), st.ModTime(), time.Minute)
	got, err := Get(dir, "web:22")
	require.NoError(t, err)
	assert.Equal(t, "3", got["a"].(interface{ String() string }).String())
}

// badStore returns host names a controller database might hold but a file
// system directory cannot, to prove Restore refuses them before writing.
type badStore struct{ *MemoryStore }

func (*badStore) Load(context.Context, []string) (map[string]Record, error) {
	return map[string]Record{"fine": {Facts: Facts{}}, "../../etc/cron.d/x": {Facts: Facts{"evil": true}}}, nil
}

func TestRestoreRefusesTraversal(t *testing.T) {
	ctx := context.Background()
	for _, host := range []string{"../x", "a/b", "..", ".", "", ".hidden", "x\x00y"} {
		t.Run(host, func(t *testing.T) {
			_, err := Restore(ctx, NewMemoryStore(), t.TempDir(), Options{Hosts: []string{"ok", host}})
			require.ErrorIs(t, err, ErrInvalidHost)
		})
	}

	base := t.TempDir()
	dir := filepath.Join(base, "a", "b", "fact_cache")
	_, err := Restore(ctx, &badStore{NewMemoryStore()}, dir, Options{})
	var he *HostError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "../../etc/cron.d/x", he.Host)
	assert.NoDirExists(t, dir, "nothing is written when one host is refused")

	_, err = Restore(ctx, NewMemoryStore(), t.TempDir(), Options{MaxAge: -1})
	require.ErrorContains(t, err, "Options.MaxAge")
	_, err = Restore(ctx, NewMemoryStore(), t.TempDir(), Options{Timeout: -1})
	require.ErrorContains(t, err, "Options.Timeout")
}

// pythonStyle is what ansible's jsonfile plugin writes for {"a": "1"}: same
// content as Restore's file, formatted by Python.
const pythonStyle = "{\n    \"a\": \"1\"\n}"

func TestCollect(t *testing.T) {
	ctx := context.Background()
	seed := map[string]Facts{
		"untouched": {"a": "1"}, "reformatted": {"a": "1"}, "updated": {"a": "1"},
		"cleared": {"a": "1"}, "corrupt": {"a": "1"}, "expired": {"a": "1"},
	}
	store := NewMemoryStore()
	store.Now = func() time.Time { return fixedNow.Add(-48 * time.Hour) }
	require.NoError(t, store.Save(ctx, map[string]Facts{"expired": seed["expired"]}))
	store.Now = func() time.Time { return fixedNow }
	delete(seed, "expired")
	require.NoError(t, store.Save(ctx, seed))

	dir := t.TempDir()
	snap, err := Restore(ctx, store, dir, Options{MaxAge: 24 * time.Hour, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	assert.Equal(t, []string{"expired"}, snap.Expired())

	// What a run might do to the cache directory.
	write := func(name, content string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	write("reformatted", pythonStyle)
	require.NoError(t, Set(dir, "updated", Facts{"a": "2", "new": true}))
	require.NoError(t, os.Remove(filepath.Join(dir, "cleared")))
	write("corrupt", `{"a": "tru`)
	require.NoError(t, Set(dir, "added", Facts{"b": "x"}))
	write("tmpab_cd123", `{"half": "wri`) // left by a killed ansible between mkstemp and rename
	write(".hidden", `{}`)

	rep, err := snap.Collect(ctx, store)
	require.NoError(t, err)
	assert.Equal(t, map[string]Outcome{
		"untouched": Untouched, "reformatted": Untouched, "updated": Updated, "cleared": Cleared,
		"corrupt": Corrupt, "added": Added, "expired": Untouched,
	}, rep.Hosts)
	require.Len(t, rep.Errors, 1)
	require.ErrorIs(t, rep.Errors["corrupt"], ErrCorrupt)
	assert.Contains(t, rep.Errors["corrupt"].Error(), filepath.Join(dir, "corrupt"))

	got, err := store.Load(ctx, nil)
	require.NoError(t, err)
	facts := map[string]Facts{}
	for h, r := range got {
		facts[h] = r.Facts
	}
	assert.Equal(t, map[string]Facts{
		"untouched": {"a": "1"}, "reformatted": {"a": "1"}, "updated": {"a": "2", "new": true},
		"corrupt": {"a": "1"}, "added": {"b": "x"}, "expired": {"a": "1"},
	}, facts, "cleared is gone, corrupt keeps its old facts, expired is not lost")
}

func TestCollectMissingDir(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	require.NoError(t, store.Save(ctx, map[string]Facts{"h1": {"a": 1}}))
	dir := filepath.Join(t.TempDir(), "fact_cache")
	snap, err := Restore(ctx, store, dir, Options{})
	require.NoError(t, err)
	require.NoError(t, os.RemoveAll(dir))

	_, err = snap.Collect(ctx, store)
	require.Error(t, err)
	got, err := store.Load(ctx, nil)
	require.NoError(t, err)
	assert.Contains(t, got, "h1", "a vanished directory does not clear every host")
}

func TestCollectStoreError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	snap, err := Restore(ctx, NewMemoryStore(), dir, Options{})
	require.NoError(t, err)
	require.NoError(t, Set(dir, "h1", Facts{}))
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	rep, err := snap.Collect(canceled, NewMemoryStore())
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, rep)
}

// TestConcurrentRunsSharedDirStore runs two "jobs" at once against one
// DirStore, each on its own hosts plus one host both of them touch.
func TestConcurrentRunsSharedDirStore(t *testing.T) {
	ctx := context.Background()
	store, err := NewDirStore(filepath.Join(t.TempDir(), "store"))
	require.NoError(t, err)
	require.NoError(t, store.Save(ctx, map[string]Facts{"a1": {"v": 0}, "b1": {"v": 0}, "both": {"v": 0}, "keep": {"v": 0}}))

	jobs := map[string][]string{"a": {"a1", "both"}, "b": {"b1", "both"}}
	var wg sync.WaitGroup
	reports := map[string]*Report{}
	var mu sync.Mutex
	for job, hosts := range jobs {
		wg.Go(func() {
			dir := filepath.Join(t.TempDir(), job, "fact_cache")
			snap, err := Restore(ctx, store, dir, Options{Hosts: hosts})
			assert.NoError(t, err)
			for _, h := range hosts {
				assert.NoError(t, Set(dir, h, Facts{"v": job}))
			}
			assert.NoError(t, Set(dir, job+"-new", Facts{"v": job}))
			rep, err := snap.Collect(ctx, store)
			assert.NoError(t, err)
			mu.Lock()
			reports[job] = rep
			mu.Unlock()
		})
	}
	wg.Wait()

	assert.Equal(t, map[string]Outcome{"a1": Updated, "both": Updated, "a-new": Added}, reports["a"].Hosts)
	assert.Equal(t, map[string]Outcome{"b1": Updated, "both": Updated, "b-new": Added}, reports["b"].Hosts)
	got, err := store.Load(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, "a", got["a1"].Facts["v"])
	assert.Equal(t, "b", got["b1"].Facts["v"])
	assert.Equal(t, "a", got["a-new"].Facts["v"])
	assert.Equal(t, "b", got["b-new"].Facts["v"])
	assert.Contains(t, []any{"a", "b"}, got["both"].Facts["v"], "last writer wins, whole record")
	assert.Equal(t, "0", got["keep"].Facts["v"].(interface{ String() string }).String(), "host no job ran keeps its facts")
	assert.False(t, strings.HasPrefix(got["keep"].Modified.String(), "0001"))
}
