package privdata

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Artifacts is one run's artifacts dir, <root>/<ident>, laid out as
// ansible-runner 2.3.1 does. Observed from `ansible-runner run pdd -p
// test.yml --ident x`: <ident>/ and job_events/ are 0700; command, status,
// rc, stdout and job_events/*.json are 0600; status and rc carry no
// trailing newline ("successful", "0"); fact_cache/ is created by ansible
// itself, not by the runner. The reference leaves stderr at the umask
// default (0644); arunner makes it 0600 like stdout.
type Artifacts struct {
	// Dir is <root>/<ident>, absolute.
	Dir string
	// FactCache is the fact cache subdirectory name (Settings.FactCache);
	// "" means "fact_cache".
	FactCache string
}

// NewArtifacts creates <root>/<ident> (0700) and its job_events/ (0700);
// root itself is created 0700 if missing. An existing <root>/<ident>
// directory is reused, as the reference does on a repeated ident, but a
// symlink there is refused. fact_cache/ is left to ansible, which creates it
// on first write.
func NewArtifacts(root, ident string) (*Artifacts, error) {
	if err := ValidateIdent(ident); err != nil {
		return nil, err
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("privdata: artifacts root %s: %w", root, err)
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("privdata: %w", err)
	}
	a := &Artifacts{Dir: filepath.Join(root, ident)}
	for _, d := range []string{a.Dir, a.JobEventsDir()} {
		if err := mkdirPrivate(d); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// mkdirPrivate creates d with mode 0700, accepting an existing real
// directory but not a symlink or a file.
func mkdirPrivate(d string) error {
	err := os.Mkdir(d, 0o700)
	if err == nil || !errors.Is(err, fs.ErrExist) {
		if err != nil {
			return fmt.Errorf("privdata: %w", err)
		}
		return nil
	}
	st, err := os.Lstat(d)
	if err != nil {
		return fmt.Errorf("privdata: %w", err)
	}
	if !st.IsDir() {
		return &FileError{Path: d, Err: errors.New("exists and is not a directory")}
	}
	return nil
}

// JobEventsDir returns <Dir>/job_events.
func (a *Artifacts) JobEventsDir() string { return filepath.Join(a.Dir, "job_events") }

// StdoutPath returns <Dir>/stdout, ansible's text.
func (a *Artifacts) StdoutPath() string { return filepath.Join(a.Dir, "stdout") }

// FactCacheDir returns the jsonfile fact cache dir, <Dir>/<FactCache>. It
// may not exist yet.
func (a *Artifacts) FactCacheDir() string {
	return filepath.Join(a.Dir, cmp.Or(a.FactCache, defaultFactCache))
}

// WriteCommand writes the "command" file, {"command": argv, "cwd": cwd,
// "env": env}, in the reference's Python json.dump layout (", " and ": "
// separators, non-ASCII kept as UTF-8; env keys sorted). env must already be
// redacted: unlike the reference, arunner never writes secrets there.
func (a *Artifacts) WriteCommand(argv []string, cwd string, env map[string]string) error {
	var b bytes.Buffer
	b.WriteString(`{"command": [`)
	for i, s := range argv {
		if i > 0 {
			b.WriteString(", ")
		}
		writeJSONString(&b, s)
	}
	b.WriteString(`], "cwd": `)
	writeJSONString(&b, cwd)
	b.WriteString(`, "env": {`)
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		writeJSONString(&b, k)
		b.WriteString(": ")
		writeJSONString(&b, env[k])
	}
	b.WriteString("}}")
	return writePrivate(filepath.Join(a.Dir, "command"), b.Bytes())
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false) // Python does not escape <, > and &
	_ = enc.Encode(s)        // a string always encodes
	b.Truncate(b.Len() - 1)  // Encode appends '\n'
}

// WriteStatus writes the "status" file (successful, failed, timeout,
// canceled, error), without a trailing newline, into the room ReserveFinal
// set aside if it did.
func (a *Artifacts) WriteStatus(status string) error {
	return a.writeFinal("status", []byte(status))
}

// WriteRC writes the "rc" file as decimal text without a trailing newline,
// into the room ReserveFinal set aside if it did.
func (a *Artifacts) WriteRC(rc int) error {
	return a.writeFinal("rc", strconv.AppendInt(nil, int64(rc), 10))
}

// reserveSize is what ReserveFinal writes per file: more than any status
// or rc takes, and one block of the file system.
const reserveSize = 64

// ReserveFinal sets aside the room for the status and rc files, which are
// written last, so that they can still be written when the run fills the
// disk (stdout and job_events take what there is): two hidden files,
// .status.reserve and .rc.reserve, that WriteStatus and WriteRC overwrite in
// place, which takes no new block, and rename to their names. status and
// rc do not exist before the end, as with the reference, which readers
// rely on. A reserve left by a crash is overwritten by the next run of the
// same ident.
func (a *Artifacts) ReserveFinal() error {
	for _, name := range []string{"status", "rc"} {
		if err := writePrivate(a.reservePath(name), make([]byte, reserveSize)); err != nil {
			return err
		}
	}
	return nil
}

func (a *Artifacts) reservePath(name string) string {
	return filepath.Join(a.Dir, "."+name+".reserve")
}

// writeFinal writes name's data into its reserve, if there is one, and
// renames it into place; else, or should that fail, it writes name anew.
func (a *Artifacts) writeFinal(name string, data []byte) error {
	path, reserve := filepath.Join(a.Dir, name), a.reservePath(name)
	f, err := os.OpenFile(reserve, os.O_WRONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return writePrivate(path, data)
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Truncate(int64(len(data)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(reserve, path)
	}
	if err != nil {
		os.Remove(reserve)
		return writePrivate(path, data)
	}
	return nil
}

// CreateStdout creates (truncating) the "stdout" file, 0600, for the
// runner to stream into. The caller closes it.
func (a *Artifacts) CreateStdout() (*os.File, error) {
	return createPrivate(a.StdoutPath())
}

// CreateStderr creates (truncating) the "stderr" file, 0600. Under a pty it
// stays empty, as in the reference. The caller closes it.
func (a *Artifacts) CreateStderr() (*os.File, error) {
	return createPrivate(filepath.Join(a.Dir, "stderr"))
}

// createPrivate opens path for writing with mode exactly 0600, refusing to
// follow a symlink planted in its place.
func createPrivate(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("privdata: %w", err)
	}
	// An existing file keeps its old mode, and the umask may have cleared
	// bits: force 0600, as the reference's chmod does.
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("privdata: %w", err)
	}
	return f, nil
}

func writePrivate(path string, data []byte) error {
	f, err := createPrivate(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("privdata: %w", err)
	}
	return nil
}

// WriteEvent writes job_events/<counter>-<uuid>.json (0600) with one
// create, one write and one close. It does not go through a temporary file
// and a rename, which cost a third more per event on ext4: like
// ansible-runner, which writes the same files in place, a reader listing
// the directory during the run may meet a file still being written. A
// failed write removes its file, so none is left half written by an error.
// uuid must be a single path element.
func (a *Artifacts) WriteEvent(counter int, uuid string, data []byte) error {
	return writeEvent(unix.AT_FDCWD, a.JobEventsDir(), counter, uuid, data)
}

// EventWriter writes job_events files as WriteEvent does, but relative to
// a descriptor of the job_events directory held open: the kernel then
// looks up one name per file instead of walking the whole path, and a
// directory on the path swapped for a
// symlink after OpenEventWriter cannot redirect the files. Write may be
// called from several goroutines at once; Close must come after the last
// Write.
type EventWriter struct {
	dir string
	fd  int
}

// OpenEventWriter opens the job_events directory for an EventWriter. A
// symlink in place of the directory is refused.
func (a *Artifacts) OpenEventWriter() (*EventWriter, error) {
	dir := a.JobEventsDir()
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("privdata: open %s: %w", dir, err)
	}
	return &EventWriter{dir: dir, fd: fd}, nil
}

// Write writes job_events/<counter>-<uuid>.json; see Artifacts.WriteEvent.
func (w *EventWriter) Write(counter int, uuid string, data []byte) error {
	if w.fd < 0 {
		return fmt.Errorf("privdata: write event %d: %w", counter, os.ErrClosed)
	}
	return writeEvent(w.fd, w.dir, counter, uuid, data)
}

// Close releases the directory's descriptor.
func (w *EventWriter) Close() error {
	if w.fd < 0 {
		return os.ErrClosed
	}
	err := syscall.Close(w.fd)
	w.fd = -1
	return err
}

// writeEvent writes <counter>-<uuid>.json in dir, which dirfd names
// (AT_FDCWD: by its path). Errors name the file's full path.
func writeEvent(dirfd int, dir string, counter int, uuid string, data []byte) error {
	if counter < 0 {
		return fmt.Errorf("privdata: event counter %d: %w", counter, ErrBadValue)
	}
	if err := ValidateIdent(uuid); err != nil {
		return fmt.Errorf("privdata: event uuid: %w", err)
	}
	// Raw syscalls: this is the hot path (one call per ansible event), and
	// os.File's poller registration and finalizer cost more than the write.
	// The name is what dirfd needs; the full path is made for an error only.
	var buf []byte
	if dirfd == unix.AT_FDCWD {
		buf = append(append(make([]byte, 0, len(dir)+len(uuid)+32), dir...), '/')
	} else {
		buf = make([]byte, 0, len(uuid)+32)
	}
	buf = strconv.AppendInt(buf, int64(counter), 10)
	buf = append(buf, '-')
	buf = append(buf, uuid...)
	buf = append(buf, ".json"...)
	name := string(buf)
	if err := writeFileRaw(dirfd, name, data); err != nil {
		path := name
		if dirfd != unix.AT_FDCWD {
			path = dir + "/" + name
		}
		return fmt.Errorf("privdata: %w", &fs.PathError{Op: "write", Path: path, Err: err})
	}
	return nil
}

// writeFileRaw creates name (relative to dirfd) exclusively, so its mode
// is 0600 (minus the umask) and a symlink planted there is not followed,
// even when a stale file from a crash sits there: that one is removed and
// the create retried, costing nothing in the common case.
func writeFileRaw(dirfd int, name string, data []byte) error {
	const flags = syscall.O_WRONLY | syscall.O_CREAT | syscall.O_EXCL | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	fd, err := unix.Openat(dirfd, name, flags, 0o600)
	if err == syscall.EEXIST {
		if err = unix.Unlinkat(dirfd, name, 0); err == nil {
			fd, err = unix.Openat(dirfd, name, flags, 0o600)
		}
	}
	if err != nil {
		return err
	}
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			unix.Unlinkat(dirfd, name, 0)
			return err
		}
		data = data[n:]
	}
	if err := syscall.Close(fd); err != nil {
		unix.Unlinkat(dirfd, name, 0)
		return err
	}
	return nil
}

// ReadEvents yields the content of each job event file in dir (a
// job_events directory) in counter order, numerically (2 before 10), as
// the reference's events property does. It skips "*-partial.json" files
// left by the callback and ".tmp" files (which older arunner versions
// wrote through). A failure yields a nil slice with the error; iteration
// continues with the next file.
func ReadEvents(dir string) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for f, err := range ReadEventFiles(dir) {
			if !yield(f.Data, err) {
				return
			}
		}
	}
}

// eventPaths yields the job event files of dir in counter order; an error
// reading dir is the one thing yielded.
func eventPaths(dir string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			yield("", fmt.Errorf("privdata: %w", err))
			return
		}
		type ev struct {
			n    int
			name string
		}
		var evs []ev
		for _, e := range ents {
			n, ok := eventCounter(e.Name())
			if ok {
				evs = append(evs, ev{n, e.Name()})
			}
		}
		slices.SortFunc(evs, func(x, y ev) int {
			return cmp.Or(cmp.Compare(x.n, y.n), strings.Compare(x.name, y.name))
		})
		for _, e := range evs {
			if !yield(filepath.Join(dir, e.name), nil) {
				return
			}
		}
	}
}

// eventCounter parses "<counter>-<uuid>.json", the names the reference
// matches with ^[0-9]+-.+json$ minus "-partial".
func eventCounter(name string) (int, bool) {
	digits, rest, ok := strings.Cut(name, "-")
	if !ok || digits == "" || len(rest) <= len(".json") || !strings.HasSuffix(rest, ".json") || strings.Contains(rest, "-partial") {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 || digits[0] == '+' {
		return 0, false
	}
	return n, true
}

// Rotate keeps the newest keep entries of root (an artifacts dir holding
// one directory per ident) by modification time and removes the others, as
// ansible-runner's rotate_artifacts does at the start of a run: the current
// run's directory, already created, counts towards keep. keep <= 0 disables
// rotation.
func Rotate(root string, keep int) error {
	if keep <= 0 {
		return nil
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return fmt.Errorf("privdata: rotate: %w", err)
	}
	type item struct {
		name string
		mt   int64
	}
	items := make([]item, 0, len(ents))
	for _, e := range ents {
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed concurrently
		}
		if err != nil {
			return fmt.Errorf("privdata: rotate: %w", err)
		}
		items = append(items, item{e.Name(), info.ModTime().UnixNano()})
	}
	if len(items) <= keep {
		return nil
	}
	slices.SortFunc(items, func(x, y item) int {
		return cmp.Or(cmp.Compare(x.mt, y.mt), strings.Compare(x.name, y.name))
	})
	var errs []error
	for _, it := range items[:len(items)-keep] {
		if err := os.RemoveAll(filepath.Join(root, it.name)); err != nil {
			errs = append(errs, fmt.Errorf("privdata: rotate: %w", err))
		}
	}
	return errors.Join(errs...)
}

// ValidateIdent reports whether ident can name an artifacts directory: a
// single path element that is not empty, ".", or "..", with no "/" or NUL,
// and at most 255 bytes. The error wraps ErrBadIdent.
func ValidateIdent(ident string) error {
	switch {
	case ident == "":
		return fmt.Errorf("privdata: %w: empty", ErrBadIdent)
	case ident == "." || ident == "..":
		return fmt.Errorf("privdata: %w: %q", ErrBadIdent, ident)
	case strings.ContainsAny(ident, "/\x00"):
		return fmt.Errorf("privdata: %w: %q contains '/' or NUL", ErrBadIdent, ident)
	case len(ident) > 255:
		return fmt.Errorf("privdata: %w: longer than 255 bytes", ErrBadIdent)
	}
	return nil
}
