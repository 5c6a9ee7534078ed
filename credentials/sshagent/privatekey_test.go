package sshagent

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

// countDecryptions makes decrypt count its calls until the test ends.
func countDecryptions(t *testing.T) *int {
	t.Helper()
	n := new(int)
	orig := decrypt
	decrypt = func(pemBytes, passphrase []byte) (any, error) {
		*n++
		return orig(pemBytes, passphrase)
	}
	t.Cleanup(func() { decrypt = orig })
	return n
}

// A key given already decrypted, as the credentials package checked it, is
// served as is: its PEM is not decrypted a second time.
func TestStartServesPrivateKeyWithoutDecrypting(t *testing.T) {
	var encrypted []testKey
	for _, k := range allKinds(t) {
		if len(k.key.Passphrase) > 0 && k.name != "plain key with a needless passphrase" {
			encrypted = append(encrypted, k)
		}
	}
	require.NotEmpty(t, encrypted)
	for _, k := range encrypted {
		t.Run(k.name, func(t *testing.T) {
			decryptions := countDecryptions(t)
			parsed, err := decrypt(k.key.PEM, k.key.Passphrase)
			require.NoError(t, err)
			require.Equal(t, 1, *decryptions)

			given := k.key
			given.Comment = k.name
			given.PrivateKey = parsed
			a, err := Start(filepath.Join(t.TempDir(), "agent"), given)
			require.NoError(t, err)
			defer a.Close()
			assert.Equal(t, 1, *decryptions, "Start decrypted a key it was given decrypted")

			client, hangup := dial(t, a)
			defer hangup()
			list, err := client.List()
			require.NoError(t, err)
			require.Len(t, list, 1)
			pub, err := ssh.NewPublicKey(k.pub)
			require.NoError(t, err)
			assert.Equal(t, pub.Marshal(), list[0].Blob)
			data := []byte("challenge " + k.name)
			sig, err := client.Sign(pub, data)
			require.NoError(t, err)
			assert.NoError(t, pub.Verify(data, sig))
		})
	}
	// The same key as PEM alone costs a decryption: the count above is
	// not zero for want of a working hook.
	t.Run("PEM only", func(t *testing.T) {
		decryptions := countDecryptions(t)
		a, err := Start(filepath.Join(t.TempDir(), "agent"), encrypted[0].key)
		require.NoError(t, err)
		defer a.Close()
		assert.Equal(t, 1, *decryptions)
	})
}

// PrivateKey replaces PEM and Passphrase entirely, and a value the agent
// cannot serve fails as an invalid key.
func TestStartPrivateKeyAlone(t *testing.T) {
	k := allKinds(t)[2] // an encrypted RSA key
	parsed, err := ssh.ParseRawPrivateKeyWithPassphrase(k.key.PEM, k.key.Passphrase)
	require.NoError(t, err)
	a, err := Start(filepath.Join(t.TempDir(), "agent"), Key{PrivateKey: parsed, Comment: "parsed"})
	require.NoError(t, err)
	client, hangup := dial(t, a)
	list, err := client.List()
	hangup()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "parsed", list[0].Comment)
	require.NoError(t, a.Close())

	dir := filepath.Join(t.TempDir(), "agent")
	_, err = Start(dir, Key{PrivateKey: crypto.PrivateKey("not a key"), Comment: "bogus"})
	assert.ErrorIs(t, err, ErrInvalidKey)
	var ke *KeyError
	require.ErrorAs(t, err, &ke)
	assert.Equal(t, "bogus", ke.Comment)
	assert.NoDirExists(t, dir)
}

// An Ed25519 key given decrypted is the one the agent zeroes on Close, so
// that the caller's decrypted copy does not outlive the agent.
func TestCloseWipesGivenEd25519(t *testing.T) {
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	b, err := ssh.MarshalPrivateKeyWithPassphrase(ek, "", []byte(pass))
	require.NoError(t, err)
	parsed, err := ssh.ParseRawPrivateKeyWithPassphrase(pem.EncodeToMemory(b), []byte(pass))
	require.NoError(t, err)
	held, ok := parsed.(*ed25519.PrivateKey)
	require.True(t, ok, "ssh returns %T for an OpenSSH Ed25519 key", parsed)
	require.Equal(t, []byte(ek), []byte(*held))

	a, err := Start(filepath.Join(t.TempDir(), "agent"), Key{PrivateKey: parsed})
	require.NoError(t, err)
	require.NoError(t, a.Close())
	assert.Equal(t, make([]byte, ed25519.PrivateKeySize), []byte(*held))
}
