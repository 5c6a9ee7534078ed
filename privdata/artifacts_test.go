package privdata

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Lstat(path)
	require.NoError(t, err)
	return st.Mode()
}

func TestNewArtifacts(t *testing.T) {
	root := filepath.Join(t.TempDir(), "artifacts")
	a, err := NewArtifacts(root, "x")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(root, "x"), a.Dir)
	assert.Equal(t, fs.ModeDir|0o700, mode(t, root))
	assert.Equal(t, fs.ModeDir|0o700, mode(t, a.Dir))
	assert.Equal(t, fs.ModeDir|0o700, mode(t, a.JobEventsDir()))
	assert.Equal(t, filepath.Join(a.Dir, "job_events"), a.JobEventsDir())
	assert.Equal(t, filepath.Join(a.Dir, "fact_cache"), a.FactCacheDir())
	assert.NoDirExists(t, a.FactCacheDir(), "ansible creates it, as with the reference")
	a.FactCache = "facts"
	assert.Equal(t, filepath.Join(a.Dir, "facts"), a.FactCacheDir())

	// A repeated ident reuses the directory, as the reference does.
	require.NoError(t, a.WriteRC(1))
	b, err := NewArtifacts(root, "x")
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(b.Dir, "rc"))

	// A symlink planted at <root>/<ident> is refused.
	require.NoError(t, os.Symlink(t.TempDir(), filepath.Join(root, "link")))
	_, err = NewArtifacts(root, "link")
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, filepath.Join(root, "link"), fe.Path)

	_, err = NewArtifacts(root, "../escape")
	assert.ErrorIs(t, err, ErrBadIdent)
}

// TestArtifactFiles checks the files against what ansible-runner 2.3.1
// wrote for `ansible-runner run pdd -p test.yml --ident x`: rc "0" and
// status "successful" without newline, command as Python's json.dump, all 0600.
func TestArtifactFiles(t *testing.T) {
	a, err := NewArtifacts(t.TempDir(), "x")
	require.NoError(t, err)

	require.NoError(t, a.WriteRC(0))
	require.NoError(t, a.WriteStatus("successful"))
	require.NoError(t, a.WriteCommand(
		[]string{"ansible-playbook", "-i", "/tmp/refpdd/inventory", "test.yml"},
		"/tmp/refpdd/project",
		map[string]string{"PYTHONUNBUFFERED": "1", "A": "<é&\"\n>"},
	))
	stdout, err := a.CreateStdout()
	require.NoError(t, err)
	_, err = stdout.WriteString("PLAY [all]\r\n")
	require.NoError(t, err)
	require.NoError(t, stdout.Close())
	stderr, err := a.CreateStderr()
	require.NoError(t, err)
	require.NoError(t, stderr.Close())

	want := map[string]string{
		"rc":      "0",
		"status":  "successful",
		"command": `{"command": ["ansible-playbook", "-i", "/tmp/refpdd/inventory", "test.yml"], "cwd": "/tmp/refpdd/project", "env": {"A": "<é&\"\n>", "PYTHONUNBUFFERED": "1"}}`,
		"stdout":  "PLAY [all]\r\n",
		"stderr":  "",
	}
	for name, content := range want {
		path := filepath.Join(a.Dir, name)
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, content, string(got), name)
		assert.Equal(t, fs.FileMode(0o600), mode(t, path), name)
	}

	// Rewrites truncate and restore 0600 on a file whose mode drifted.
	require.NoError(t, os.Chmod(filepath.Join(a.Dir, "rc"), 0o644))
	require.NoError(t, a.WriteRC(-1))
	got, err := os.ReadFile(filepath.Join(a.Dir, "rc"))
	require.NoError(t, err)
	assert.Equal(t, "-1", string(got))
	assert.Equal(t, fs.FileMode(0o600), mode(t, filepath.Join(a.Dir, "rc")))

	// A symlink planted in place of an artifact is not followed.
	outside := filepath.Join(t.TempDir(), "victim")
	require.NoError(t, os.WriteFile(outside, []byte("keep"), 0o600))
	require.NoError(t, os.Remove(filepath.Join(a.Dir, "status")))
	require.NoError(t, os.Symlink(outside, filepath.Join(a.Dir, "status")))
	assert.Error(t, a.WriteStatus("failed"))
	got, err = os.ReadFile(outside)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(got))
}

// eventWriters are the two ways to write a job_events file, each on its
// own artifacts dir.
func eventWriters() map[string]func(t *testing.T) (*Artifacts, func(int, string, []byte) error) {
	return map[string]func(t *testing.T) (*Artifacts, func(int, string, []byte) error){
		"WriteEvent": func(t *testing.T) (*Artifacts, func(int, string, []byte) error) {
			a, err := NewArtifacts(t.TempDir(), "x")
			require.NoError(t, err)
			return a, a.WriteEvent
		},
		"EventWriter": func(t *testing.T) (*Artifacts, func(int, string, []byte) error) {
			a, err := NewArtifacts(t.TempDir(), "x")
			require.NoError(t, err)
			w, err := a.OpenEventWriter()
			require.NoError(t, err)
			t.Cleanup(func() { w.Close() })
			return a, w.Write
		},
	}
}

func TestWriteEvent(t *testing.T) {
	for name, open := range eventWriters() {
		t.Run(name, func(t *testing.T) {
			a, write := open(t)
			data := []byte(`{"uuid": "u1", "counter": 7}`)
			// A stale file from a crash, with a looser mode and longer
			// content, is replaced, not appended to or truncated in place.
			path := filepath.Join(a.JobEventsDir(), "7-u1.json")
			require.NoError(t, os.WriteFile(path, []byte("garbage, longer than the event itself"), 0o644))

			require.NoError(t, write(7, "u1", data))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, data, got)
			assert.Equal(t, fs.FileMode(0o600), mode(t, path))

			// A symlink planted at the name is replaced, never followed.
			outside := filepath.Join(t.TempDir(), "outside")
			require.NoError(t, os.WriteFile(outside, []byte("keep"), 0o600))
			link := filepath.Join(a.JobEventsDir(), "8-u2.json")
			require.NoError(t, os.Symlink(outside, link))
			require.NoError(t, write(8, "u2", data))
			got, err = os.ReadFile(outside)
			require.NoError(t, err)
			assert.Equal(t, "keep", string(got))
			fi, err := os.Lstat(link)
			require.NoError(t, err)
			assert.True(t, fi.Mode().IsRegular())
			require.NoError(t, os.Remove(link))

			for _, bad := range []struct {
				counter int
				uuid    string
			}{{-1, "u"}, {1, ""}, {1, "../../x"}, {1, "a/b"}, {1, ".."}} {
				assert.Error(t, write(bad.counter, bad.uuid, data), "%d %q", bad.counter, bad.uuid)
			}
			ents, err := os.ReadDir(a.JobEventsDir())
			require.NoError(t, err)
			assert.Len(t, ents, 1)

			// Errors name the file by its full path.
			require.NoError(t, os.Mkdir(filepath.Join(a.JobEventsDir(), "9-u3.json"), 0o700))
			err = write(9, "u3", data)
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join(a.JobEventsDir(), "9-u3.json"))
		})
	}
}

// An EventWriter writes into the directory it opened, whatever its path
// names later, refuses a symlink in the directory's place, and tells a use
// after Close.
func TestEventWriter(t *testing.T) {
	a, err := NewArtifacts(t.TempDir(), "x")
	require.NoError(t, err)
	w, err := a.OpenEventWriter()
	require.NoError(t, err)
	moved := a.JobEventsDir() + ".moved"
	require.NoError(t, os.Rename(a.JobEventsDir(), moved))
	outside := t.TempDir()
	require.NoError(t, os.Symlink(outside, a.JobEventsDir()))
	require.NoError(t, w.Write(1, "u", []byte("{}")))
	_, err = os.Stat(filepath.Join(moved, "1-u.json"))
	assert.NoError(t, err, "the file is in the directory opened")
	ents, err := os.ReadDir(outside)
	require.NoError(t, err)
	assert.Empty(t, ents, "the symlink was followed")

	require.NoError(t, w.Close())
	assert.ErrorIs(t, w.Write(2, "u", []byte("{}")), os.ErrClosed)
	assert.ErrorIs(t, w.Close(), os.ErrClosed)

	_, err = a.OpenEventWriter()
	assert.Error(t, err, "a symlink in the job_events directory's place")
}

func BenchmarkWriteEvent(b *testing.B) {
	data := []byte(`{"uuid": "0e8bd9a4-4d8e-4f1c-9c4c-3a3a5b0e2f11", "counter": 1, "stdout": "ok: [localhost]", "event": "runner_on_ok", "event_data": {"host": "localhost", "task": "debug", "res": {"msg": "hi"}}}`)
	uuid := "0e8bd9a4-4d8e-4f1c-9c4c-3a3a5b0e2f11"
	for _, held := range []bool{false, true} {
		b.Run(fmt.Sprintf("EventWriter=%v", held), func(b *testing.B) {
			a, err := NewArtifacts(b.TempDir(), "bench")
			require.NoError(b, err)
			write := a.WriteEvent
			if held {
				w, err := a.OpenEventWriter()
				require.NoError(b, err)
				defer w.Close()
				write = w.Write
			}
			b.SetBytes(int64(len(data)))
			for i := 0; b.Loop(); i++ {
				if err := write(i, uuid, data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func TestReadEvents(t *testing.T) {
	a, err := NewArtifacts(t.TempDir(), "x")
	require.NoError(t, err)
	for _, c := range []int{10, 2, 1, 100, 9} {
		require.NoError(t, a.WriteEvent(c, fmt.Sprintf("u%d", c), []byte(fmt.Sprint(c))))
	}
	dir := a.JobEventsDir()
	for _, junk := range []string{"u5-partial.json", "3-u3.json.tmp", "README", "x-y.json", "-u.json", "4-.json", "+5-u.json"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, junk), []byte("junk"), 0o600))
	}
	var got []string
	for data, err := range ReadEvents(dir) {
		require.NoError(t, err)
		got = append(got, string(data))
	}
	assert.Equal(t, []string{"1", "2", "9", "10", "100"}, got)

	// Stopping early is honoured.
	n := 0
	for range ReadEvents(dir) {
		n++
		break
	}
	assert.Equal(t, 1, n)

	var errs []error
	for _, err := range ReadEvents(filepath.Join(dir, "missing")) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], fs.ErrNotExist)
}

func TestRotate(t *testing.T) {
	root := t.TempDir()
	base := time.Now().Add(-time.Hour)
	// Created in name order, but mtimes say r2 < a1 < r3 < r1.
	mtimes := map[string]time.Duration{"a1": 2, "r1": 4, "r2": 1, "r3": 3}
	for name, m := range mtimes {
		a, err := NewArtifacts(root, name)
		require.NoError(t, err)
		require.NoError(t, a.WriteRC(0))
		require.NoError(t, os.Chtimes(a.Dir, base, base.Add(m*time.Minute)))
	}
	list := func() []string {
		ents, err := os.ReadDir(root)
		require.NoError(t, err)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}

	require.NoError(t, Rotate(root, 0), "0 disables rotation")
	assert.Len(t, list(), 4)
	require.NoError(t, Rotate(root, 10))
	assert.Len(t, list(), 4)
	require.NoError(t, Rotate(root, 2))
	assert.Equal(t, []string{"r1", "r3"}, list())
	require.NoError(t, Rotate(root, 1))
	assert.Equal(t, []string{"r1"}, list())

	assert.ErrorIs(t, Rotate(filepath.Join(root, "missing"), 1), fs.ErrNotExist)
}

func TestValidateIdent(t *testing.T) {
	for _, tt := range []struct {
		ident string
		ok    bool
	}{
		{"x", true},
		{"6e3b0d48-1b7e-4b8e-9d5e-1f0c2a9b7f10", true},
		{"run.1", true},
		{"..x", true},
		{"", false},
		{".", false},
		{"..", false},
		{"a/b", false},
		{"/abs", false},
		{"../up", false},
		{"nul\x00", false},
		{strings.Repeat("a", 255), true},
		{strings.Repeat("a", 256), false},
	} {
		err := ValidateIdent(tt.ident)
		if tt.ok {
			assert.NoError(t, err, "%q", tt.ident)
		} else {
			assert.ErrorIs(t, err, ErrBadIdent, "%q", tt.ident)
		}
	}
}

// ReadFinished reads ansible-runner's files as it writes them: rc "None"
// for a process killed by a signal, and tolerates a trailing newline.
func TestReadFinishedReference(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "job_events"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "status"), []byte("failed\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rc"), []byte("None"), 0o600))
	a, err := OpenArtifacts(dir)
	require.NoError(t, err)
	fin, err := a.ReadFinished()
	require.NoError(t, err)
	assert.Equal(t, &Finished{Status: "failed", RC: -1}, fin)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "status"), []byte("running"), 0o600))
	_, err = a.ReadFinished()
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, filepath.Join(dir, "status"), fe.Path)
	assert.ErrorIs(t, err, ErrBadValue)
}
