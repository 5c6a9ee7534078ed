// Package lockdir makes private directories that tell whether the process
// that made them is still alive, so that what a process killed hard
// (SIGKILL, os.Exit) left behind can be removed by the next one: each holds
// a lock file, flocked by its maker for as long as it uses the directory.
// runner keeps its runtime dirs this way, and stream's worker its temporary
// private data dirs.
package lockdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// LockName is the lock file's name in a locked dir.
const LockName = "lock"

// Make makes dir (0700), holding its lock file, already locked: it is made
// under a temporary name in dir's parent (a dot and dir's name, so that it
// matches no pattern that dir's name does) and renamed into place, so that
// no process ever sees it unlocked. The caller keeps the file open for as
// long as it uses dir, removes dir, then closes the file.
func Make(dir string) (*os.File, error) {
	parent, base := filepath.Split(dir)
	tmp, err := os.MkdirTemp(parent, "."+strings.TrimPrefix(base, ".")+"-")
	if err != nil {
		return nil, err
	}
	lock, err := os.OpenFile(filepath.Join(tmp, LockName), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		if err = unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			lock.Close()
		}
	}
	if err == nil {
		if err = os.Rename(tmp, dir); err != nil {
			lock.Close()
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	return lock, nil
}

// Abandoned reports whether dir is a directory of this user's whose maker
// is gone: its lock file is held by no process, or it has none (made
// before such dirs had locks, or being removed). It then returns holding
// the lock, so that the dir stays abandoned while the caller removes it;
// release lets go of it.
func Abandoned(dir string) (release func(), ok bool) {
	if st, err := os.Lstat(dir); err != nil || !st.IsDir() || !Ours(st) {
		return nil, false
	}
	lock, err := os.OpenFile(filepath.Join(dir, LockName), os.O_RDWR|syscall.O_NOFOLLOW, 0)
	switch {
	case err == nil:
		if unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
			lock.Close()
			return nil, false // a live process's
		}
		// Its maker may have removed dir since the lock was opened, and
		// another made a new one at that path.
		held, err1 := lock.Stat()
		now, err2 := os.Lstat(lock.Name())
		if err1 != nil || err2 != nil || !os.SameFile(held, now) {
			lock.Close()
			return nil, false
		}
		return func() { lock.Close() }, true
	case errors.Is(err, fs.ErrNotExist):
		return func() {}, true
	}
	return nil, false
}

// Ours reports whether this process's user owns the file: a dir that
// another user planted is never followed or removed.
func Ours(st fs.FileInfo) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Geteuid()
}
