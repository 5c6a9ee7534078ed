package credentials

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/arunner/arunner/internal/testsshd"
	"github.com/arunner/arunner/prompt"
	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

// lockedKey returns a fresh ed25519 key in OpenSSH format, encrypted with
// passphrase.
func lockedKey(t *testing.T, passphrase string) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	blk, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	require.NoError(t, err)
	return string(pem.EncodeToMemory(blk))
}

// answerOf feeds text to a prompt matcher built from prompts, as the runner
// does, and returns the answer typed ("" for none).
func answerOf(t *testing.T, prompts []Prompt, text string) string {
	t.Helper()
	rules, err := prompt.Compile(prompts)
	require.NoError(t, err)
	got := prompt.NewMatcher(rules).Feed([]byte(text))
	if len(got) == 0 {
		return ""
	}
	return strings.TrimSuffix(string(got[0]), "\n")
}

// permutations returns every order of creds.
func permutations(creds []Credential) [][]Credential {
	if len(creds) <= 1 {
		return [][]Credential{creds}
	}
	var out [][]Credential
	for i := range creds {
		rest := append(append([]Credential{}, creds[:i]...), creds[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]Credential{creds[i]}, p...))
		}
	}
	return out
}

// TestKeyPassphrasePerKey checks that a key passphrase answers the prompt for
// its own key file, and that the passphrase typed for any other key file
// follows the documented precedence, whatever the order of the credentials.
func TestKeyPassphrasePerKey(t *testing.T) {
	m := Machine{Username: "deploy", SSHKeyData: readKey(t, "id_locked"), SSHKeyUnlock: "unlock-phrase-7"}
	n := Net{Username: "netop", SSHKeyData: lockedKey(t, "net-phrase-8"), SSHKeyUnlock: "net-phrase-8"}
	s := SCM{SSHKeyData: lockedKey(t, "scm-phrase-9"), SSHKeyUnlock: "scm-phrase-9"}
	// ssh shows at most 100 bytes of the key path; the second long dir
	// makes the cut fall inside a two-byte character.
	longDir := "/" + strings.Repeat("d", 120) + "/env"
	splitDir := "/" + strings.Repeat("é", 60) + "/env"
	const inventoryKey = "Enter passphrase for key '/home/deploy/.ssh/id_ed25519': "
	cases := []struct {
		name     string
		dir      string
		creds    []Credential
		netWant  string // answer for the network key file; "" without a network credential
		restWant string // answer for a key file no credential wrote
	}{
		{"machine and net", testDir, []Credential{m, n}, "net-phrase-8", "unlock-phrase-7"},
		{"machine and net, long dir", longDir, []Credential{m, n}, "net-phrase-8", "unlock-phrase-7"},
		{"machine and net, dir cut inside a character", splitDir, []Credential{m, n}, "net-phrase-8", "unlock-phrase-7"},
		{"net only", testDir, []Credential{n}, "net-phrase-8", "net-phrase-8"},
		{"machine and scm", testDir, []Credential{m, s}, "", "unlock-phrase-7"},
		{"net and scm", testDir, []Credential{n, s}, "net-phrase-8", "net-phrase-8"},
		{"scm only", testDir, []Credential{s}, "", "scm-phrase-9"},
		{"machine, net and scm", testDir, []Credential{m, n, s}, "net-phrase-8", "unlock-phrase-7"},
	}
	for _, tc := range cases {
		for _, creds := range permutations(tc.creds) {
			var kinds []string
			for _, c := range creds {
				kinds = append(kinds, c.Kind())
			}
			t.Run(tc.name+"/"+strings.Join(kinds, ","), func(t *testing.T) {
				in, err := Inject(tc.dir, creds...)
				require.NoError(t, err)
				assert.Equal(t, tc.restWant, answerOf(t, in.Prompts, inventoryKey), "other key file")
				path, ok := in.Env["ANSIBLE_NET_SSH_KEYFILE"]
				if tc.netWant == "" {
					assert.False(t, ok)
					return
				}
				require.True(t, ok)
				shown := path
				if len(shown) > 100 {
					shown = shown[:100]
				}
				for _, text := range []string{
					"Enter passphrase for key '" + shown + "': ", // ssh
					"Enter passphrase for " + path + ": ",        // ssh-add
					"Enter passphrase for " + path + " (will confirm each use): ",
				} {
					assert.Equal(t, tc.netWant, answerOf(t, in.Prompts, text), "%q", text)
				}
			})
		}
	}
}

// TestKeyPassphraseRealSSH logs in with OpenSSH from key files, typing what
// the injected prompts answer to ssh's real prompt: the network key file
// (in a directory long enough that ssh cuts the path it shows) and a key
// file from inventory that shares the machine key's passphrase. A wrong
// passphrase fails the login.
func TestKeyPassphraseRealSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("ssh client not installed")
	}
	netPriv, netPub := testsshd.GenerateKey(t, "net-phrase-8")
	invPriv, invPub := testsshd.GenerateKey(t, "unlock-phrase-7")
	srv := testsshd.Start(t, netPub, invPub)
	invKey := filepath.Join(t.TempDir(), "inventory_key")
	require.NoError(t, os.WriteFile(invKey, invPriv, 0o600))

	m := Machine{Username: "deploy", SSHKeyData: readKey(t, "id_locked"), SSHKeyUnlock: "unlock-phrase-7"}
	n := Net{Username: "netop", SSHKeyData: string(netPriv), SSHKeyUnlock: "net-phrase-8"}
	for _, creds := range [][]Credential{{m, n}, {n, m}} {
		t.Run(creds[0].Kind()+","+creds[1].Kind(), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100), "env")
			in, err := Inject(dir, creds...)
			require.NoError(t, err)
			require.NoError(t, os.MkdirAll(dir, 0o700))
			for path, f := range in.Files {
				require.NoError(t, os.WriteFile(path, f.Content, f.Mode))
			}
			netKey := in.Env["ANSIBLE_NET_SSH_KEYFILE"]
			require.Greater(t, len(netKey), 100, "ssh must cut the path for this test")
			for _, key := range []string{netKey, invKey} {
				out, err := sshWithKey(t, srv, key, in.Prompts)
				assert.NoError(t, err, "login with %s:\n%s", key, out)
				assert.Contains(t, out, "Enter passphrase for key '", "ssh must have asked, or this test proves nothing")
			}
		})
	}
}

// sshWithKey runs ssh with only the key file at key, under a pty whose
// prompts are answered from prompts, and returns what ssh printed.
func sshWithKey(t *testing.T, srv *testsshd.Server, key string, prompts []Prompt) (string, error) {
	t.Helper()
	rules, err := prompt.Compile(prompts)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ssh", "-F", "/dev/null", "-i", key,
		"-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
		"-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no",
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-p", strconv.Itoa(srv.Port), srv.User+"@127.0.0.1", "true")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	ptmx, err := pty.Start(cmd)
	require.NoError(t, err)
	defer ptmx.Close()
	m := prompt.NewMatcher(rules)
	var out strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := ptmx.Read(buf)
		out.Write(buf[:n])
		for _, a := range m.Feed(buf[:n]) {
			_, _ = ptmx.Write(a)
		}
		if err != nil { // EIO once ssh has exited
			break
		}
	}
	return out.String(), cmd.Wait()
}
