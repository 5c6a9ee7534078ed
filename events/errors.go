package events

import (
	"errors"
	"fmt"
)

// Sentinel causes of a FrameError, for errors.Is.
var (
	// ErrGarbageFrame: the framing was intact but its payload was not
	// base64-encoded JSON object; the frame is treated as an end token, as
	// ansible-runner treats it.
	ErrGarbageFrame = errors.New("undecodable event frame")
	// ErrTruncatedFrame: the stream ended inside a token, or inside an event
	// whose end token never came.
	ErrTruncatedFrame = errors.New("truncated event frame")
	// ErrFrameTooLarge: a token grew beyond the largest event the runner
	// takes; its payload is discarded and the text after it is kept as
	// verbose lines.
	ErrFrameTooLarge = errors.New("event frame too large")
	// ErrForgedFrame: well-formed framing that is not the plugin's, because
	// it lacks the run's key or is an in-band event after events came on
	// the side band: a task printed it. It stays text, where it was printed.
	ErrForgedFrame = errors.New("event frame not from the callback plugin")
)

// FrameError describes one bad event frame in ansible's output: the
// runner reports it in runner.Result.FrameErrors, keeps the frame's text,
// and carries on.
type FrameError struct {
	// Offset is the byte offset in ansible's output where the frame starts.
	Offset int64
	// Size is how many bytes of the frame were seen.
	Size int
	// Err wraps one of ErrGarbageFrame, ErrTruncatedFrame, ErrFrameTooLarge,
	// ErrForgedFrame.
	Err error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("events: frame at byte %d (%d bytes): %v", e.Offset, e.Size, e.Err)
}

func (e *FrameError) Unwrap() error { return e.Err }
