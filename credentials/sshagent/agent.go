package sshagent

import (
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// SocketName is the file name of the agent's socket inside Start's directory.
const SocketName = "agent.sock"

// maxSocketPath is the longest path a Linux sockaddr_un holds (108 bytes
// including the terminating NUL).
const maxSocketPath = 107

// Key is one private key to serve.
type Key struct {
	// PEM is the private key: PKCS#1, PKCS#8, SEC1 or OpenSSH format, plain
	// or encrypted. Start does not retain or modify it.
	PEM []byte
	// Passphrase decrypts PEM when it is encrypted; it is ignored otherwise.
	Passphrase []byte
	// Comment names the key in errors and in the agent's key list; it must
	// not be secret.
	Comment string
	// PrivateKey, when not nil, is the key already decoded and decrypted, as
	// ssh.ParseRawPrivateKey returns it; Start serves it and ignores PEM and
	// Passphrase. A caller that has decrypted the key anyway (to check its
	// passphrase, say) spares the second decryption: for an encrypted
	// OpenSSH key, a bcrypt KDF of a tenth of a second or more. Start does
	// not copy it: Close, or a Start that fails, zeroes an Ed25519 key in
	// place. It is not marshaled to JSON.
	PrivateKey crypto.PrivateKey `json:"-"`
}

// String implements fmt.Stringer without revealing the key or passphrase.
func (k Key) String() string { return fmt.Sprintf("sshagent.Key{Comment: %q}", k.Comment) }

// GoString implements fmt.GoStringer without revealing the key or passphrase.
func (k Key) GoString() string { return k.String() }

// Format implements fmt.Formatter. fmt calls String and GoString for some
// verbs only and prints the fields by reflection for the others (%d, %o),
// the decrypted PrivateKey among them; those verbs print String. The rest
// print as fmt prints a Stringer.
func (k Key) Format(f fmt.State, verb rune) {
	switch verb {
	case 'v', 's', 'q', 'x', 'X':
		if verb == 'v' && f.Flag('#') {
			io.WriteString(f, k.GoString())
			return
		}
		fmt.Fprintf(f, fmt.FormatString(f, verb), k.String())
	default:
		io.WriteString(f, k.String())
	}
}

// LogValue implements slog.LogValuer: slog's JSONHandler would otherwise
// write k with encoding/json, which ignores Format.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// Agent is a running in-process ssh-agent. Its methods are safe for
// concurrent use.
type Agent struct {
	socket     string
	dir        string
	createdDir bool
	ln         net.Listener
	keyring    agent.Agent
	// wipe holds key material that Close can overwrite; RSA and ECDSA keys
	// live in big.Int values that Go gives no reliable way to clear.
	wipe []ed25519.PrivateKey

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// Start decodes keys, other than those given as PrivateKey, and serves them
// (a key given twice is served once) on a unix socket at
// filepath.Join(dir, SocketName). dir is created with mode 0700 if missing
// (and then removed by Close); an existing dir is used as is and should be
// private, since anyone who can reach the socket can use the keys. The socket
// itself is made 0600. Key errors are *KeyError values; nothing is served if
// any key fails.
func Start(dir string, keys ...Key) (*Agent, error) {
	ring := agent.NewKeyring()
	a := &Agent{keyring: ring, conns: map[net.Conn]struct{}{}}
	for i, k := range keys {
		raw := k.PrivateKey
		if raw == nil {
			var err error
			if raw, err = parseKey(i, k); err != nil {
				a.wipeKeys()
				return nil, err
			}
		}
		if ed, ok := raw.(*ed25519.PrivateKey); ok {
			// The keyring accepts the value type only.
			raw = *ed
		}
		if ed, ok := raw.(ed25519.PrivateKey); ok {
			a.wipe = append(a.wipe, ed)
		}
		if err := ring.Add(agent.AddedKey{PrivateKey: raw, Comment: k.Comment}); err != nil {
			a.wipeKeys()
			return nil, &KeyError{Index: i, Comment: k.Comment, Err: ErrInvalidKey, cause: err}
		}
	}

	abs, err := filepath.Abs(dir)
	if err != nil {
		a.wipeKeys()
		return nil, &SocketError{Path: dir, Err: err}
	}
	a.dir = abs
	a.socket = filepath.Join(abs, SocketName)
	if len(a.socket) > maxSocketPath {
		a.wipeKeys()
		return nil, &SocketError{Path: a.socket, Err: ErrPathTooLong}
	}
	switch err := os.Mkdir(abs, 0o700); {
	case err == nil:
		a.createdDir = true
	case errors.Is(err, fs.ErrExist):
	default:
		a.wipeKeys()
		return nil, &SocketError{Path: abs, Err: err}
	}
	ln, err := net.Listen("unix", a.socket)
	if err == nil {
		err = os.Chmod(a.socket, 0o600)
		if err != nil {
			ln.Close()
		}
	}
	if err != nil {
		a.wipeKeys()
		if a.createdDir {
			os.Remove(abs)
		}
		return nil, &SocketError{Path: a.socket, Err: err}
	}
	a.ln = ln
	a.wg.Add(1)
	go a.serve()
	return a, nil
}

// decrypt is ssh.ParseRawPrivateKeyWithPassphrase, a variable so that tests
// can count the decryptions.
var decrypt = ssh.ParseRawPrivateKeyWithPassphrase

// parseKey decodes one key, mapping parser errors to the package sentinels.
func parseKey(i int, k Key) (crypto.PrivateKey, error) {
	raw, err := ssh.ParseRawPrivateKey(k.PEM)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if len(k.Passphrase) == 0 {
			return nil, &KeyError{Index: i, Comment: k.Comment, Err: ErrPassphraseRequired}
		}
		raw, err = decrypt(k.PEM, k.Passphrase)
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, &KeyError{Index: i, Comment: k.Comment, Err: ErrWrongPassphrase}
		}
	}
	if err != nil {
		return nil, &KeyError{Index: i, Comment: k.Comment, Err: ErrInvalidKey, cause: err}
	}
	return raw, nil
}

func (a *Agent) serve() {
	defer a.wg.Done()
	for {
		c, err := a.ln.Accept()
		if err != nil {
			return // closed by Close
		}
		a.mu.Lock()
		if a.closed {
			a.mu.Unlock()
			c.Close()
			return
		}
		a.conns[c] = struct{}{}
		a.wg.Add(1)
		a.mu.Unlock()
		go func() {
			defer a.wg.Done()
			// ServeAgent returns when the client hangs up or Close closes c;
			// either way the error says nothing the caller can act on.
			_ = agent.ServeAgent(a.keyring, c)
			c.Close()
			a.mu.Lock()
			delete(a.conns, c)
			a.mu.Unlock()
		}()
	}
}

// Socket returns the absolute path of the agent's socket, the value for
// SSH_AUTH_SOCK.
func (a *Agent) Socket() string { return a.socket }

// Close stops serving, closes open connections, forgets the keys (zeroing the
// Ed25519 ones), removes the socket, and removes the directory if Start
// created it and it is empty. It is idempotent and returns the first call's
// result.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		a.mu.Lock()
		a.closed = true
		err := a.ln.Close()
		for c := range a.conns {
			c.Close()
		}
		a.mu.Unlock()
		a.wg.Wait()

		_ = a.keyring.RemoveAll() // only fails when a client locked it; the keys go anyway below
		a.wipeKeys()

		// net.UnixListener.Close unlinks the socket; this catches the case
		// where it could not.
		if rmErr := os.Remove(a.socket); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) && err == nil {
			err = rmErr
		}
		if a.createdDir {
			// Other files put there by the caller are left alone (and the
			// directory with them).
			if rmErr := os.Remove(a.dir); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) &&
				!errors.Is(rmErr, syscall.ENOTEMPTY) && err == nil {
				err = rmErr
			}
		}
		if err != nil {
			a.closeErr = &SocketError{Path: a.socket, Err: err}
		}
	})
	return a.closeErr
}

func (a *Agent) wipeKeys() {
	for _, k := range a.wipe {
		clear(k)
	}
	a.wipe = nil
}
