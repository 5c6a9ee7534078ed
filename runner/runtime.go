package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/arunner/arunner/internal/lockdir"
)

// A run keeps what only it may read in two private (0700) dirs, removed when
// it ends:
//
//   - the runtime dir, <artifacts>/<ident>/.arunner: credential files, the
//     callback plugin, the agent socket, extra vars files until ansible has
//     read them (unlinkStarted), an inline inventory, a copy of
//     Config.ProjectFS, links to a generated playbook. Its lock file
//     is held with flock for the run's life, which tells a live run's dir
//     from one a run killed hard (os.Exit, SIGKILL) left behind.
//   - the scratch dir, made with os.MkdirTemp in a temp dir whose path
//     ansible and ssh take as it is: the ssh control path dir, and links
//     to the user's dirs whose paths ansible would split or expand (see
//     ansibleSafe). The runtime dir's "scratch" link points to it.
//
// The next run in the same artifacts root removes every runtime dir whose
// lock no run holds, with its scratch dir, after stopping the ssh control
// masters left there.
const (
	runtimeName   = ".arunner"
	scratchLink   = "scratch"
	scratchPrefix = "arunner-run-"
)

// ansibleUnsafe are the characters that make ansible or ssh read a path as
// something else: ':' splits ANSIBLE_CALLBACK_PLUGINS, ANSIBLE_ROLES_PATH
// and the other pathspec variables, ',' splits pathlist variables and turns
// an inventory into a host list, '$' starts a variable ansible expands in
// paths, '{' can start its {{CWD}}, '%' starts an ssh ControlPath token.
const ansibleUnsafe = ":,$%{"

// ansibleSafe reports whether ansible takes p as the path it is in any of
// the variables the runner sets.
func ansibleSafe(p string) bool {
	return utf8.ValidString(p) && !strings.ContainsAny(p, ansibleUnsafe)
}

// scratchBase is the dir to make scratch dirs in: os.TempDir(), or /tmp
// when that path is not ansibleSafe.
func scratchBase() (string, error) {
	for _, d := range []string{os.TempDir(), "/tmp"} {
		if filepath.IsAbs(d) && ansibleSafe(d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("no temp dir whose path ansible can use: %q contains one of %q", os.TempDir(), ansibleUnsafe)
}

// planRuntime chooses the paths of the run's runtime dir and scratch dir;
// makeRuntime makes them. An error is a *ConfigError.
func (r *run) planRuntime() error {
	base, err := scratchBase()
	if err != nil {
		return &ConfigError{Field: "TMPDIR", Err: err}
	}
	r.runtime = filepath.Join(r.art.Dir, runtimeName)
	r.scratch = filepath.Join(base, scratchPrefix+strings.ReplaceAll(uuid.NewString(), "-", "")[:12])
	return nil
}

// makeRuntime creates the run's runtime dir, already locked (it is made
// under a temporary name and renamed, so no run ever sees it unlocked), and
// its scratch dir, where planRuntime said. An error is a *ConfigError.
func (r *run) makeRuntime() error {
	_, lock, err := makeLocked(r.art.Dir)
	if err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("another run with ident %q is using %s", r.ident, r.art.Dir)
		}
		return &ConfigError{Field: "ArtifactDir", Err: err}
	}
	r.lock = lock
	err = os.Mkdir(r.scratch, 0o700)
	if err == nil {
		r.scratchMade = true
		err = os.Symlink(r.scratch, filepath.Join(r.runtime, scratchLink))
	}
	if err != nil {
		return &ConfigError{Field: "TMPDIR", Err: err}
	}
	return nil
}

// makeLocked makes dir/.arunner holding the lock file, and returns it with
// the lock held.
func makeLocked(dir string) (string, *os.File, error) {
	rt := filepath.Join(dir, runtimeName)
	lock, err := lockdir.Make(rt)
	return rt, lock, err
}

// removeRuntime removes the scratch dir, then the runtime dir, then lets go
// of the lock. The cleanup functions, which stop the agent and the control
// masters, must have run.
func (r *run) removeRuntime() {
	if r.scratchMade {
		os.RemoveAll(r.scratch)
		r.scratchMade = false
	}
	if r.lock != nil {
		// Only a run that made the runtime dir holds its lock: another
		// run with the same ident may be using the one at that path.
		os.RemoveAll(r.runtime)
		r.lock.Close()
		r.lock = nil
	}
}

// unlinkStarted removes the files ansible reads once, at its start (extra
// vars): they are removed as soon as the callback plugin's first event
// shows that ansible has read them, so that a run killed after that leaves
// them nowhere. (A memfd named /dev/fd/N would leave nothing at all, but
// ansible-playbook resolves -e @path with realpath, to the memfd's
// unopenable name.) ansible loads extra vars
// before it loads the callback plugin.
func (r *run) unlinkStarted() {
	for _, p := range r.readAtStart {
		os.Remove(p)
	}
	r.readAtStart = nil
}

// ansiblePath returns p if ansible takes it as it is, else a link to p
// named name in the scratch dir, which apply makes.
func (r *run) ansiblePath(p, name string) string {
	if ansibleSafe(p) {
		return p
	}
	link := filepath.Join(r.scratch, name)
	r.planned = append(r.planned, planFile{PlanFile: PlanFile{Path: link, What: "link to " + p}, link: p})
	return link
}

// ansibleDir is where the runner's own files that ansible finds through a
// path-list variable, or by a path it expands (-e @file), go: the runtime
// dir, or the scratch dir when the runtime dir's path is not ansibleSafe.
func (r *run) ansibleDir() string {
	if ansibleSafe(r.runtime) {
		return r.runtime
	}
	return r.scratch
}

// CleanAbandoned removes what runs killed hard (SIGKILL, a crash) left
// under the artifacts root artifactsRoot (PrivateDataDir/artifacts unless
// Config.ArtifactDir said otherwise): their runtime dirs, with credential
// files, extra vars and the callback plugin; their scratch dirs in the temp
// dir, after stopping the ssh control masters left there; their generated
// playbooks. A live run's are left alone. Every run does this in its own
// artifacts root when it starts; a program that deletes a private data dir
// whose runs may have been killed calls it first, since the scratch dirs
// are elsewhere.
func CleanAbandoned(artifactsRoot string) { cleanAbandoned(artifactsRoot) }

// cleanAbandoned removes the runtime dirs under the artifacts root that no
// live run holds, with their scratch dirs. It runs before artifacts are
// rotated, which would remove a runtime dir but not its scratch dir. It
// never fails a run: what it cannot remove now, a later run tries again.
func cleanAbandoned(root string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() {
			removeAbandoned(filepath.Join(root, e.Name(), runtimeName))
		}
	}
}

func removeAbandoned(rt string) {
	st, err := os.Lstat(filepath.Dir(rt))
	if err != nil {
		return
	}
	release, ok := lockdir.Abandoned(rt)
	if !ok {
		return // a live run's, or not ours
	}
	defer release()
	if target, err := os.Readlink(filepath.Join(rt, scratchLink)); err == nil {
		removeScratch(target)
	}
	for _, link := range playbookLinks {
		if target, err := os.Readlink(filepath.Join(rt, link)); err == nil {
			removePlaybook(target)
		}
	}
	os.RemoveAll(rt)
	// The artifacts dir keeps its time, by which artifacts are rotated.
	_ = os.Chtimes(filepath.Dir(rt), time.Time{}, st.ModTime())
}

// removeScratch removes a crashed run's scratch dir, if target is one of
// ours, after stopping the ssh control masters left in it.
func removeScratch(target string) {
	if !filepath.IsAbs(target) || !strings.HasPrefix(filepath.Base(target), scratchPrefix) {
		return
	}
	st, err := os.Lstat(target)
	if err != nil || !st.IsDir() || !ours(st) {
		return
	}
	stopControlMasters(filepath.Join(target, controlPathDir))
	os.RemoveAll(target)
}

// removePlaybook removes a crashed run's generated playbook (a role's, or
// an inline one), if target is one: it may hold secrets (Role.Vars).
func removePlaybook(target string) {
	base := filepath.Base(target)
	if !filepath.IsAbs(target) || !strings.HasPrefix(base, playbookPrefix["role"]) && !strings.HasPrefix(base, playbookPrefix["playbook"]) {
		return
	}
	if st, err := os.Lstat(target); err == nil && st.Mode().IsRegular() && ours(st) {
		os.Remove(target)
	}
}

// ours reports whether this process's user owns the file: a dir that
// another user planted is never followed or removed.
func ours(st fs.FileInfo) bool { return lockdir.Ours(st) }
