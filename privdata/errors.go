package privdata

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors carried by FileError.Err (and by other errors of this
// package); test them with errors.Is.
var (
	// ErrSyntax means a JSON or YAML file could not be parsed.
	ErrSyntax = errors.New("invalid JSON/YAML syntax")
	// ErrNotMapping means a file that must hold a mapping holds a list or a scalar.
	ErrNotMapping = errors.New("expected a mapping")
	// ErrBadValue means a key holds a value of the wrong type or range.
	ErrBadValue = errors.New("bad value")
	// ErrBadIdent means an artifacts ident is not a single safe path element.
	ErrBadIdent = errors.New("invalid ident")
	// ErrLayout means a Layout given to Write is inconsistent.
	ErrLayout = errors.New("invalid layout")
	// ErrNotRegular means a file Load reads is neither a regular file nor
	// a named pipe: a device, a socket or a directory.
	ErrNotRegular = errors.New("not a regular file or named pipe")
	// ErrTooLarge means a file Load reads holds more than MaxFileSize bytes.
	ErrTooLarge = errors.New("file too large")
)

// FileError reports a problem with one file of a private data dir. Line is
// 1-based and 0 when unknown; Key names the offending mapping key, if any.
// For secret files (env/passwords, env/ssh_key) Err never quotes content.
type FileError struct {
	Path string
	Line int
	Key  string
	Err  error
}

// Error names the file, the line and the key, then the cause.
func (e *FileError) Error() string {
	s := "privdata: " + e.Path
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Key != "" {
		s += ": key " + strconv.Quote(e.Key)
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns Err, so errors.Is(err, ErrSyntax) and the like work.
func (e *FileError) Unwrap() error { return e.Err }

// badValue builds the Err of a FileError for a wrongly typed key.
func badValue(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadValue}, args...)...)
}
