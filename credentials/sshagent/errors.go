package sshagent

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by *KeyError; test them with errors.Is.
var (
	// ErrInvalidKey reports key data that is not a supported private key.
	ErrInvalidKey = errors.New("not a supported private key")
	// ErrPassphraseRequired reports an encrypted key given without a passphrase.
	ErrPassphraseRequired = errors.New("key is encrypted and no passphrase was given")
	// ErrWrongPassphrase reports an encrypted key the passphrase does not open.
	ErrWrongPassphrase = errors.New("wrong passphrase")
)

// KeyError describes a key that Start could not load. It names the key by its
// position and comment, never by its content or passphrase.
type KeyError struct {
	// Index is the position of the key among Start's arguments.
	Index int
	// Comment is the key's Comment field (not secret).
	Comment string
	// Err is one of ErrInvalidKey, ErrPassphraseRequired, ErrWrongPassphrase.
	Err error
	// cause is the parser's error, reachable with errors.As but left out of
	// Error so that no parser message can ever carry key bytes into a log.
	cause error
}

// Error implements error.
func (e *KeyError) Error() string {
	if e.Comment != "" {
		return fmt.Sprintf("sshagent: key %d (%q): %v", e.Index, e.Comment, e.Err)
	}
	return fmt.Sprintf("sshagent: key %d: %v", e.Index, e.Err)
}

// Unwrap returns the sentinel and, when there is one, the parser's error.
func (e *KeyError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Err, e.cause}
	}
	return []error{e.Err}
}

// SocketError reports a socket directory or path that cannot be used.
type SocketError struct {
	// Path is the directory or socket path concerned.
	Path string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *SocketError) Error() string { return fmt.Sprintf("sshagent: socket %s: %v", e.Path, e.Err) }

// Unwrap returns the underlying error.
func (e *SocketError) Unwrap() error { return e.Err }

// ErrPathTooLong reports a socket path longer than a unix socket address
// allows (107 bytes on Linux); choose a shorter directory.
var ErrPathTooLong = errors.New("path too long for a unix socket")
