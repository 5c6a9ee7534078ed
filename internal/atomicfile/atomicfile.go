// Package atomicfile replaces a file whole, the one way arunner does it:
// readers see the old content or the new, never a mix, and whatever sat at
// the path (a file, a symlink, a named pipe) is replaced, not written
// through.
package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write copies r to a hidden temporary file next to path (its name starts
// with "." and the base name of path, so that a crash leaves only a dot
// file behind), sets perm on the open file (the umask does not apply and
// no symlink is followed), syncs it to disk when sync is set, and renames
// it into place. Errors are those of the os package; a read error from r
// is returned as it is.
func Write(path string, r io.Reader, perm fs.FileMode, sync bool) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = io.Copy(f, r); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if sync {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
