package testsshd

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arunner/arunner/internal/osdep"
	"github.com/arunner/arunner/internal/proctest"
)

// SSHD is the server binary; tests are skipped when it is missing.
const SSHD = "/usr/sbin/sshd"

// Server is a running sshd.
type Server struct {
	// Addr is "127.0.0.1:<Port>".
	Addr string
	// Host is the listening address, always 127.0.0.1.
	Host string
	// Port is the TCP port sshd listens on.
	Port int
	// User is the account to log in as: the one running the test (sshd
	// cannot switch to another user without root).
	User string
	// HostKeyPub is the server's public host key in authorized_keys format.
	HostKeyPub []byte
	// AuthorizedKeysFile is the file sshd reads on each login; rewrite it
	// with Authorize to change which keys are accepted.
	AuthorizedKeysFile string
	// Dir holds the configuration, host key and authorized keys.
	Dir string

	log       *proctest.Buffer
	passwords bool
}

// Log returns what sshd has written to stderr so far (it runs with -e).
func (s *Server) Log() string { return s.log.String() }

// KnownHostsLine returns a known_hosts line that trusts this server's host
// key, for clients run with StrictHostKeyChecking=yes.
func (s *Server) KnownHostsLine() string {
	return fmt.Sprintf("[%s]:%d %s", s.Host, s.Port, strings.TrimSpace(string(s.HostKeyPub)))
}

// Authorize replaces the authorized keys; sshd reads the file at each login.
func (s *Server) Authorize(t testing.TB, authorizedKeys ...[]byte) {
	t.Helper()
	var b bytes.Buffer
	for _, k := range authorizedKeys {
		b.Write(bytes.TrimSpace(k))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(s.AuthorizedKeysFile, b.Bytes(), 0o600); err != nil {
		t.Fatalf("testsshd: write %s: %v", s.AuthorizedKeysFile, err)
	}
}

// Start runs sshd accepting the given public keys and stops it when the test
// ends. It skips the test if sshd is not installed and fails it if sshd does
// not come up within 10 seconds.
func Start(t testing.TB, authorizedKeys ...[]byte) *Server {
	t.Helper()
	return start(t, false, authorizedKeys)
}

// StartWithPasswords is Start with password logins allowed as well, for
// accounts with a password in /etc/shadow (sshd runs without PAM).
func StartWithPasswords(t testing.TB, authorizedKeys ...[]byte) *Server {
	t.Helper()
	return start(t, true, authorizedKeys)
}

func start(t testing.TB, passwords bool, authorizedKeys [][]byte) *Server {
	t.Helper()
	if _, err := os.Stat(SSHD); err != nil {
		t.Skipf("testsshd: %s not available: %v", SSHD, err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("testsshd: current user: %v", err)
	}
	// sshd refuses to start without its privilege-separation directory.
	if os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("testsshd: create /run/sshd: %v", err)
		}
	}

	dir := t.TempDir()
	s := &Server{
		Host:               "127.0.0.1",
		User:               u.Username,
		Dir:                dir,
		AuthorizedKeysFile: filepath.Join(dir, "authorized_keys"),
		passwords:          passwords,
	}
	hostKey := filepath.Join(dir, "ssh_host_ed25519_key")
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "testsshd-host", "-f", hostKey)
	s.HostKeyPub = readFile(t, hostKey+".pub")
	s.Authorize(t, authorizedKeys...)

	// A free port can be taken by someone else between Listen and sshd's
	// bind; retry with a new port a few times.
	var lastErr error
	for range 5 {
		port := freePort(t)
		if lastErr = s.launch(t, port, hostKey); lastErr == nil {
			return s
		}
	}
	t.Fatalf("testsshd: %v", lastErr)
	return nil
}

func (s *Server) launch(t testing.TB, port int, hostKey string) error {
	s.Port = port
	s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(port))
	cfg := filepath.Join(s.Dir, "sshd_config")
	conf := strings.Join([]string{
		"Port " + strconv.Itoa(port),
		"ListenAddress " + s.Host,
		"HostKey " + hostKey,
		"PidFile " + filepath.Join(s.Dir, "sshd.pid"),
		"AuthorizedKeysFile " + s.AuthorizedKeysFile,
		"PubkeyAuthentication yes",
		"PasswordAuthentication " + yesNo(s.passwords),
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"StrictModes no",
		"UsePAM no",
		"PrintMotd no",
		"Subsystem sftp internal-sftp",
		"LogLevel VERBOSE",
		"",
	}, "\n")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	s.log = &proctest.Buffer{}
	cmd := exec.Command(SSHD, "-D", "-e", "-f", cfg)
	cmd.Stdout = s.log
	cmd.Stderr = s.log
	// sshd forks a child per connection that inherits the log pipe; its own
	// process group lets cleanup kill them all, and WaitDelay bounds the wait
	// for the pipe should one escape. Pdeathsig stops the listener when the
	// test binary is killed before its cleanup can run (the signal follows
	// the thread that started sshd; nothing here locks goroutines to
	// threads, whose exit would send it early).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	osdep.DieWithParent(cmd.SysProcAttr)
	cmd.WaitDelay = 2 * time.Second
	kill := func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", SSHD, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			return fmt.Errorf("sshd exited (%v) before listening:\n%s", err, s.log.String())
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			kill()
			<-done
			return fmt.Errorf("sshd not listening on %s after 10s:\n%s", s.Addr, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		kill()
		<-done
		if t.Failed() {
			t.Logf("testsshd log:\n%s", s.log.String())
		}
	})
	return nil
}

// GenerateKey makes an Ed25519 key pair with ssh-keygen, encrypted with
// passphrase unless it is empty, and returns the private key (OpenSSH
// format) and the public key (authorized_keys format). The passphrase
// appears in ssh-keygen's argv: fine for a test fixture, never for real
// secrets.
func GenerateKey(t testing.TB, passphrase string) (private, public []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "id_ed25519")
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "testsshd", "-f", path)
	return readFile(t, path), readFile(t, path+".pub")
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		if _, lookErr := exec.LookPath(name); lookErr != nil {
			t.Skipf("testsshd: %s not available: %v", name, lookErr)
		}
		t.Fatalf("testsshd: %s: %v\n%s", name, err, out)
	}
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("testsshd: %v", err)
	}
	return b
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testsshd: find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
