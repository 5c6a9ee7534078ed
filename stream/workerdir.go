package stream

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/arunner/arunner/internal/lockdir"
	"github.com/arunner/arunner/internal/resultx"
	"github.com/arunner/arunner/privdata"
)

// A worker without a PrivateDataDir runs its job in a temporary dir,
// <TMPDIR>/arunner-worker-<random>, locked (package lockdir) for the
// worker's life; the private data dir is its "pdd". A worker killed hard
// cannot remove it, and the job's env/ secrets are in it: the next worker,
// and `arunner worker cleanup`, remove every such dir whose lock no worker
// holds.
const (
	workerDirPrefix = "arunner-worker-"
	workerPDD       = "pdd"
)

// makeWorkerDir makes a worker's temporary private data dir, after removing
// those that killed workers left. done removes it.
func makeWorkerDir() (pdd string, done func(), err error) {
	CleanWorkerDirs("")
	dir := filepath.Join(os.TempDir(), workerDirPrefix+strings.ReplaceAll(uuid.NewString(), "-", "")[:12])
	lock, err := lockdir.Make(dir)
	if err != nil {
		return "", nil, err
	}
	done = func() {
		removeWorkerDir(dir)
		lock.Close()
	}
	pdd = filepath.Join(dir, workerPDD)
	if err := os.Mkdir(pdd, 0o700); err != nil {
		done()
		return "", nil, err
	}
	return pdd, done, nil
}

// removeWorkerDir removes a worker's temporary dir, with what its runs
// left outside it (scratch dirs, ssh control masters) should they have
// been killed too.
func removeWorkerDir(dir string) {
	resultx.CleanAbandoned(privdata.Paths{Root: filepath.Join(dir, workerPDD)}.Artifacts())
	os.RemoveAll(dir)
}

// CleanWorkerDirs removes the temporary private data dirs that workers
// killed hard (SIGKILL, a crash) left in tmp (os.TempDir() when empty),
// env/ secrets included, and returns their paths. A live worker's dir, and
// one of another user's, is left alone. Worker calls it before it makes a
// temporary dir; `arunner worker cleanup` calls it too.
func CleanWorkerDirs(tmp string) ([]string, error) {
	if tmp == "" {
		tmp = os.TempDir()
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), workerDirPrefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		if _, err := os.Lstat(filepath.Join(dir, lockdir.LockName)); err != nil {
			continue // not made by this Worker (an older one's may be live)
		}
		release, ok := lockdir.Abandoned(dir)
		if !ok {
			continue
		}
		removeWorkerDir(dir)
		release()
		removed = append(removed, dir)
	}
	return removed, nil
}
