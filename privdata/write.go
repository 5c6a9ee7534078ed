package privdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
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
	// Project is a directory whose tree is copied into project/ ("" = none).
	// A later Write replaces the copied files with the source's current
	// ones; files since removed from the source stay in project/.
	Project string
	// ProjectFiles are written into project/ after Project is copied; keys
	// are slash-separated paths relative to project/ (e.g. "site.yml").
	ProjectFiles map[string][]byte
}

// Inventory selects the inventory. At most one field may be set.
type Inventory struct {
	// Path is an existing inventory file, directory or script used in place
	// (not copied, so its group_vars/ stay next to it). Write returns it
	// in Dir.Inventory; Load on the same dir later will not see it.
	Path string
	// Content is INI, YAML or JSON inventory text written to inventory/hosts (0600).
	Content string
	// Data is marshalled to JSON in inventory/hosts.json (0600).
	Data any
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
	envDir := filepath.Join(abs, "env")
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
	if err := writeProject(abs, l.Project, l.ProjectFiles); err != nil {
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
	default:
		return nil
	}
	dir := filepath.Join(pdd, "inventory")
	if err := mkdirPrivate(dir); err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, name), data, 0o600)
}

func writeProject(pdd, src string, files map[string][]byte) error {
	if src == "" && len(files) == 0 {
		return nil
	}
	dst := filepath.Join(pdd, "project")
	if err := mkdirPrivate(dst); err != nil {
		return err
	}
	if src != "" {
		if err := copyTree(src, dst); err != nil {
			return err
		}
	}
	for name, data := range files {
		rel := filepath.FromSlash(name)
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("privdata: %w: ProjectFiles: %q is not a local relative path", ErrLayout, name)
		}
		path := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("privdata: %w", err)
		}
		if err := writeAtomic(path, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// copyTree copies regular files (owner permission bits kept), directories
// (0700) and symlinks (as symlinks) from src into the existing dir dst.
// What an earlier copy left in dst is replaced, never written through: a
// symlink planted at a file's path may point outside the private data dir.
// Files no longer in src are left in place.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("privdata: copy project: %w", err)
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return fmt.Errorf("privdata: copy project: %w", err)
		}
		if rel == "." {
			if !d.IsDir() {
				return &FileError{Path: path, Err: fmt.Errorf("%w: Project must be a directory", ErrLayout)}
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return mkdirPrivate(target)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return fmt.Errorf("privdata: copy project: %w", err)
			}
			return replaceSymlink(link, target)
		case d.Type().IsRegular():
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("privdata: copy project: %w", err)
			}
			return copyFile(path, target, info.Mode().Perm()&0o700|0o600)
		default:
			return &FileError{Path: path, Err: fmt.Errorf("%w: cannot copy %s into project/", ErrLayout, d.Type())}
		}
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("privdata: copy project: %w", err)
	}
	defer in.Close()
	return writeAtomicFrom(dst, in, perm)
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

// writeAtomicFrom copies r to a temporary file next to path and renames it
// into place with mode perm, so readers never see partial content and
// whatever sat at path (a file, a symlink, a named pipe) is replaced, not
// written through. The mode is set on the open file, so the umask does not
// apply and no symlink is followed. A directory at path is an error.
func writeAtomicFrom(path string, r io.Reader, perm fs.FileMode) error {
	if st, err := os.Lstat(path); err == nil && st.IsDir() {
		return &FileError{Path: path, Err: errExistsDir}
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return &FileError{Path: path, Err: unwrapPathError(err)}
	}
	tmp := f.Name()
	if _, err := io.Copy(f, r); err != nil {
		// Kept whole: a read error names the source, not path.
		f.Close()
		_ = os.Remove(tmp)
		return &FileError{Path: path, Err: err}
	}
	err = f.Chmod(perm)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
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
