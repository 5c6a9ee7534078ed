package privdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/arunner/arunner/internal/atomicfile"
)

// Layout is what Write lays out in a private data dir, the equivalent of
// AWX's "build temp directory / populate directory" and of the reference's
// dump_artifacts. Empty fields write nothing.
type Layout struct {
	// EnvVars is written to env/envvars as JSON.
	EnvVars map[string]string
	// ExtraVars is written to env/extravars as JSON (0600); the runner
	// passes it by path, never on argv.
	ExtraVars map[string]any
	// Passwords is written to env/passwords (0600) as a JSON object in
	// slice order.
	Passwords []Password
	// Cmdline is written verbatim to env/cmdline.
	Cmdline string
	// Settings is written to env/settings as JSON.
	Settings map[string]any
	// SSHKey is written verbatim to env/ssh_key (0600).
	SSHKey []byte
	// Inventory is the inventory; see Inventory.
	Inventory Inventory
	// Project is a directory (or a symlink to one) whose tree is copied
	// into project/ ("" = none); symlinks inside it are copied as symlinks.
	// A later Write replaces the copied files with the source's current
	// ones; files since removed from the source stay in project/.
	Project string
	// ProjectFS is copied into project/ as Project is, for a project that
	// is not a directory on disk, such as an embed.FS bundled in the
	// program (use fs.Sub to pick a subdirectory). Symlinks are copied as
	// symlinks if ProjectFS implements fs.ReadLinkFS (os.DirFS,
	// fstest.MapFS and fs.Sub of those do; an embed.FS holds none); any
	// other symlink is an error. Set at most one of Project and ProjectFS.
	ProjectFS fs.FS
	// ProjectFiles are written into project/ (0600) after Project or
	// ProjectFS is copied; keys are slash-separated paths relative to
	// project/ (e.g. "site.yml"), and must not lead out of it, neither
	// with ".." nor through a symlink.
	ProjectFiles map[string][]byte
}

// Inventory selects the inventory. Path, Content and Data are exclusive;
// Files may go with Content or Data, not with Path.
type Inventory struct {
	// Path is an existing inventory file, directory or script used in place
	// (not copied, so its group_vars/ stay next to it). Write returns it
	// in Dir.Inventory; Load on the same dir later will not see it.
	Path string
	// Content is INI, YAML or JSON inventory text written to inventory/hosts (0600).
	Content string
	// Data is marshalled to JSON in inventory/hosts.json (0600).
	Data any
	// Files are written into inventory/ (0600), which ansible reads whole:
	// more inventory sources, group_vars/ and host_vars/. Keys are
	// slash-separated paths relative to inventory/ (e.g.
	// "group_vars/all.yml"), checked as ProjectFiles keys are; none may be
	// the file Content or Data is written to. A later Write replaces these
	// files; files since dropped from the map stay in inventory/.
	Files map[string][]byte
}

// Write creates the private data dir dir (0700, parents too) if missing,
// writes l into it with 0700 subdirectories and 0600 files (the reference
// uses 0400 for dumped env files; 0600 lets a later Write replace them), and
// returns what Load reads back. Files are replaced atomically, so an
// existing named pipe is replaced rather than written into.
func Write(dir string, l Layout) (*Dir, error) {
	set := 0
	for _, b := range []bool{l.Inventory.Path != "", l.Inventory.Content != "", l.Inventory.Data != nil} {
		if b {
			set++
		}
	}
	if set > 1 {
		return nil, fmt.Errorf("privdata: %w: set only one of Inventory.Path, Content and Data", ErrLayout)
	}
	if l.Inventory.Path != "" && len(l.Inventory.Files) > 0 {
		return nil, fmt.Errorf("privdata: %w: Inventory.Files cannot go with Inventory.Path, which replaces inventory/", ErrLayout)
	}
	if l.Project != "" && l.ProjectFS != nil {
		return nil, fmt.Errorf("privdata: %w: set only one of Project and ProjectFS", ErrLayout)
	}
	taken := "" // the inventory file Content or Data goes to
	switch {
	case l.Inventory.Content != "":
		taken = "hosts"
	case l.Inventory.Data != nil:
		taken = "hosts.json"
	}
	if err := checkNames("Inventory.Files", l.Inventory.Files, taken); err != nil {
		return nil, err
	}
	if err := checkNames("ProjectFiles", l.ProjectFiles, ""); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("privdata: %s: %w", dir, err)
	}
	var invPath string
	if l.Inventory.Path != "" {
		if invPath, err = filepath.Abs(l.Inventory.Path); err == nil {
			_, err = os.Stat(invPath)
		}
		if err != nil {
			return nil, fmt.Errorf("privdata: %w: inventory: %w", ErrLayout, err)
		}
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("privdata: %w", err)
	}
	envDir := Paths{Root: abs}.Env("")
	if err := mkdirPrivate(envDir); err != nil {
		return nil, err
	}

	files := map[string][]byte{}
	if len(l.EnvVars) > 0 {
		if files[EnvVarsFile], err = json.Marshal(l.EnvVars); err != nil {
			return nil, fmt.Errorf("privdata: %w: EnvVars: %w", ErrLayout, err)
		}
	}
	if len(l.ExtraVars) > 0 {
		if files[ExtraVarsFile], err = json.Marshal(l.ExtraVars); err != nil {
			return nil, fmt.Errorf("privdata: %w: ExtraVars: %w", ErrLayout, err)
		}
	}
	if len(l.Settings) > 0 {
		if files[SettingsFile], err = json.Marshal(l.Settings); err != nil {
			return nil, fmt.Errorf("privdata: %w: Settings: %w", ErrLayout, err)
		}
	}
	if len(l.Passwords) > 0 {
		files[PasswordsFile] = passwordsJSON(l.Passwords)
	}
	if l.Cmdline != "" {
		files[CmdlineFile] = []byte(l.Cmdline)
	}
	if len(l.SSHKey) > 0 {
		files[SSHKeyFile] = l.SSHKey
	}
	for name, data := range files {
		if err := writeAtomic(filepath.Join(envDir, name), data, 0o600); err != nil {
			return nil, err
		}
	}

	if err := writeInventory(abs, l.Inventory); err != nil {
		return nil, err
	}
	if err := writeProject(abs, l); err != nil {
		return nil, err
	}
	d, err := Load(abs)
	if err != nil {
		return nil, err
	}
	if invPath != "" {
		d.Inventory = invPath
	}
	return d, nil
}

// passwordsJSON keeps the slice order, which a Go map would lose. A later
// duplicate pattern overrides an earlier one when read back, as in Python.
func passwordsJSON(ps []Password) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		writeJSONString(&b, p.Pattern)
		b.WriteString(": ")
		writeJSONString(&b, p.Response)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeInventory(pdd string, inv Inventory) error {
	var name string
	var data []byte
	switch {
	case inv.Content != "":
		name, data = "hosts", []byte(inv.Content)
	case inv.Data != nil:
		var err error
		if data, err = json.Marshal(inv.Data); err != nil {
			return fmt.Errorf("privdata: %w: Inventory.Data: %w", ErrLayout, err)
		}
		name = "hosts.json"
	}
	if name == "" && len(inv.Files) == 0 {
		return nil
	}
	dir := Paths{Root: pdd}.Inventory()
	if err := mkdirPrivate(dir); err != nil {
		return err
	}
	if name != "" {
		if err := writeAtomic(filepath.Join(dir, name), data, 0o600); err != nil {
			return err
		}
	}
	return writeFiles(dir, "Inventory.Files", inv.Files)
}

func writeProject(pdd string, l Layout) error {
	if l.Project == "" && l.ProjectFS == nil && len(l.ProjectFiles) == 0 {
		return nil
	}
	dst := Paths{Root: pdd}.Project()
	if err := mkdirPrivate(dst); err != nil {
		return err
	}
	switch {
	case l.Project != "":
		// Errors name the file in Project.
		srcErr := func(name string, err error) error {
			return &FileError{Path: filepath.Join(l.Project, filepath.FromSlash(name)), Err: err}
		}
		// Stat, not Lstat: os.DirFS follows a symlinked Project too.
		if st, err := os.Stat(l.Project); err != nil {
			return srcErr(".", unwrapPathError(err))
		} else if !st.IsDir() {
			return srcErr(".", fmt.Errorf("%w: Project must be a directory", ErrLayout))
		}
		if err := copyTree(os.DirFS(l.Project), dst, srcErr); err != nil {
			return err
		}
	case l.ProjectFS != nil:
		// Errors name the file's place in project/, the one path on disk.
		srcErr := func(name string, err error) error {
			return &FileError{Path: filepath.Join(dst, filepath.FromSlash(name)), Err: fmt.Errorf("ProjectFS: %w", err)}
		}
		if err := copyTree(l.ProjectFS, dst, srcErr); err != nil {
			return err
		}
	}
	return writeFiles(dst, "ProjectFiles", l.ProjectFiles)
}

// checkNames reports the first key of files, the Layout field named field,
// that is not a local slash-separated path, or that names the file taken
// by another field, before anything is written.
func checkNames(field string, files map[string][]byte, taken string) error {
	for _, name := range slices.Sorted(maps.Keys(files)) {
		rel := filepath.FromSlash(name)
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("privdata: %w: %s: %q is not a local relative path", ErrLayout, field, name)
		}
		if taken != "" && filepath.Clean(rel) == taken {
			return fmt.Errorf("privdata: %w: %s: %q is the file Inventory.Content or Data writes", ErrLayout, field, name)
		}
	}
	return nil
}

// writeFiles writes files, keyed by paths checkNames accepted, under the
// existing dir dir, creating their directories (0700) as needed.
func writeFiles(dir, field string, files map[string][]byte) error {
	for _, name := range slices.Sorted(maps.Keys(files)) {
		path, err := mkdirLocal(dir, field, name)
		if err != nil {
			return err
		}
		if err := writeAtomic(path, files[name], 0o600); err != nil {
			return err
		}
	}
	return nil
}

// mkdirLocal creates the missing parent directories (0700) of name, a
// local slash-separated path, under dir, and returns the path of name. A
// parent that is a symlink must resolve to a directory inside dir: one
// copied from Project or ProjectFS, or left by an earlier run, could point
// anywhere, and writing through it would write outside the private data dir.
func mkdirLocal(dir, field, name string) (string, error) {
	rel := filepath.Clean(filepath.FromSlash(name))
	var root string // dir with its symlinks resolved, once needed
	parent := dir
	for elem := range strings.SplitSeq(filepath.Dir(rel), string(filepath.Separator)) {
		if elem == "." {
			continue
		}
		parent = filepath.Join(parent, elem)
		st, err := os.Lstat(parent)
		if errors.Is(err, fs.ErrNotExist) {
			err = os.Mkdir(parent, 0o700)
		} else if err == nil && st.Mode()&fs.ModeSymlink != 0 {
			if root == "" {
				if root, err = filepath.EvalSymlinks(dir); err != nil {
					return "", fmt.Errorf("privdata: %w", err)
				}
			}
			var resolved string
			if resolved, err = filepath.EvalSymlinks(parent); err == nil {
				if r, rerr := filepath.Rel(root, resolved); rerr != nil || !filepath.IsLocal(r) {
					return "", &FileError{Path: parent, Err: fmt.Errorf("%w: %s: %q leads out of %s through a symlink", ErrLayout, field, name, filepath.Base(dir))}
				}
				st, err = os.Stat(resolved)
			}
		}
		if err != nil {
			return "", &FileError{Path: parent, Err: unwrapPathError(err)}
		}
		if st != nil && !st.IsDir() {
			return "", &FileError{Path: parent, Err: errors.New("exists and is not a directory")}
		}
	}
	return filepath.Join(dir, rel), nil
}

// copyTree copies regular files (owner permission bits kept), directories
// (0700) and symlinks (as symlinks) from the root of fsys into the existing
// dir dst; srcErr wraps an error about a file of fsys, named as in fsys.
// What an earlier copy left in dst is replaced, never written through: a
// symlink planted at a file's path may point outside the private data dir.
// Files no longer in fsys are left in place.
func copyTree(fsys fs.FS, dst string, srcErr func(name string, err error) error) error {
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return srcErr(name, unwrapPathError(err))
		}
		if name == "." {
			if !d.IsDir() {
				return srcErr(name, fmt.Errorf("%w: not a directory", ErrLayout))
			}
			return nil
		}
		target := filepath.Join(dst, filepath.FromSlash(name))
		switch {
		case d.IsDir():
			return mkdirPrivate(target)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := fs.ReadLink(fsys, name)
			if errors.Is(err, fs.ErrInvalid) {
				return srcErr(name, fmt.Errorf("%w: a symlink, which this fs.FS cannot read (no fs.ReadLinkFS)", ErrLayout))
			}
			if err != nil {
				return srcErr(name, unwrapPathError(err))
			}
			return replaceSymlink(link, target)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return srcErr(name, unwrapPathError(err))
			}
			in, err := fsys.Open(name)
			if err != nil {
				return srcErr(name, unwrapPathError(err))
			}
			defer in.Close()
			return writeAtomicFrom(target, in, info.Mode().Perm()&0o700|0o600)
		default:
			return srcErr(name, fmt.Errorf("%w: cannot copy %s into project/", ErrLayout, d.Type()))
		}
	})
}

// replaceSymlink creates the symlink path -> link, first removing what a
// previous Write left at path. Should something reappear at path in
// between, Symlink fails rather than follows it.
func replaceSymlink(link, path string) error {
	if err := removeNonDir(path); err != nil {
		return err
	}
	if err := os.Symlink(link, path); err != nil {
		return &FileError{Path: path, Err: unwrapLinkError(err)}
	}
	return nil
}

// removeNonDir removes the file, symlink (not its target) or special file
// at path, if any. A directory is reported rather than removed: it holds
// content the caller did not ask to replace.
func removeNonDir(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		if st.IsDir() {
			return &FileError{Path: path, Err: errExistsDir}
		}
		err = os.Remove(path)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return &FileError{Path: path, Err: unwrapPathError(err)}
	}
	return nil
}

// errExistsDir is the Err of a FileError for a directory where Write must
// put a file or a symlink.
var errExistsDir = errors.New("exists and is a directory")

// writeAtomic writes data to path; see writeAtomicFrom.
func writeAtomic(path string, data []byte, perm fs.FileMode) error {
	return writeAtomicFrom(path, bytes.NewReader(data), perm)
}

// writeAtomicFrom copies r to path through atomicfile, so readers never see
// partial content and whatever sat at path (a file, a symlink, a named
// pipe) is replaced, not written through; the mode is perm whatever the
// umask. A directory at path is an error.
func writeAtomicFrom(path string, r io.Reader, perm fs.FileMode) error {
	if st, err := os.Lstat(path); err == nil && st.IsDir() {
		return &FileError{Path: path, Err: errExistsDir}
	}
	if err := atomicfile.Write(path, r, perm, false); err != nil {
		var pe *fs.PathError
		var le *os.LinkError
		if !errors.As(err, &pe) && !errors.As(err, &le) {
			// Kept whole: a read error names the source, not path.
			return &FileError{Path: path, Err: err}
		}
		return &FileError{Path: path, Err: unwrapLinkError(err)}
	}
	return nil
}

// unwrapLinkError is unwrapPathError for errors that may also come from
// os.Rename or os.Symlink, whose *os.LinkError repeats both paths.
func unwrapLinkError(err error) error {
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return unwrapPathError(err)
}
