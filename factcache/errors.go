package factcache

import (
	"errors"
	"fmt"
)

// ErrInvalidHost is matched (errors.Is) by every *HostError.
var ErrInvalidHost = errors.New("factcache: invalid host name")

// ErrCorrupt is matched (errors.Is) by every *CorruptError.
var ErrCorrupt = errors.New("factcache: corrupt fact file")

// HostError reports a host name that cannot be used as a cache file name,
// typically because it would escape the cache directory.
type HostError struct {
	Host   string // the offending name, quoted when printed
	Reason string
}

func (e *HostError) Error() string {
	return fmt.Sprintf("factcache: host %q: %s", e.Host, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidHost) true.
func (e *HostError) Is(target error) bool { return target == ErrInvalidHost }

// CorruptError reports a fact file that does not hold a JSON object, for
// example one truncated by a crashed ansible process.
type CorruptError struct {
	Path string // the file that failed to decode
	Host string
	Err  error // the decoder's error, with its byte offset when it has one
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("factcache: %s (host %q): %v", e.Path, e.Host, e.Err)
}

// Unwrap returns the decoder's error.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }
