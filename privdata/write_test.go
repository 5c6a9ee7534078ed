package privdata

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteRoundTrip(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(src, "roles", "r", "tasks"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "site.yml"), []byte("- hosts: all\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "roles", "r", "tasks", "main.yml"), []byte("- ping:\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(src, "script.sh"), []byte("#!/bin/sh\n"), 0o755))
	require.NoError(t, os.Symlink("site.yml", filepath.Join(src, "link.yml")))

	pdd := filepath.Join(t.TempDir(), "pdd")
	l := Layout{
		EnvVars:   map[string]string{"A": "1", "B": "two words"},
		ExtraVars: map[string]any{"x": 1, "nested": map[string]any{"l": []any{"a", true}}},
		Passwords: []Password{{Pattern: "z-first", Response: "r1"}, {Pattern: "a-second", Response: "r2"}, {Pattern: `^SSH password:\s*?$`, Response: "pw"}},
		Cmdline:   "--diff -e 'a b=c'",
		Settings:  map[string]any{"idle_timeout": 30, "job_timeout": 2.5, "suppress_ansible_output": true, "container_image": "img"},
		SSHKey:    []byte("-----BEGIN KEY-----\nabc\n-----END KEY-----\n"),
		Inventory: Inventory{Content: "localhost ansible_connection=local\n"},
		Project:   src,
		ProjectFiles: map[string][]byte{
			"extra/vars.yml": []byte("a: 1\n"),
			"site.yml":       []byte("- hosts: localhost\n"), // overrides the copied one
		},
	}
	d, err := Write(pdd, l)
	require.NoError(t, err)

	loaded, err := Load(pdd)
	require.NoError(t, err)
	assert.Equal(t, loaded, d, "Write returns what Load reads back")

	assert.Equal(t, pdd, d.Path)
	assert.Equal(t, l.EnvVars, d.EnvVars)
	assert.Equal(t, map[string]any{"x": 1, "nested": map[string]any{"l": []any{"a", true}}}, d.ExtraVars)
	assert.Equal(t, filepath.Join(pdd, "env", "extravars"), d.ExtraVarsPath)
	assert.Equal(t, l.Passwords, d.Passwords, "order kept")
	assert.Equal(t, l.Cmdline, d.Cmdline)
	assert.Equal(t, l.SSHKey, d.SSHKey)
	assert.Equal(t, 30*time.Second, d.Settings.IdleTimeout)
	assert.Equal(t, 2500*time.Millisecond, d.Settings.JobTimeout)
	assert.True(t, d.Settings.SuppressAnsibleOutput)
	assert.Equal(t, "img", d.Settings.Raw["container_image"])
	assert.Equal(t, filepath.Join(pdd, "inventory"), d.Inventory)
	assert.Equal(t, filepath.Join(pdd, "project"), d.ProjectDir)

	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(pdd, rel))
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, "localhost ansible_connection=local\n", read("inventory/hosts"))
	assert.Equal(t, "- hosts: localhost\n", read("project/site.yml"))
	assert.Equal(t, "- ping:\n", read("project/roles/r/tasks/main.yml"))
	assert.Equal(t, "a: 1\n", read("project/extra/vars.yml"))
	link, err := os.Readlink(filepath.Join(pdd, "project", "link.yml"))
	require.NoError(t, err)
	assert.Equal(t, "site.yml", link)

	// Permissions: 0700 directories, 0600 files (owner exec bit kept).
	for rel, want := range map[string]fs.FileMode{
		".":                              fs.ModeDir | 0o700,
		"env":                            fs.ModeDir | 0o700,
		"inventory":                      fs.ModeDir | 0o700,
		"project":                        fs.ModeDir | 0o700,
		"project/roles/r":                fs.ModeDir | 0o700,
		"project/extra":                  fs.ModeDir | 0o700,
		"env/envvars":                    0o600,
		"env/extravars":                  0o600,
		"env/passwords":                  0o600,
		"env/cmdline":                    0o600,
		"env/settings":                   0o600,
		"env/ssh_key":                    0o600,
		"inventory/hosts":                0o600,
		"project/site.yml":               0o600,
		"project/extra/vars.yml":         0o600,
		"project/roles/r/tasks/main.yml": 0o600,
		"project/script.sh":              0o700,
	} {
		assert.Equal(t, want, mode(t, filepath.Join(pdd, rel)), rel)
	}
	// No temporary files left behind.
	ents, err := os.ReadDir(filepath.Join(pdd, "env"))
	require.NoError(t, err)
	assert.Len(t, ents, 6)
}

func TestWriteEmptyLayout(t *testing.T) {
	pdd := t.TempDir()
	d, err := Write(pdd, Layout{})
	require.NoError(t, err)
	assert.Nil(t, d.EnvVars)
	assert.Empty(t, d.Inventory)
	assert.Empty(t, d.ProjectDir, "no project/ unless asked: the reference then runs in the PDD")
	assert.DirExists(t, filepath.Join(pdd, "env"))
}

func TestWriteInventory(t *testing.T) {
	existing := filepath.Join(t.TempDir(), "hosts.ini")
	require.NoError(t, os.WriteFile(existing, []byte("[web]\nh1\n"), 0o644))
	tests := []struct {
		name     string
		inv      Inventory
		file     string // written under inventory/, "" for none
		content  string
		wantPath string // Dir.Inventory; "pdd" means <pdd>/inventory
		wantErr  error
	}{
		{"content", Inventory{Content: "h1\n"}, "hosts", "h1\n", "pdd", nil},
		{"data", Inventory{Data: map[string]any{"all": map[string]any{"hosts": map[string]any{"h1": nil}}}}, "hosts.json", `{"all":{"hosts":{"h1":null}}}`, "pdd", nil},
		{"path used in place", Inventory{Path: existing}, "", "", existing, nil},
		{"none", Inventory{}, "", "", "", nil},
		{"missing path", Inventory{Path: "/nonexistent/inv"}, "", "", "", ErrLayout},
		{"two set", Inventory{Path: existing, Content: "h1"}, "", "", "", ErrLayout},
		{"unmarshalable data", Inventory{Data: make(chan int)}, "", "", "", ErrLayout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdd := t.TempDir()
			d, err := Write(pdd, Layout{Inventory: tt.inv})
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			want := tt.wantPath
			if want == "pdd" {
				want = filepath.Join(pdd, "inventory")
			}
			assert.Equal(t, want, d.Inventory)
			if tt.file != "" {
				path := filepath.Join(pdd, "inventory", tt.file)
				got, err := os.ReadFile(path)
				require.NoError(t, err)
				assert.Equal(t, tt.content, string(got))
				assert.Equal(t, fs.FileMode(0o600), mode(t, path))
			} else {
				assert.NoDirExists(t, filepath.Join(pdd, "inventory"))
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	pdd := t.TempDir()
	_, err := Write(pdd, Layout{ProjectFiles: map[string][]byte{"../evil.yml": nil}})
	assert.ErrorIs(t, err, ErrLayout)
	assert.NoFileExists(t, filepath.Join(pdd, "evil.yml"))

	_, err = Write(t.TempDir(), Layout{ExtraVars: map[string]any{"f": func() {}}})
	assert.ErrorIs(t, err, ErrLayout)

	// A project that is a file, or holds a FIFO, is refused.
	f := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(f, nil, 0o600))
	_, err = Write(t.TempDir(), Layout{Project: f})
	assert.ErrorIs(t, err, ErrLayout)
	src := t.TempDir()
	require.NoError(t, syscall.Mkfifo(filepath.Join(src, "pipe"), 0o600))
	_, err = Write(t.TempDir(), Layout{Project: src})
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, filepath.Join(src, "pipe"), fe.Path)

	// Write's env files must read back: a bad env name is caught by Load.
	_, err = Write(t.TempDir(), Layout{EnvVars: map[string]string{"A=B": "x"}})
	assert.ErrorIs(t, err, ErrBadValue)
}

// TestWriteReplacesFIFO checks that Write replaces a named pipe left at an
// env path instead of blocking on it.
func TestWriteReplacesFIFO(t *testing.T) {
	pdd := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(pdd, "env"), 0o700))
	require.NoError(t, syscall.Mkfifo(filepath.Join(pdd, "env", "passwords"), 0o600))
	done := make(chan error, 1)
	go func() {
		_, err := Write(pdd, Layout{Passwords: []Password{{Pattern: "p", Response: "r"}}})
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a FIFO")
	}
	assert.True(t, mode(t, filepath.Join(pdd, "env", "passwords")).IsRegular())
}

// TestWriteProjectAgain checks that a second Write with the same Project
// replaces the copied files, symlinks and modes with the source's current
// ones, and replaces what was planted at their paths instead of writing
// through it.
func TestWriteProjectAgain(t *testing.T) {
	src := t.TempDir()
	put := func(rel, content string, perm fs.FileMode) {
		t.Helper()
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(src, rel)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, rel), []byte(content), perm))
		require.NoError(t, os.Chmod(filepath.Join(src, rel), perm))
	}
	put("site.yml", "v1\n", 0o644)
	put("roles/r/main.yml", "r1\n", 0o644)
	put("run.sh", "#!/bin/sh\n", 0o644)
	put("pipe.yml", "p1\n", 0o644)
	require.NoError(t, os.Symlink("site.yml", filepath.Join(src, "link.yml")))

	pdd := t.TempDir()
	_, err := Write(pdd, Layout{Project: src})
	require.NoError(t, err)

	put("site.yml", "v2\n", 0o644)
	put("roles/r/main.yml", "r2\n", 0o644)
	put("run.sh", "#!/bin/sh\nexit 0\n", 0o755)
	put("pipe.yml", "p2\n", 0o644)
	require.NoError(t, os.Remove(filepath.Join(src, "link.yml")))
	require.NoError(t, os.Symlink("roles/r/main.yml", filepath.Join(src, "link.yml")))

	// A symlink to a file outside the private data dir, planted where a
	// project file goes, and a named pipe in another file's place.
	outside := filepath.Join(t.TempDir(), "outside")
	require.NoError(t, os.WriteFile(outside, []byte("keep\n"), 0o600))
	planted := filepath.Join(pdd, "project", "roles", "r", "main.yml")
	require.NoError(t, os.Remove(planted))
	require.NoError(t, os.Symlink(outside, planted))
	pipe := filepath.Join(pdd, "project", "pipe.yml")
	require.NoError(t, os.Remove(pipe))
	require.NoError(t, syscall.Mkfifo(pipe, 0o600))

	done := make(chan error, 1)
	go func() {
		_, err := Write(pdd, Layout{Project: src})
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a FIFO in project/")
	}

	read := func(path string) string {
		t.Helper()
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return string(b)
	}
	proj := filepath.Join(pdd, "project")
	assert.Equal(t, "v2\n", read(filepath.Join(proj, "site.yml")))
	assert.Equal(t, "r2\n", read(planted))
	assert.Equal(t, "#!/bin/sh\nexit 0\n", read(filepath.Join(proj, "run.sh")))
	assert.Equal(t, "p2\n", read(pipe))
	assert.Equal(t, "keep\n", read(outside), "the planted symlink was followed")
	assert.Equal(t, fs.FileMode(0o600), mode(t, planted))
	assert.Equal(t, fs.FileMode(0o600), mode(t, pipe))
	assert.Equal(t, fs.FileMode(0o700), mode(t, filepath.Join(proj, "run.sh")))
	link, err := os.Readlink(filepath.Join(proj, "link.yml"))
	require.NoError(t, err)
	assert.Equal(t, "roles/r/main.yml", link)

	ents, err := os.ReadDir(proj)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"link.yml", "pipe.yml", "roles", "run.sh", "site.yml"}, names, "no temporary files left behind")
}

// TestWriteProjectKindMismatch checks that a directory where a file or a
// symlink goes, or a file where a directory goes, is reported by path
// rather than merged into or removed.
func TestWriteProjectKindMismatch(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(src, "roles"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(src, "site.yml"), []byte("- hosts: all\n"), 0o644))
	require.NoError(t, os.Symlink("site.yml", filepath.Join(src, "link.yml")))

	for _, tc := range []struct {
		rel   string // where, under project/, the wrong kind sits
		asDir bool   // a directory (holding a file) rather than a file
	}{
		{rel: "site.yml", asDir: true},
		{rel: "link.yml", asDir: true},
		{rel: "roles", asDir: false},
	} {
		t.Run(tc.rel, func(t *testing.T) {
			pdd := t.TempDir()
			in := filepath.Join(pdd, "project", tc.rel)
			if tc.asDir {
				require.NoError(t, os.MkdirAll(in, 0o700))
				require.NoError(t, os.WriteFile(filepath.Join(in, "keep"), []byte("x"), 0o600))
			} else {
				require.NoError(t, os.MkdirAll(filepath.Dir(in), 0o700))
				require.NoError(t, os.WriteFile(in, []byte("x"), 0o600))
			}
			_, err := Write(pdd, Layout{Project: src})
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, in, fe.Path)
			if tc.asDir {
				assert.ErrorIs(t, err, errExistsDir)
				assert.FileExists(t, filepath.Join(in, "keep"))
			} else {
				assert.Equal(t, fs.FileMode(0o600), mode(t, in))
			}
		})
	}
}

// TestWriteInventoryFiles checks that Inventory.Files lays out an inventory
// directory beside Content, and that a second Write replaces the files
// instead of writing through what was planted at their paths.
func TestWriteInventoryFiles(t *testing.T) {
	pdd := filepath.Join(t.TempDir(), "pdd")
	inv := Inventory{
		Content: "[web]\nh1\n",
		Files: map[string][]byte{
			"more.yml":           []byte("all:\n  hosts:\n    h2:\n"),
			"group_vars/all.yml": []byte("a: 1\n"),
			"host_vars/h1.yml":   []byte("b: 2\n"),
		},
	}
	d, err := Write(pdd, Layout{Inventory: inv})
	require.NoError(t, err)
	loaded, err := Load(pdd)
	require.NoError(t, err)
	assert.Equal(t, loaded, d)
	assert.Equal(t, filepath.Join(pdd, "inventory"), d.Inventory)

	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(d.Inventory, rel))
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, "[web]\nh1\n", read("hosts"))
	for name, want := range inv.Files {
		assert.Equal(t, string(want), read(name), name)
		assert.Equal(t, fs.FileMode(0o600), mode(t, filepath.Join(d.Inventory, name)), name)
	}
	for _, dir := range []string{"group_vars", "host_vars"} {
		assert.Equal(t, fs.ModeDir|0o700, mode(t, filepath.Join(d.Inventory, dir)), dir)
	}

	// A symlink to a file outside, planted where a file goes.
	outside := filepath.Join(t.TempDir(), "outside")
	require.NoError(t, os.WriteFile(outside, []byte("keep\n"), 0o600))
	planted := filepath.Join(d.Inventory, "group_vars", "all.yml")
	require.NoError(t, os.Remove(planted))
	require.NoError(t, os.Symlink(outside, planted))

	inv.Files = map[string][]byte{"group_vars/all.yml": []byte("a: 2\n")}
	_, err = Write(pdd, Layout{Inventory: Inventory{Data: map[string]any{"all": nil}, Files: inv.Files}})
	require.NoError(t, err)
	assert.Equal(t, "a: 2\n", read("group_vars/all.yml"))
	assert.Equal(t, fs.FileMode(0o600), mode(t, planted))
	assert.Equal(t, `{"all":null}`, read("hosts.json"))
	assert.Equal(t, "b: 2\n", read("host_vars/h1.yml"), "files dropped from the map stay")
	b, err := os.ReadFile(outside)
	require.NoError(t, err)
	assert.Equal(t, "keep\n", string(b), "the planted symlink was followed")

	// Files alone make an inventory directory too.
	d, err = Write(t.TempDir(), Layout{Inventory: Inventory{Files: map[string][]byte{"hosts.yml": []byte("all:\n")}}})
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(d.Inventory, "hosts.yml"))
}

// TestWriteFilesOutside checks that Inventory.Files and ProjectFiles keys
// that lead out of their directory, by name or through a symlink, are
// refused with an error naming the key, and that nothing is written outside.
func TestWriteFilesOutside(t *testing.T) {
	layout := func(field, name string) Layout {
		files := map[string][]byte{name: []byte("x\n")}
		if field == "Inventory.Files" {
			return Layout{Inventory: Inventory{Files: files}}
		}
		return Layout{ProjectFiles: files}
	}
	for _, field := range []string{"Inventory.Files", "ProjectFiles"} {
		for _, name := range []string{"../evil.yml", "a/../../evil.yml", "/tmp/evil.yml", ""} {
			t.Run(field+"/"+name, func(t *testing.T) {
				pdd := filepath.Join(t.TempDir(), "pdd")
				_, err := Write(pdd, layout(field, name))
				assert.ErrorIs(t, err, ErrLayout)
				assert.ErrorContains(t, err, field+": "+`"`+name+`"`)
				assert.NoDirExists(t, pdd, "nothing is written for a bad layout")
			})
		}
	}

	// Symlinks under inventory/ and project/: one to a directory outside,
	// one to a directory inside, relative.
	outside := t.TempDir()
	for _, tc := range []struct {
		field, dir string
	}{{"Inventory.Files", "inventory"}, {"ProjectFiles", "project"}} {
		t.Run(tc.field+"/symlink", func(t *testing.T) {
			pdd := t.TempDir()
			dir := filepath.Join(pdd, tc.dir)
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "real", "sub"), 0o700))
			require.NoError(t, os.Symlink(outside, filepath.Join(dir, "out")))
			require.NoError(t, os.Symlink("real", filepath.Join(dir, "in")))

			for _, name := range []string{"out/evil.yml", "in/sub/../../out/evil.yml", "in/../out/new/evil.yml"} {
				_, err := Write(pdd, layout(tc.field, name))
				var fe *FileError
				require.ErrorAs(t, err, &fe, name)
				assert.ErrorIs(t, err, ErrLayout, name)
				assert.Equal(t, filepath.Join(dir, "out"), fe.Path, name)
				assert.ErrorContains(t, err, `"`+name+`" leads out of `+tc.dir+" through a symlink")
			}
			ents, err := os.ReadDir(outside)
			require.NoError(t, err)
			assert.Empty(t, ents, "written outside through a symlink")

			_, err = Write(pdd, layout(tc.field, "in/sub/ok.yml"))
			require.NoError(t, err, "a symlink that stays inside is followed")
			assert.FileExists(t, filepath.Join(dir, "real", "sub", "ok.yml"))
		})
	}

	// A symlink copied from Project does not let ProjectFiles out either.
	src := t.TempDir()
	require.NoError(t, os.Symlink(outside, filepath.Join(src, "lib")))
	pdd := t.TempDir()
	_, err := Write(pdd, Layout{Project: src, ProjectFiles: map[string][]byte{"lib/evil.yml": nil}})
	assert.ErrorIs(t, err, ErrLayout)
	assert.NoFileExists(t, filepath.Join(outside, "evil.yml"))
}

func TestWriteLayoutConflicts(t *testing.T) {
	for name, l := range map[string]Layout{
		"Path and Files":       {Inventory: Inventory{Path: t.TempDir(), Files: map[string][]byte{"a.yml": nil}}},
		"Content and hosts":    {Inventory: Inventory{Content: "h1\n", Files: map[string][]byte{"hosts": nil}}},
		"Content and ./hosts":  {Inventory: Inventory{Content: "h1\n", Files: map[string][]byte{"./hosts": nil}}},
		"Data and hosts.json":  {Inventory: Inventory{Data: []any{}, Files: map[string][]byte{"hosts.json": nil}}},
		"Project and FS":       {Project: t.TempDir(), ProjectFS: fstest.MapFS{}},
		"FS with a named pipe": {ProjectFS: fstest.MapFS{"p": {Mode: fs.ModeNamedPipe}}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Write(t.TempDir(), l)
			assert.ErrorIs(t, err, ErrLayout)
		})
	}
	// Content and Data files are free to be named in Files otherwise.
	_, err := Write(t.TempDir(), Layout{Inventory: Inventory{Content: "h1\n", Files: map[string][]byte{"hosts.json": []byte("{}")}}})
	assert.NoError(t, err)
}

// TestWriteProjectFS checks that ProjectFS is copied as Project is (modes,
// symlinks, empty directories), and that a second Write replaces the copy.
func TestWriteProjectFS(t *testing.T) {
	fsys := fstest.MapFS{
		"site.yml":               {Data: []byte("v1\n"), Mode: 0o644},
		"roles/r/tasks/main.yml": {Data: []byte("r1\n"), Mode: 0o444},
		"run.sh":                 {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
		"link.yml":               {Data: []byte("site.yml"), Mode: fs.ModeSymlink | 0o777},
		"files":                  {Mode: fs.ModeDir | 0o755},
	}
	pdd := t.TempDir()
	d, err := Write(pdd, Layout{ProjectFS: fsys, ProjectFiles: map[string][]byte{"extra.yml": []byte("e\n")}})
	require.NoError(t, err)
	loaded, err := Load(pdd)
	require.NoError(t, err)
	assert.Equal(t, loaded, d)
	proj := d.ProjectDir
	require.Equal(t, filepath.Join(pdd, "project"), proj)

	read := func(rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(proj, rel))
		require.NoError(t, err)
		return string(b)
	}
	assert.Equal(t, "v1\n", read("site.yml"))
	assert.Equal(t, "r1\n", read("roles/r/tasks/main.yml"))
	assert.Equal(t, "e\n", read("extra.yml"))
	link, err := os.Readlink(filepath.Join(proj, "link.yml"))
	require.NoError(t, err)
	assert.Equal(t, "site.yml", link)
	for rel, want := range map[string]fs.FileMode{
		"site.yml":               0o600,
		"roles/r/tasks/main.yml": 0o600,
		"run.sh":                 0o700,
		"roles/r":                fs.ModeDir | 0o700,
		"files":                  fs.ModeDir | 0o700,
	} {
		assert.Equal(t, want, mode(t, filepath.Join(proj, rel)), rel)
	}

	// Second Write: new content, modes and link target; a symlink to a file
	// outside planted where a file goes is replaced, not written through.
	outside := filepath.Join(t.TempDir(), "outside")
	require.NoError(t, os.WriteFile(outside, []byte("keep\n"), 0o600))
	planted := filepath.Join(proj, "roles", "r", "tasks", "main.yml")
	require.NoError(t, os.Remove(planted))
	require.NoError(t, os.Symlink(outside, planted))
	fsys["site.yml"] = &fstest.MapFile{Data: []byte("v2\n"), Mode: 0o755}
	fsys["roles/r/tasks/main.yml"] = &fstest.MapFile{Data: []byte("r2\n")}
	fsys["link.yml"] = &fstest.MapFile{Data: []byte("run.sh"), Mode: fs.ModeSymlink}
	_, err = Write(pdd, Layout{ProjectFS: fsys})
	require.NoError(t, err)
	assert.Equal(t, "v2\n", read("site.yml"))
	assert.Equal(t, fs.FileMode(0o700), mode(t, filepath.Join(proj, "site.yml")))
	assert.Equal(t, "r2\n", read("roles/r/tasks/main.yml"))
	assert.Equal(t, fs.FileMode(0o600), mode(t, planted))
	link, err = os.Readlink(filepath.Join(proj, "link.yml"))
	require.NoError(t, err)
	assert.Equal(t, "run.sh", link)
	b, err := os.ReadFile(outside)
	require.NoError(t, err)
	assert.Equal(t, "keep\n", string(b), "the planted symlink was followed")

	ents, err := os.ReadDir(proj)
	require.NoError(t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"extra.yml", "files", "link.yml", "roles", "run.sh", "site.yml"}, names, "no temporary files left behind")
}

// fsOnly hides every method of an fs.FS but Open, fs.ReadLinkFS's among them.
type fsOnly struct{ fs.FS }

// TestWriteProjectFSErrors checks that what ProjectFS cannot give is
// reported with the file's place in project/.
func TestWriteProjectFSErrors(t *testing.T) {
	pdd := t.TempDir()
	_, err := Write(pdd, Layout{ProjectFS: fsOnly{fstest.MapFS{
		"a/link.yml": {Data: []byte("../site.yml"), Mode: fs.ModeSymlink},
	}}})
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	assert.ErrorIs(t, err, ErrLayout)
	assert.Equal(t, filepath.Join(pdd, "project", "a", "link.yml"), fe.Path)
	assert.ErrorContains(t, err, "fs.ReadLinkFS")

	_, err = Write(pdd, Layout{ProjectFS: fstest.MapFS{"dev": {Mode: fs.ModeDevice}}})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, filepath.Join(pdd, "project", "dev"), fe.Path)

	_, err = Write(pdd, Layout{ProjectFS: os.DirFS(filepath.Join(t.TempDir(), "missing"))})
	require.ErrorAs(t, err, &fe)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.True(t, strings.HasPrefix(err.Error(), "privdata: "+filepath.Join(pdd, "project")+": ProjectFS: "), err.Error())
}

// TestWriteProjectSymlinkedRoot checks that a Project that is a symlink to
// a directory is copied, as os.DirFS reads it.
func TestWriteProjectSymlinkedRoot(t *testing.T) {
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "site.yml"), []byte("v1\n"), 0o644))
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(src, link))
	d, err := Write(t.TempDir(), Layout{Project: link})
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(d.ProjectDir, "site.yml"))
}
