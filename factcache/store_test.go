package factcache

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets the test binary act as a second process writing to a shared
// DirStore (see TestDirStoreTwoProcesses and TestDirStoreLoadWaitsForSave).
func TestMain(m *testing.M) {
	if dir := os.Getenv("FACTCACHE_HELPER_DIR"); dir != "" {
		os.Exit(helperWriter(dir, os.Getenv("FACTCACHE_HELPER_NAME")))
	}
	if dir := os.Getenv("FACTCACHE_PAUSED_SAVE_DIR"); dir != "" {
		os.Exit(helperPausedSave(dir))
	}
	os.Exit(m.Run())
}

// helperPausedSave saves generation 1 of hosts a and b, and stops inside the
// Save after writing a, holding the store's lock, until its stdin is closed.
// It prints "paused" when it stops.
func helperPausedSave(dir string) int {
	s, err := NewDirStore(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	testHookSaveHost = func(host string) {
		if host == "a" {
			fmt.Println("paused")
			_, _ = io.Copy(io.Discard, os.Stdin)
		}
	}
	if err := s.Save(context.Background(), map[string]Facts{"a": {"gen": 1}, "b": {"gen": 1}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

const helperRounds = 40

// helperWriter saves its own hosts and one shared host many times, and checks
// that every Load it does sees whole records.
func helperWriter(dir, name string) int {
	ctx := context.Background()
	s, err := NewDirStore(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for i := range helperRounds {
		err := s.Save(ctx, map[string]Facts{
			name + "-" + strconv.Itoa(i): {"writer": name, "i": i},
			"shared":                     {"writer": name, "i": i},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := s.Load(ctx, nil); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

var fixedNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func stores(t *testing.T) map[string]func(now func() time.Time) Store {
	return map[string]func(now func() time.Time) Store{
		"memory": func(now func() time.Time) Store {
			s := NewMemoryStore()
			s.Now = now
			return s
		},
		"dir": func(now func() time.Time) Store {
			s, err := NewDirStore(filepath.Join(t.TempDir(), "store"))
			require.NoError(t, err)
			s.Now = now
			return s
		},
	}
}

func TestStores(t *testing.T) {
	ctx := context.Background()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			s := mk(func() time.Time { return fixedNow })

			got, err := s.Load(ctx, nil)
			require.NoError(t, err)
			assert.Empty(t, got)

			in := map[string]Facts{"h1": {"a": "1"}, "web:22": {"b": []any{"x"}}, "sp ace": {}}
			require.NoError(t, s.Save(ctx, in))
			in["h1"]["a"] = "mutated after Save"

			got, err = s.Load(ctx, nil)
			require.NoError(t, err)
			assert.Equal(t, map[string]Record{
				"h1":     {Facts: Facts{"a": "1"}, Modified: fixedNow},
				"web:22": {Facts: Facts{"b": []any{"x"}}, Modified: fixedNow},
				"sp ace": {Facts: Facts{}, Modified: fixedNow},
			}, got)

			got["h1"].Facts["a"] = "mutated after Load"
			got, err = s.Load(ctx, []string{"h1", "unknown"})
			require.NoError(t, err)
			assert.Equal(t, map[string]Record{"h1": {Facts: Facts{"a": "1"}, Modified: fixedNow}}, got)

			require.NoError(t, s.Clear(ctx, []string{"h1", "unknown"}))
			got, err = s.Load(ctx, nil)
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{"web:22", "sp ace"}, slices.Sorted(maps.Keys(got)))

			// A bad host name refuses the whole Save: "good" is not written either.
			err = s.Save(ctx, map[string]Facts{"good": {}, "../evil": {}})
			require.ErrorIs(t, err, ErrInvalidHost)
			assert.Contains(t, err.Error(), `"../evil"`)
			got, err = s.Load(ctx, []string{"good"})
			require.NoError(t, err)
			assert.Empty(t, got)

			canceled, cancel := context.WithCancel(ctx)
			cancel()
			_, err = s.Load(canceled, nil)
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}

func TestDirStoreFiles(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	s, err := NewDirStore(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, s.Dir())
	s.Now = func() time.Time { return fixedNow }
	require.NoError(t, s.Save(ctx, map[string]Facts{"h1": {"a": 1}}))

	data, err := os.ReadFile(filepath.Join(dir, "h1"))
	require.NoError(t, err)
	assert.JSONEq(t, `{"modified": "2026-01-02T03:04:05Z", "facts": {"a": 1}}`, string(data))

	// Hidden files (the lock, a temporary file left by a crash) are not hosts.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".h1.tmp-123"), []byte("{"), 0o600))
	got, err := s.Load(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"h1"}, slices.Sorted(maps.Keys(got)))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad"), []byte(`{"modified": "2026-01-02T03:04:05Z", "facts": {"a": `), 0o600))
	_, err = s.Load(ctx, nil)
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), filepath.Join(dir, "bad"))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad"), []byte(`{"modified": "2026-01-02T03:04:05Z", "facts": null}`), 0o600))
	_, err = s.Load(ctx, []string{"bad"})
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "field facts")

	_, err = s.Load(ctx, []string{"a/../../x"})
	require.ErrorIs(t, err, ErrInvalidHost)
	require.ErrorIs(t, s.Clear(ctx, []string{".."}), ErrInvalidHost)
	_, err = NewDirStore("")
	require.Error(t, err)
}

func TestDirStoreLockHonoursContext(t *testing.T) {
	s, err := NewDirStore(t.TempDir())
	require.NoError(t, err)
	unlock, err := s.lock(context.Background(), lockExclusive)
	require.NoError(t, err)
	defer unlock()

	// A second descriptor on the same file conflicts, like another process.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = s.Save(ctx, map[string]Facts{"h1": {}})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestDirStoreLoadWaitsForSave is what the lock is for: two arunner runs
// sharing one store. A Load that starts while another process is half-way
// through a Save must wait for it and then see the whole Save. Without the
// lock the Load returns at once, with host a new and host b old.
func TestDirStoreLoadWaitsForSave(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := NewDirStore(dir)
	require.NoError(t, err)
	require.NoError(t, s.Save(ctx, map[string]Facts{"a": {"gen": 0}, "b": {"gen": 0}}))

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "FACTCACHE_PAUSED_SAVE_DIR="+dir)
	cmd.Stderr = os.Stderr
	release, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = release.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "paused\n", line)

	busy := make(chan struct{})
	var once sync.Once
	testHookLockBusy = func() { once.Do(func() { close(busy) }) }
	t.Cleanup(func() { testHookLockBusy = nil })
	type result struct {
		recs map[string]Record
		err  error
	}
	loaded := make(chan result, 1)
	go func() {
		recs, err := s.Load(ctx, []string{"a", "b"})
		loaded <- result{recs, err}
	}()
	waited := true
	select {
	case <-busy: // the Load is waiting for the lock: let the Save finish
	case r := <-loaded:
		waited = false
		loaded <- r
	}
	assert.NoError(t, release.Close())
	assert.NoError(t, cmd.Wait())
	r := <-loaded // the helper has exited, so its lock is gone
	require.NoError(t, r.err)
	assert.True(t, waited, "Load did not wait for another process's Save")
	gens := map[string]string{}
	for h, rec := range r.recs {
		gens[h] = fmt.Sprint(rec.Facts["gen"])
	}
	assert.Equal(t, map[string]string{"a": "1", "b": "1"}, gens, "generation of each host seen by Load")
}

// TestDirStoreConcurrentGoroutines and TestDirStoreTwoProcesses check that
// concurrent writers lose no host and leave no temporary file. The atomic
// renames alone give that; the lock is tested by TestDirStoreLoadWaitsForSave.
func TestDirStoreConcurrentGoroutines(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 4*2*helperRounds+4)
	for w := range 4 {
		wg.Go(func() {
			s, err := NewDirStore(dir) // separate instances, separate lock descriptors
			if err != nil {
				errs <- err
				return
			}
			name := "g" + strconv.Itoa(w)
			for i := range helperRounds {
				errs <- s.Save(ctx, map[string]Facts{name + "-" + strconv.Itoa(i): {"i": i}, "shared": {"writer": name}})
				_, err := s.Load(ctx, nil)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	checkSharedStore(t, dir, []string{"g0", "g1", "g2", "g3"})
}

func TestDirStoreTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for _, name := range []string{"p0", "p1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "FACTCACHE_HELPER_DIR="+dir, "FACTCACHE_HELPER_NAME="+name)
		cmd.Stderr = os.Stderr
		require.NoError(t, cmd.Start())
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		require.NoError(t, cmd.Wait())
	}
	checkSharedStore(t, dir, []string{"p0", "p1"})
}

// checkSharedStore asserts that every writer's hosts are all there, that the
// shared host holds one writer's whole record, and no temporary file remains.
func checkSharedStore(t *testing.T, dir string, writers []string) {
	t.Helper()
	s, err := NewDirStore(dir)
	require.NoError(t, err)
	got, err := s.Load(context.Background(), nil)
	require.NoError(t, err)
	assert.Len(t, got, len(writers)*helperRounds+1)
	for _, w := range writers {
		for i := range helperRounds {
			assert.Contains(t, got, w+"-"+strconv.Itoa(i))
		}
	}
	assert.Contains(t, writers, got["shared"].Facts["writer"])
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-")
	}
}
