package inventory

import (
	"errors"
	"fmt"
)

// Error kinds, wrapped by *Error so callers can test them with errors.Is.
var (
	// ErrSyntax means the input is not valid JSON.
	ErrSyntax = errors.New("invalid JSON")
	// ErrShape means a value has the wrong type or an unusable name.
	ErrShape = errors.New("invalid inventory shape")
	// ErrCycle means groups are children of each other, which ansible refuses.
	ErrCycle = errors.New("group cycle")
	// ErrReference means a group names a host or child group the inventory lacks.
	ErrReference = errors.New("unknown reference")
)

// Error reports an inventory that cannot be parsed or written.
type Error struct {
	// Line and Column locate a JSON syntax error (1-based); zero otherwise.
	Line, Column int
	// Where names the group, host or field at fault, e.g. `group "web": children`.
	Where string
	// Kind is one of ErrSyntax, ErrShape, ErrCycle or ErrReference.
	Kind error
	// Err is the detailed cause.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	msg := "inventory: "
	if e.Line > 0 {
		msg += fmt.Sprintf("line %d, column %d: ", e.Line, e.Column)
	}
	if e.Where != "" {
		msg += e.Where + ": "
	}
	return msg + e.Err.Error()
}

// Unwrap lets errors.Is match both the kind and the cause.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

func shapeErr(where, format string, args ...any) error {
	return &Error{Where: where, Kind: ErrShape, Err: fmt.Errorf(format, args...)}
}

func refErr(where, format string, args ...any) error {
	return &Error{Where: where, Kind: ErrReference, Err: fmt.Errorf(format, args...)}
}
