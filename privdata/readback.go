package privdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrNotFinished means a directory holds no finished run's artifacts: it
// has no status file, because the run is still going or the directory is
// not an artifacts dir at all.
var ErrNotFinished = errors.New("not a finished run's artifacts dir")

// OpenArtifacts returns the Artifacts of an existing run's dir,
// <root>/<ident>, to read them back. It checks only that dir is a
// directory; ReadFinished checks what is in it.
func OpenArtifacts(dir string) (*Artifacts, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, &FileError{Path: dir, Err: err}
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, &FileError{Path: abs, Err: unwrapPathError(err)}
	}
	if !st.IsDir() {
		return nil, &FileError{Path: abs, Err: errors.New("not a directory")}
	}
	return &Artifacts{Dir: abs}, nil
}

// Finished is what a finished run's artifacts record besides its events
// and output.
type Finished struct {
	// Status is the status file's word: successful, failed, timeout,
	// canceled or error.
	Status string
	// RC is the rc file's number. ansible-runner writes "None" there for a
	// process killed by a signal; that reads as -1.
	RC int
	// Command and Cwd are the command file's; nil and "" when there is
	// none.
	Command []string
	Cwd     string
}

// maxFinalFile bounds the status and rc files: a word or a number.
const maxFinalFile = 64

// ReadFinished reads the status, rc and command files of a finished run,
// as arunner and ansible-runner 2.x write them (a trailing newline is
// accepted). A missing status file is ErrNotFinished; a missing job_events
// directory or rc file, or a file that holds anything else than it should,
// is a *FileError naming the file. A named pipe or a device there is
// refused, not waited on.
func (a *Artifacts) ReadFinished() (*Finished, error) {
	statusPath, rcPath := filepath.Join(a.Dir, "status"), filepath.Join(a.Dir, "rc")
	status, err := readArtifact(statusPath, maxFinalFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &FileError{Path: a.Dir, Err: fmt.Errorf("%w (no status file)", ErrNotFinished)}
	}
	if err != nil {
		return nil, err
	}
	f := &Finished{Status: string(bytes.TrimSpace(status))}
	switch f.Status {
	case "successful", "failed", "timeout", "canceled", "error":
	default:
		return nil, &FileError{Path: statusPath, Err: badValue("want successful, failed, timeout, canceled or error, got %.40q", f.Status)}
	}
	if st, err := os.Stat(a.JobEventsDir()); err != nil || !st.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		}
		return nil, &FileError{Path: a.JobEventsDir(), Err: unwrapPathError(err)}
	}
	rc, err := readArtifact(rcPath, maxFinalFile)
	if err != nil {
		return nil, err
	}
	switch s := string(bytes.TrimSpace(rc)); s {
	case "None":
		f.RC = -1
	default:
		f.RC, err = strconv.Atoi(s)
		if err != nil {
			return nil, &FileError{Path: rcPath, Err: badValue("want an integer, got %.40q", s)}
		}
	}
	cmdPath := filepath.Join(a.Dir, "command")
	data, err := readArtifact(cmdPath, MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	var cmd struct {
		Command []string `json:"command"`
		Cwd     string   `json:"cwd"`
	}
	if err := json.Unmarshal(data, &cmd); err != nil {
		return nil, &FileError{Path: cmdPath, Err: fmt.Errorf("%w: %v", ErrSyntax, err)}
	}
	f.Command, f.Cwd = cmd.Command, cmd.Cwd
	return f, nil
}

// readArtifact reads the regular file path, at most limit bytes (no limit
// when limit < 0). Errors are *FileErrors naming it; a missing file's
// matches fs.ErrNotExist.
func readArtifact(path string, limit int64) ([]byte, error) {
	// O_NONBLOCK: a named pipe planted there must not wait for a writer.
	fd, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, &FileError{Path: path, Err: unwrapPathError(err)}
	}
	defer fd.Close()
	st, err := fd.Stat()
	if err != nil {
		return nil, &FileError{Path: path, Err: unwrapPathError(err)}
	}
	if !st.Mode().IsRegular() {
		return nil, &FileError{Path: path, Err: errors.New("not a regular file")}
	}
	var r io.Reader = fd
	if limit >= 0 {
		r = io.LimitReader(fd, limit+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &FileError{Path: path, Err: unwrapPathError(err)}
	}
	if limit >= 0 && int64(len(data)) > limit {
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)}
	}
	return data, nil
}

// EventFile is one job event file: its path and content.
type EventFile struct {
	Path string
	Data []byte
}

// ReadEventFiles is ReadEvents with each file's path, so that an error in
// its content can name it.
func ReadEventFiles(dir string) iter.Seq2[EventFile, error] {
	return func(yield func(EventFile, error) bool) {
		for path, err := range eventPaths(dir) {
			var data []byte
			if err == nil {
				data, err = readArtifact(path, -1)
			}
			if !yield(EventFile{Path: path, Data: data}, err) {
				return
			}
		}
	}
}
