package runner

import (
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/privdata"
)

// The agent serves a credential's key as credentials.Inject decrypted it
// (to check its passphrase) instead of decrypting the PEM a second time: a
// bcrypt KDF of a tenth of a second or more per encrypted OpenSSH key.
func TestAgentServesInjectedKey(t *testing.T) {
	key, err := os.ReadFile("../credentials/testdata/id_locked")
	require.NoError(t, err)
	const phrase = "unlock-phrase-7" // see credentials/testdata/README
	inj, err := credentials.Inject(t.TempDir(), credentials.Machine{SSHKeyData: string(key), SSHKeyUnlock: phrase})
	require.NoError(t, err)
	require.Len(t, inj.SSHKeys, 1)
	want, err := ssh.ParseRawPrivateKeyWithPassphrase(key, []byte(phrase))
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(want)
	require.NoError(t, err)

	// Without PEM, the agent can serve the key only from what Inject
	// decoded: it cannot have decrypted the key again.
	keys := inj.SSHKeys
	keys[0].PEM, keys[0].Passphrase = nil, nil
	r := &run{runtime: t.TempDir(), pdd: t.TempDir()}
	defer func() {
		for _, f := range r.cleanup {
			f()
		}
	}()
	env := map[string]string{}
	require.NoError(t, r.planAgent(&privdata.Dir{}, keys, env))
	require.NoError(t, r.startAgent())

	c, err := net.Dial("unix", env["SSH_AUTH_SOCK"])
	require.NoError(t, err)
	defer c.Close()
	list, err := agent.NewClient(c).List()
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, signer.PublicKey().Marshal(), list[0].Blob)
	assert.Equal(t, "ssh credential", list[0].Comment)
}
