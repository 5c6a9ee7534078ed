package credentials

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
)

// publicOf returns the wire form of the public half of a decoded key.
func publicOf(t *testing.T, key crypto.PrivateKey) []byte {
	t.Helper()
	signer, err := ssh.NewSignerFromKey(key)
	require.NoError(t, err)
	return signer.PublicKey().Marshal()
}

// Inject hands the agent each key as it decrypted it to check the
// passphrase, so that the agent need not run the key's KDF again.
func TestInjectKeepsDecodedKey(t *testing.T) {
	scmKey := lockedKey(t, "scm-phrase-9")
	in, err := Inject(testDir,
		Machine{SSHKeyData: readKey(t, "id_locked"), SSHKeyUnlock: "unlock-phrase-7"},
		SCM{SSHKeyData: scmKey, SSHKeyUnlock: "scm-phrase-9"},
		Net{Username: "netop", SSHKeyData: lockedKey(t, "net-phrase-8"), SSHKeyUnlock: "net-phrase-8"},
	)
	require.NoError(t, err)
	require.Len(t, in.SSHKeys, 2, "the network key goes to a file, not the agent")
	for _, k := range in.SSHKeys {
		require.NotNil(t, k.PrivateKey, k.Kind)
		want, err := ssh.ParseRawPrivateKeyWithPassphrase(k.PEM, k.Passphrase)
		require.NoError(t, err)
		assert.Equal(t, publicOf(t, want), publicOf(t, k.PrivateKey), "%s key", k.Kind)
	}

	plain, err := Inject(testDir, Machine{SSHKeyData: readKey(t, "id_plain")})
	require.NoError(t, err)
	require.Len(t, plain.SSHKeys, 1)
	assert.NotNil(t, plain.SSHKeys[0].PrivateKey, "an unencrypted key is kept decoded too")
}

// The decoded key is a secret like PEM: printed and logged as Hidden, and
// not marshaled at all.
func TestSSHKeyHidesDecodedKey(t *testing.T) {
	in, err := Inject(testDir, Machine{SSHKeyData: readKey(t, "id_locked"), SSHKeyUnlock: "unlock-phrase-7"})
	require.NoError(t, err)
	k := in.SSHKeys[0]
	ed, ok := k.PrivateKey.(*ed25519.PrivateKey)
	require.True(t, ok, "id_locked is an OpenSSH Ed25519 key, not %T", k.PrivateKey)
	seed := ed.Seed()
	leaks := []string{
		fmt.Sprintf("%x", seed),
		fmt.Sprintf("%X", seed),
		strings.Trim(fmt.Sprint(seed), "[]"), // %v and %d
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%X"} {
		for _, v := range []any{k, &k, in, in.Redacted()} {
			out := fmt.Sprintf(verb, v)
			for _, leak := range leaks {
				assert.NotContains(t, out, leak, "%s of %T", verb, v)
			}
		}
	}
	var log bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&log, nil), slog.NewTextHandler(&log, nil)} {
		slog.New(h).Info("run", "key", k, "injection", in, "wrapped", struct{ Keys []SSHKey }{in.SSHKeys})
	}
	leaks = append(leaks, base64.StdEncoding.EncodeToString(*ed))
	for _, leak := range leaks {
		assert.NotContains(t, log.String(), leak, "slog")
	}
	assert.Equal(t, "{Kind:ssh PEM:********** Passphrase:********** PrivateKey:**********}", fmt.Sprintf("%+v", k))

	data, err := json.Marshal(k)
	require.NoError(t, err)
	assert.NotContains(t, string(data), "PrivateKey")
	assert.Nil(t, in.Redacted().SSHKeys[0].PrivateKey)
}
