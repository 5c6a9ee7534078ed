package prompt

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by *PatternError; test them with errors.Is.
var (
	// ErrEmptyPattern reports a pair whose pattern is empty: it would match
	// everywhere and answer nothing useful.
	ErrEmptyPattern = errors.New("empty pattern")
	// ErrBadPattern reports a pattern that Go's regexp package (RE2 syntax)
	// cannot compile, for example a Python-only lookahead.
	ErrBadPattern = errors.New("invalid regular expression")
	// ErrResponseNewline reports a response containing a line break: written
	// to the terminal it would end the answer early and feed the rest of the
	// secret to whatever reads the next line.
	ErrResponseNewline = errors.New("response contains a line break")
)

// PatternError describes a Pair that Compile rejected. It names the pair by its
// index and pattern, never by its response.
type PatternError struct {
	// Index is the position of the pair in the slice given to Compile.
	Index int
	// Pattern is the offending pattern text (patterns are not secret).
	Pattern string
	// Err is one of the sentinel errors above.
	Err error
	// cause is the regexp error, if any; kept apart so that Unwrap can expose
	// both it and the sentinel.
	cause error
}

// Error implements error.
func (e *PatternError) Error() string {
	msg := fmt.Sprintf("prompt: pattern %d %q: %v", e.Index, e.Pattern, e.Err)
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

// Unwrap returns the sentinel and, for ErrBadPattern, the *syntax.Error.
func (e *PatternError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Err, e.cause}
	}
	return []error{e.Err}
}
