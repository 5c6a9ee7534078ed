package sshagent

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/arunner/arunner/internal/testsshd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

const pass = "c0rrect-h0rse-passphrase"

var (
	kindsOnce sync.Once
	kinds     []testKey
)

func pemOf(t *testing.T, blk *pem.Block, err error) []byte {
	t.Helper()
	require.NoError(t, err)
	return pem.EncodeToMemory(blk)
}

// legacyEncrypted makes an OpenSSL-style "Proc-Type: 4,ENCRYPTED" PEM key,
// the format of `ssh-keygen -m PEM` with a passphrase.
func legacyEncrypted(t *testing.T, typ string, der []byte) []byte {
	//lint:ignore SA1019 the legacy format is what older keys on disk use
	blk, err := x509.EncryptPEMBlock(rand.Reader, typ, der, []byte(pass), x509.PEMCipherAES256) //nolint:staticcheck
	return pemOf(t, blk, err)
}

type testKey struct {
	name string
	key  Key
	pub  crypto.PublicKey
}

// allKinds returns one key per supported format, each with its own key
// material (the keyring serves a key given twice only once). Generated once:
// RSA key generation dominates this package's test time.
func allKinds(t *testing.T) []testKey {
	kindsOnce.Do(func() { kinds = makeKinds(t) })
	require.NotEmpty(t, kinds)
	return kinds
}

func makeKinds(t *testing.T) []testKey {
	newRSA := func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		require.NoError(t, err)
		return k
	}
	newEd := func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		return k
	}
	newEC := func(c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		require.NoError(t, err)
		return k
	}
	blk := func(k crypto.PrivateKey) []byte {
		b, err := ssh.MarshalPrivateKey(k, "")
		return pemOf(t, b, err)
	}
	enc := func(k crypto.PrivateKey) []byte {
		b, err := ssh.MarshalPrivateKeyWithPassphrase(k, "", []byte(pass))
		return pemOf(t, b, err)
	}
	sec1 := func(k *ecdsa.PrivateKey) []byte {
		der, err := x509.MarshalECPrivateKey(k)
		require.NoError(t, err)
		return der
	}
	pkcs8 := func(k crypto.PrivateKey) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		return der
	}
	r1, r2, r3 := newRSA(), newRSA(), newRSA()
	e1, e2, e3 := newEd(), newEd(), newEd()
	c1, c2, c3, c4 := newEC(elliptic.P256()), newEC(elliptic.P384()), newEC(elliptic.P521()), newEC(elliptic.P256())
	return []testKey{
		{"rsa pkcs1", Key{PEM: pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(r1)})}, r1.Public()},
		{"rsa pkcs1 legacy encrypted", Key{PEM: legacyEncrypted(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(r2)), Passphrase: []byte(pass)}, r2.Public()},
		{"rsa openssh encrypted", Key{PEM: enc(r3), Passphrase: []byte(pass)}, r3.Public()},
		{"ed25519 openssh", Key{PEM: blk(e1)}, e1.Public()},
		{"ed25519 openssh encrypted", Key{PEM: enc(e2), Passphrase: []byte(pass)}, e2.Public()},
		{"ed25519 pkcs8", Key{PEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8(e3)})}, e3.Public()},
		{"ecdsa p256 sec1", Key{PEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1(c1)})}, c1.Public()},
		{"ecdsa p384 legacy encrypted", Key{PEM: legacyEncrypted(t, "EC PRIVATE KEY", sec1(c2)), Passphrase: []byte(pass)}, c2.Public()},
		{"ecdsa p521 openssh encrypted", Key{PEM: enc(c3), Passphrase: []byte(pass)}, c3.Public()},
		{"plain key with a needless passphrase", Key{PEM: blk(c4), Passphrase: []byte(pass)}, c4.Public()},
	}
}

func dial(t *testing.T, a *Agent) (agent.ExtendedAgent, func()) {
	t.Helper()
	c, err := net.Dial("unix", a.Socket())
	require.NoError(t, err)
	return agent.NewClient(c), func() { c.Close() }
}

func TestStartServesEveryKind(t *testing.T) {
	kinds := allKinds(t)
	keys := make([]Key, len(kinds))
	for i, k := range kinds {
		keys[i] = k.key
		keys[i].Comment = k.name
	}
	dir := filepath.Join(t.TempDir(), "agent")
	a, err := Start(dir, keys...)
	require.NoError(t, err)
	defer a.Close()

	client, hangup := dial(t, a)
	defer hangup()
	list, err := client.List()
	require.NoError(t, err)
	require.Len(t, list, len(kinds))
	for i, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			pub, err := ssh.NewPublicKey(k.pub)
			require.NoError(t, err)
			assert.Equal(t, pub.Marshal(), list[i].Blob)
			assert.Equal(t, k.name, list[i].Comment)
			data := []byte("challenge " + k.name)
			sig, err := client.Sign(pub, data)
			require.NoError(t, err, "agent signs with the key")
			assert.NoError(t, pub.Verify(data, sig))
		})
	}
}

func TestDuplicateKeyServedOnce(t *testing.T) {
	k := allKinds(t)[3].key
	a, err := Start(filepath.Join(t.TempDir(), "agent"), k, k)
	require.NoError(t, err)
	defer a.Close()
	client, hangup := dial(t, a)
	defer hangup()
	list, err := client.List()
	require.NoError(t, err)
	assert.Len(t, list, 1)
}

func TestStartKeyErrors(t *testing.T) {
	good := allKinds(t)
	encOpenSSH := good[4].key.PEM
	encLegacy := good[1].key.PEM
	tests := []struct {
		name string
		key  Key
		is   error
	}{
		{"garbage", Key{PEM: []byte("not a key at all"), Comment: "garbage"}, ErrInvalidKey},
		{"empty", Key{Comment: "empty"}, ErrInvalidKey},
		{"public key", Key{PEM: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), Comment: "pub"}, ErrInvalidKey},
		{"corrupt body", Key{PEM: []byte("-----BEGIN RSA PRIVATE KEY-----\nMIIBAAAA\n-----END RSA PRIVATE KEY-----\n"), Comment: "corrupt"}, ErrInvalidKey},
		{"openssh no passphrase", Key{PEM: encOpenSSH, Comment: "deploy"}, ErrPassphraseRequired},
		{"legacy no passphrase", Key{PEM: encLegacy, Comment: "deploy"}, ErrPassphraseRequired},
		{"openssh wrong passphrase", Key{PEM: encOpenSSH, Passphrase: []byte("wr0ng-" + pass), Comment: "deploy"}, ErrWrongPassphrase},
		{"legacy wrong passphrase", Key{PEM: encLegacy, Passphrase: []byte("wr0ng-" + pass), Comment: "deploy"}, ErrWrongPassphrase},
		{"no comment", Key{PEM: []byte("x")}, ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "agent")
			// The bad key comes second: the index must name it.
			a, err := Start(dir, good[3].key, tc.key)
			require.Error(t, err)
			assert.Nil(t, a)
			assert.ErrorIs(t, err, tc.is)
			var ke *KeyError
			require.ErrorAs(t, err, &ke)
			assert.Equal(t, 1, ke.Index)
			assert.Equal(t, tc.key.Comment, ke.Comment)
			msg := err.Error()
			assert.Contains(t, msg, "key 1")
			if tc.key.Comment != "" {
				assert.Contains(t, msg, tc.key.Comment)
			}
			assert.NotContains(t, msg, pass)
			for _, line := range strings.Split(string(tc.key.PEM), "\n") {
				if len(line) > 8 && !strings.HasPrefix(line, "-----") && !strings.Contains(line, ":") {
					assert.NotContains(t, msg, line, "key content in error")
				}
			}
			assert.NoDirExists(t, dir, "nothing served, nothing left")
		})
	}
}

func TestSocketAndDirLifecycle(t *testing.T) {
	key := allKinds(t)[3].key

	t.Run("created dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "agent")
		a, err := Start(dir, key)
		require.NoError(t, err)
		assert.Equal(t, filepath.Join(dir, SocketName), a.Socket())
		st, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
		st, err = os.Stat(a.Socket())
		require.NoError(t, err)
		assert.Equal(t, os.ModeSocket, st.Mode().Type())
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

		// An idle client must not keep Close from returning.
		_, hangup := dial(t, a)
		defer hangup()
		require.NoError(t, a.Close())
		require.NoError(t, a.Close(), "idempotent")
		assert.NoFileExists(t, a.Socket())
		assert.NoDirExists(t, dir)
		_, err = net.Dial("unix", a.Socket())
		assert.Error(t, err)
	})

	t.Run("existing dir is kept", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "other"), []byte("x"), 0o600))
		a, err := Start(dir, key)
		require.NoError(t, err)
		require.NoError(t, a.Close())
		assert.NoFileExists(t, a.Socket())
		assert.FileExists(t, filepath.Join(dir, "other"))
	})

	t.Run("created dir with caller files stays", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "agent")
		a, err := Start(dir, key)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "other"), []byte("x"), 0o600))
		require.NoError(t, a.Close())
		assert.FileExists(t, filepath.Join(dir, "other"))
	})

	t.Run("relative dir gives absolute socket", func(t *testing.T) {
		t.Chdir(t.TempDir())
		a, err := Start("rel", key)
		require.NoError(t, err)
		defer a.Close()
		assert.True(t, filepath.IsAbs(a.Socket()))
	})

	t.Run("path too long", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), strings.Repeat("d", 120))
		_, err := Start(dir, key)
		assert.ErrorIs(t, err, ErrPathTooLong)
		var se *SocketError
		assert.ErrorAs(t, err, &se)
		assert.NoDirExists(t, dir)
	})

	t.Run("socket already in use", func(t *testing.T) {
		dir := t.TempDir()
		a, err := Start(dir, key)
		require.NoError(t, err)
		defer a.Close()
		_, err = Start(dir, key)
		var se *SocketError
		assert.ErrorAs(t, err, &se)
	})

	t.Run("no keys", func(t *testing.T) {
		a, err := Start(filepath.Join(t.TempDir(), "agent"))
		require.NoError(t, err)
		defer a.Close()
		client, hangup := dial(t, a)
		defer hangup()
		list, err := client.List()
		require.NoError(t, err)
		assert.Empty(t, list)
	})
}

func TestKeyNeverPrinted(t *testing.T) {
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	k := Key{PEM: []byte("PEMDATA"), Passphrase: []byte(pass), Comment: "c", PrivateKey: ek}
	const str = `sshagent.Key{Comment: "c"}`
	// fmt prints a Stringer's fields by reflection for %d and %o, unless
	// the type implements fmt.Formatter.
	for verb, want := range map[string]string{
		"%v": str, "%+v": str, "%#v": str, "%s": str, "%q": strconv.Quote(str), "%x": fmt.Sprintf("%x", str),
		"%X": fmt.Sprintf("%X", str), "%30.3v": fmt.Sprintf("%30.3v", str), "%d": str, "%o": str, "%b": str,
	} {
		assert.Equal(t, want, fmt.Sprintf(verb, k), verb)
		assert.Equal(t, want, fmt.Sprintf(verb, &k), "%s of a *Key", verb)
	}

	var log bytes.Buffer
	slog.New(slog.NewJSONHandler(&log, nil)).Info("start", "key", k, "ptr", &k)
	slog.New(slog.NewTextHandler(&log, nil)).Info("start", "key", k, "ptr", &k)
	assert.Equal(t, 4, strings.Count(log.String(), "Comment"), "each log line writes String:\n%s", &log)
	assert.NotContains(t, log.String(), "PEM")
	assert.NotContains(t, log.String(), base64.StdEncoding.EncodeToString(ek.Seed()))

	data, err := json.Marshal(k)
	require.NoError(t, err)
	assert.NotContains(t, string(data), "PrivateKey", "a decrypted key is not marshaled")
}

func TestCloseWipesEd25519(t *testing.T) {
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	b, err := ssh.MarshalPrivateKey(ek, "")
	require.NoError(t, err)
	a, err := Start(filepath.Join(t.TempDir(), "agent"), Key{PEM: pem.EncodeToMemory(b)})
	require.NoError(t, err)
	require.Len(t, a.wipe, 1)
	held := a.wipe[0]
	assert.Equal(t, []byte(ek), []byte(held))
	require.NoError(t, a.Close())
	assert.Equal(t, make([]byte, ed25519.PrivateKeySize), []byte(held))
}

// TestSSHLoginThroughAgent is the real test: a key-only sshd accepts the
// encrypted key only when it is offered through the agent.
func TestSSHLoginThroughAgent(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		t.Skip("ssh client not installed")
	}
	const phrase = "fixture-passphrase-9"
	priv, pub := testsshd.GenerateKey(t, phrase)
	srv := testsshd.Start(t, pub)

	sshTrue := func(sock string) (string, error) {
		home := t.TempDir() // empty: no ~/.ssh keys to fall back on
		cmd := exec.Command("ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
			"-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=no",
			"-p", strconv.Itoa(srv.Port), srv.User+"@127.0.0.1", "true")
		cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
		if sock != "" {
			cmd.Env = append(cmd.Env, "SSH_AUTH_SOCK="+sock)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := sshTrue("")
	require.Error(t, err, "without the agent the login must fail, or this test proves nothing: %s", out)

	dir := t.TempDir()
	a, err := Start(filepath.Join(dir, "agent"), Key{PEM: priv, Passphrase: []byte(phrase), Comment: "deploy key"})
	require.NoError(t, err)
	out, err = sshTrue(a.Socket())
	require.NoError(t, err, "login through the agent: %s\n%s", out, srv.Log())
	require.NoError(t, a.Close())

	out, err = sshTrue(a.Socket())
	require.Error(t, err, "after Close the agent is gone: %s", out)

	// Nothing in the directory the agent used holds key material.
	body := bytes.TrimSpace(bytes.Split(priv, []byte("\n"))[1])
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		require.NoError(t, err)
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.False(t, bytes.Contains(b, body), "key material in %s", p)
			assert.False(t, bytes.Contains(b, []byte(phrase)), "passphrase in %s", p)
		}
		assert.NotEqual(t, os.ModeSocket, info.Mode().Type(), "socket left at %s", p)
		return nil
	}))
}
