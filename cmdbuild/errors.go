package cmdbuild

import (
	"errors"
	"strconv"
)

// ErrInvalidSpec is matched (with errors.Is) by every *SpecError, for callers
// that only need to know the spec was rejected.
var ErrInvalidSpec = errors.New("cmdbuild: invalid spec")

// SpecError reports a field of a Playbook, AdHoc or Inventory spec that
// cannot be turned into a valid command line.
//
// The message names the field (with its index for list fields, e.g.
// "Tags[2]") but never repeats the field's value: values such as Cmdline
// tokens may carry secrets, and error strings end up in logs.
type SpecError struct {
	Spec   string // "Playbook", "AdHoc" or "Inventory"
	Field  string // Go field name, e.g. "Limit" or "Inventory[1]"
	Reason string // what is wrong, in words
}

func (e *SpecError) Error() string {
	return "cmdbuild: " + e.Spec + "." + e.Field + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalidSpec) true for every *SpecError.
func (e *SpecError) Is(target error) bool { return target == ErrInvalidSpec }

// Sentinels wrapped by *SplitError, mirroring the two ValueErrors Python's
// shlex.split raises.
var (
	ErrUnterminatedQuote = errors.New("no closing quotation")
	ErrTrailingBackslash = errors.New("no escaped character")
)

// SplitError reports a command line that Split cannot tokenize. Offset is the
// byte offset where the offending quote or backslash starts.
type SplitError struct {
	Offset int
	Err    error // ErrUnterminatedQuote or ErrTrailingBackslash
}

func (e *SplitError) Error() string {
	return "cmdbuild: split: " + e.Err.Error() + " (started at byte " + strconv.Itoa(e.Offset) + ")"
}

// Unwrap returns the sentinel describing the failure.
func (e *SplitError) Unwrap() error { return e.Err }
