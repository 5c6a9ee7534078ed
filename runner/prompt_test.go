package runner

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func init() {
	// Output that ends on an unterminated line, then silence: a prompt to
	// the answerer's eye. FAKE_PROMPT is the line.
	fakeModes["prompt_then_sleep"] = func() int {
		fmt.Print(os.Getenv("FAKE_PROMPT"))
		time.Sleep(3 * time.Second)
		return 0
	}
}

// Without a pty nothing can wait on a prompt (stdin is empty), so the prompt
// timeout does not end a run that is only silent after an unterminated line.
func TestNoPTYHasNoPromptTimeout(t *testing.T) {
	cfg := fakeConfig(t, "prompt_then_sleep")
	cfg.EnvVars["FAKE_PROMPT"] = "Enter the secret: "
	cfg.NoPTY = true
	cfg.PromptTimeout = time.Second
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, StatusSuccessful, res.Status)
	assert.Equal(t, "Enter the secret: ", readArtifact(t, res, "stdout"))
}

// The prompt a TimeoutError quotes is ansible's text; a secret of the run in
// it is redacted like everywhere else.
func TestPromptTimeoutRedacted(t *testing.T) {
	cfg := fakeConfig(t, "prompt_then_sleep")
	cfg.EnvVars["FAKE_PROMPT"] = "Retype hunter2-xyz to confirm: "
	cfg.PromptTimeout = time.Second
	// A rule that never matches: its response is still a secret of the run.
	cfg.Passwords = []Password{{Pattern: `^no such prompt$`, Response: "hunter2-xyz"}}
	_, err := Run(context.Background(), cfg)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, PromptTimeout, te.Kind)
	assert.Contains(t, te.Prompt, "to confirm:")
	assert.NotContains(t, te.Prompt, "hunter2-xyz")
	assert.NotContains(t, err.Error(), "hunter2-xyz")
}

// A Config printed with fmt shows neither a password's response nor an SSH
// key or its passphrase (credentials print themselves redacted too).
func TestConfigPrintHidesSecrets(t *testing.T) {
	cfg := Config{
		Passwords: []Password{{Pattern: "Vault password:", Response: "pw-Zq81"}},
		SSHKeys:   []SSHKey{{PEM: []byte("-----BEGIN OPENSSH PRIVATE KEY-----\nkey-Wm27\n"), Passphrase: []byte("pp-Rk55"), Comment: "deploy"}},
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x"} {
		out := fmt.Sprintf(verb, cfg)
		for _, secret := range []string{"pw-Zq81", "key-Wm27", "pp-Rk55", "BEGIN OPENSSH"} {
			assert.NotContains(t, out, secret, verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", secret), verb)
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", cfg), "deploy")
}
