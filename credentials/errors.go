package credentials

import (
	"errors"
	"strings"
)

// Sentinel errors; every error returned by this package wraps one of them in
// a *FieldError, so callers can branch with errors.Is and still read which
// credential and field were at fault with errors.As.
var (
	// ErrRequired reports a required input that is missing or empty.
	ErrRequired = errors.New("required")
	// ErrInvalid reports an input or definition that does not have the expected shape.
	ErrInvalid = errors.New("invalid")
	// ErrUnknownField reports an input or template name that the type does not define.
	ErrUnknownField = errors.New("unknown field")
	// ErrBannedEnv reports an injector environment variable that AWX refuses
	// (ANSIBLE_* or one of its reserved names), because it would override a
	// variable the runner manages.
	ErrBannedEnv = errors.New("environment variable is reserved")
	// ErrTemplate reports an injector template outside the supported Jinja subset.
	ErrTemplate = errors.New("unsupported template")
	// ErrDuplicate reports two credentials that would inject the same thing
	// (two of one kind, two vault passwords with one vault id, or two
	// credentials setting one environment variable to different values).
	ErrDuplicate = errors.New("duplicate")
)

// FieldError names where a credential or credential type is wrong. It never
// carries the offending value, because that value may be a secret.
type FieldError struct {
	Kind   string // credential kind, e.g. "ssh" or "custom:My Type"
	Field  string // input id or injector path, e.g. "become_username" or "injectors.env.FOO"
	Reason string // human detail, never containing an input value
	Err    error  // one of the sentinel errors above
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString("credentials: ")
	if e.Kind != "" {
		b.WriteString(e.Kind)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Unwrap returns the sentinel error.
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(kind, field string, err error, reason string) *FieldError {
	return &FieldError{Kind: kind, Field: field, Err: err, Reason: reason}
}
