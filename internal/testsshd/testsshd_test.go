package testsshd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sshWithKey runs `ssh ... true` authenticating with the private key only.
func sshWithKey(t *testing.T, srv *Server, private []byte) (string, error) {
	t.Helper()
	home := t.TempDir()
	keyFile := filepath.Join(home, "id")
	require.NoError(t, os.WriteFile(keyFile, private, 0o600))
	known := filepath.Join(home, "known_hosts")
	require.NoError(t, os.WriteFile(known, []byte(srv.KnownHostsLine()+"\n"), 0o600))
	cmd := exec.Command("ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
		"-o", "UserKnownHostsFile="+known, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-i", keyFile, "-p", strconv.Itoa(srv.Port), srv.User+"@"+srv.Host, "echo", "hello")
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestStartKeyOnlyAuth(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("ssh client not installed")
	}
	priv, pub := GenerateKey(t, "")
	other, otherPub := GenerateKey(t, "")
	srv := Start(t, pub)

	assert.Equal(t, "127.0.0.1:"+strconv.Itoa(srv.Port), srv.Addr)
	assert.True(t, strings.HasPrefix(string(srv.HostKeyPub), "ssh-ed25519 "))

	out, err := sshWithKey(t, srv, priv)
	require.NoError(t, err, "authorized key must log in (host key checked): %s\n%s", out, srv.Log())
	assert.Contains(t, out, "hello")

	out, err = sshWithKey(t, srv, other)
	require.Error(t, err, "unauthorized key must be refused")
	assert.Contains(t, out, "Permission denied")

	// Authorize replaces the file: other's key in, a comment line beside it.
	srv.Authorize(t, []byte("# comment\n"), otherPub)
	_, err = sshWithKey(t, srv, priv)
	assert.Error(t, err, "a key no longer in authorized_keys must be refused")
	srv.Authorize(t, pub, []byte("# comment\n"))
	out, err = sshWithKey(t, srv, priv)
	assert.NoError(t, err, "a key put back must log in: %s", out)
	srv.Authorize(t) // no key at all
	_, err = sshWithKey(t, srv, priv)
	assert.Error(t, err, "emptied authorized_keys must refuse the key")
}

func TestGenerateKeyEncrypted(t *testing.T) {
	priv, pub := GenerateKey(t, "fixture-pass")
	assert.Contains(t, string(priv), "BEGIN OPENSSH PRIVATE KEY")
	assert.True(t, strings.HasPrefix(string(pub), "ssh-ed25519 "))
	// ssh-keygen -y proves the passphrase is required and correct.
	dir := t.TempDir()
	f := filepath.Join(dir, "k")
	require.NoError(t, os.WriteFile(f, priv, 0o600))
	_, err := exec.Command("ssh-keygen", "-y", "-P", "wrong", "-f", f).Output()
	assert.Error(t, err)
	got, err := exec.Command("ssh-keygen", "-y", "-P", "fixture-pass", "-f", f).Output()
	require.NoError(t, err)
	assert.Equal(t, strings.Fields(string(pub))[1], strings.Fields(string(got))[1])
}

// TestServerDiesWithTestBinary checks that a test binary killed before its
// cleanup runs does not leave sshd listening. The test binary runs itself
// again as the victim, which starts a server and waits to be killed.
func TestServerDiesWithTestBinary(t *testing.T) {
	if out := os.Getenv("TESTSSHD_VICTIM_OUT"); out != "" {
		srv := Start(t)
		require.NoError(t, os.WriteFile(out, []byte(srv.Dir), 0o600))
		time.Sleep(time.Minute)
		return
	}
	if _, err := os.Stat(SSHD); err != nil {
		t.Skipf("%s not available: %v", SSHD, err)
	}
	out := filepath.Join(t.TempDir(), "dir")
	victim := exec.Command(os.Args[0], "-test.run=^TestServerDiesWithTestBinary$")
	victim.Env = append(os.Environ(), "TESTSSHD_VICTIM_OUT="+out)
	require.NoError(t, victim.Start())
	t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })

	var dir string
	require.Eventually(t, func() bool {
		data, err := os.ReadFile(out)
		dir = string(data)
		return err == nil && dir != ""
	}, 30*time.Second, 50*time.Millisecond, "the victim's server")
	// The victim's own cleanup never runs: its temp dirs are ours to remove.
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(dir)) })
	data, err := os.ReadFile(filepath.Join(dir, "sshd.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(pid, 0), "sshd runs")
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) }) // should the test fail

	require.NoError(t, victim.Process.Kill())
	victim.Wait()
	assert.Eventually(t, func() bool { return exited(pid) }, 20*time.Second, 50*time.Millisecond,
		"sshd (pid %d) outlived the killed test binary", pid)
}

// exited reports whether pid is gone or a zombie (its parent died, and this
// machine's PID 1 may not reap it).
func exited(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(data)
	return strings.HasPrefix(s[strings.LastIndexByte(s, ')')+1:], " Z")
}
