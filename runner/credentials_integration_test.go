package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/internal/testsshd"
)

// Real runs of ansible-core with credentials: the runner answers ansible's
// vault and become prompts, serves keys from its agent to ssh and git, and
// every run is followed by a leak check (leak_test.go). The tests run in
// parallel with each other: ansible's start-up dominates their time.

// needBinaries skips the test when a program it drives is not installed.
func needBinaries(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range append([]string{"ansible-playbook"}, names...) {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s not on PATH: %v", n, err)
		}
	}
}

// realConfig lays out a private data dir with project/site.yml and
// inventory/hosts and returns a Config running it. The ssh control path
// dir is left to the runner: runs must not share ssh connections, and a
// control master that outlives its run is caught by the leak check.
func realConfig(t *testing.T, playbook, inventory string) Config {
	t.Helper()
	pdd := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(pdd, "project"), 0o700))
	must(t, os.MkdirAll(filepath.Join(pdd, "inventory"), 0o700))
	must(t, os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte(playbook), 0o600))
	must(t, os.WriteFile(filepath.Join(pdd, "inventory", "hosts"), []byte(inventory), 0o600))
	return Config{
		PrivateDataDir: pdd,
		Target:         Playbook{Path: "site.yml"},
		PromptTimeout:  20 * time.Second,
		JobTimeout:     60 * time.Second,
	}
}

// runTracked runs cfg with leak tracking and checks for leaks afterwards.
func runTracked(t *testing.T, cfg Config, secrets ...string) (*Result, error) {
	t.Helper()
	trackLeaks(t, &cfg)
	res, err := Run(context.Background(), cfg)
	require.NotNil(t, res, "Run: %v", err)
	if t.Failed() || err != nil {
		// How long it ran tells a child that died at once from one that
		// died late.
		t.Logf("run %s: rc %d after %s; stdout:\n%s", res.Ident, res.RC,
			res.Ended.Sub(res.Started).Round(time.Millisecond), readArtifact(t, res, "stdout"))
	}
	assertNoSecrets(t, res, err, secrets...)
	return res, err
}

const localInventory = "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"

// sshInventory reaches srv as whoever -u (or ansible_user) names. Host keys
// are neither checked nor recorded: the server is new on every run.
func sshInventory(srv *testsshd.Server, extra string) string {
	return fmt.Sprintf("target ansible_host=%s ansible_port=%d ansible_connection=ssh "+
		"ansible_python_interpreter=/usr/bin/python3 "+
		"ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null' %s\n",
		srv.Host, srv.Port, extra)
}

// taskResult returns the res of the runner_on_ok event of task.
func taskResult(t *testing.T, res *Result, task string) map[string]any {
	t.Helper()
	for ev, err := range res.Events() {
		require.NoError(t, err)
		if ev.Event == "runner_on_ok" && ev.Task() == task {
			var r map[string]any
			require.NoError(t, json.Unmarshal(ev.Res(), &r))
			return r
		}
	}
	t.Fatalf("no runner_on_ok event for task %q", task)
	return nil
}

// pemLine is a distinctive line of a private key: its first base64 line.
func pemLine(t *testing.T, key []byte) string {
	t.Helper()
	lines := strings.Split(string(key), "\n")
	require.Greater(t, len(lines), 2, "not a PEM key")
	return lines[1]
}

// encryptString vaults value with ansible-vault, the password in a
// temporary file that is gone before the run, and returns the YAML of a
// variable named name.
func encryptString(t *testing.T, password, vaultID, name, value string) string {
	t.Helper()
	pwFile := filepath.Join(t.TempDir(), "vault-pass")
	must(t, os.WriteFile(pwFile, []byte(password), 0o600))
	defer os.Remove(pwFile)
	src := pwFile
	if vaultID != "" {
		src = vaultID + "@" + pwFile
	}
	out, err := exec.Command("ansible-vault", "encrypt_string", "--vault-id", src, "--name", name, value).Output()
	require.NoError(t, err)
	return string(out)
}

func TestRealVault(t *testing.T) {
	t.Parallel()
	needBinaries(t, "ansible-vault")
	const password, plain = "vault-pw-7Hq2xZ", "decrypted-hello-4711"
	for _, id := range []string{"", "prod"} {
		t.Run("vault id "+strconv.Quote(id), func(t *testing.T) {
			vaulted := encryptString(t, password, id, "secret_var", plain)
			playbook := "- hosts: localhost\n  gather_facts: false\n  vars:\n" +
				indent(vaulted, "    ") +
				"  tasks:\n    - name: show\n      debug: {var: secret_var}\n"
			cfg := realConfig(t, playbook, localInventory)
			cfg.Credentials = []credentials.Credential{credentials.Vault{VaultPassword: password, VaultID: id}}
			res, err := runTracked(t, cfg, password)
			require.NoError(t, err)
			assert.Equal(t, StatusSuccessful, res.Status)
			assert.Equal(t, plain, taskResult(t, res, "show")["secret_var"])
			if id == "" {
				assert.Contains(t, res.Command, "--ask-vault-pass")
			} else {
				assert.Contains(t, res.Command, "prod@prompt")
			}
		})
	}
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	if !strings.HasSuffix(s, "\n") {
		b.WriteByte('\n')
	}
	return b.String()
}

// becomeUser creates a local account with a password and password-gated
// sudo, and removes both when the test ends.
func becomeUser(t *testing.T, password string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating a user with sudo rights needs root")
	}
	needBinaries(t, "useradd", "userdel", "chpasswd", "sudo")
	name := "arb" + strings.ReplaceAll(uuid.NewString(), "-", "")[:10]
	sudoers := "/etc/sudoers.d/arunner-test-" + name
	t.Cleanup(func() {
		os.Remove(sudoers)
		if out, err := exec.Command("userdel", "-r", "-f", name).CombinedOutput(); err != nil {
			t.Logf("userdel %s: %v: %s", name, err, out)
		}
	})
	if out, err := exec.Command("useradd", "-m", "-s", "/bin/sh", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v: %s", err, out)
	}
	chpasswd := exec.Command("chpasswd")
	chpasswd.Stdin = strings.NewReader(name + ":" + password + "\n")
	if out, err := chpasswd.CombinedOutput(); err != nil {
		t.Fatalf("chpasswd: %v: %s", err, out)
	}
	must(t, os.WriteFile(sudoers, []byte(name+" ALL=(ALL:ALL) ALL\n"), 0o440))
	return name
}

// shareAuthorizedKeys lets sshd read the authorized keys file as another
// user: it reads the file with the user's rights, and testsshd keeps it in
// private temp dirs.
func shareAuthorizedKeys(t *testing.T, srv *testsshd.Server) {
	t.Helper()
	must(t, os.Chmod(srv.AuthorizedKeysFile, 0o644))
	for dir := filepath.Dir(srv.AuthorizedKeysFile); dir != os.TempDir() && dir != "/"; dir = filepath.Dir(dir) {
		must(t, os.Chmod(dir, 0o755))
	}
}

// The become password is asked by ansible-playbook (--ask-become-pass) on
// the terminal, answered by the runner, and used by ansible for sudo on the
// host it reached over ssh as an unprivileged user.
func TestRealBecome(t *testing.T) {
	t.Parallel()
	needBinaries(t, "ssh")
	const password = "become-pw-Kd93mQ"
	name := becomeUser(t, password)
	priv, pub := testsshd.GenerateKey(t, "")
	srv := testsshd.Start(t, pub)
	shareAuthorizedKeys(t, srv)
	// The credential says how to become (sudo, with a password); only the
	// escalated task asks to, as in AWX where --become is the job's choice.
	const playbook = `- hosts: all
  gather_facts: false
  tasks:
    - name: login
      command: id -un
    - name: escalated
      become: true
      command: id -u
`
	machine := credentials.Machine{Username: name, SSHKeyData: string(priv), BecomeMethod: "sudo", BecomePassword: password}

	t.Run("with become password", func(t *testing.T) {
		cfg := realConfig(t, playbook, sshInventory(srv, ""))
		cfg.Credentials = []credentials.Credential{machine}
		res, err := runTracked(t, cfg, password, pemLine(t, priv))
		require.NoError(t, err)
		assert.Equal(t, name, taskResult(t, res, "login")["stdout"])
		assert.Equal(t, "0", taskResult(t, res, "escalated")["stdout"])
		assert.Contains(t, res.Command, "--ask-become-pass")
	})
	// Without the password sudo refuses: the success above is the
	// runner's answer at work, not a passwordless sudo.
	t.Run("without become password", func(t *testing.T) {
		noPass := machine
		noPass.BecomePassword = ""
		cfg := realConfig(t, playbook, sshInventory(srv, ""))
		cfg.Credentials = []credentials.Credential{noPass}
		res, err := runTracked(t, cfg, pemLine(t, priv))
		var exit *ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, name, taskResult(t, res, "login")["stdout"])
		assert.Contains(t, readArtifact(t, res, "stdout"), "Missing sudo password")
	})
}

// SSH keys reach ssh only through the runner's agent: the server accepts
// nothing but the key, and the key is encrypted.
func TestRealSSHKeyViaAgent(t *testing.T) {
	t.Parallel()
	needBinaries(t, "ssh")
	const passphrase = "key-unlock-Zp41wV"
	priv, pub := testsshd.GenerateKey(t, passphrase)
	wrong, _ := testsshd.GenerateKey(t, "")
	srv := testsshd.Start(t, pub)
	const playbook = `- hosts: all
  gather_facts: false
  tasks:
    - name: remote
      command: echo reached-over-ssh
`
	secrets := []string{passphrase, pemLine(t, priv)}

	t.Run("machine credential", func(t *testing.T) {
		cfg := realConfig(t, playbook, sshInventory(srv, ""))
		cfg.Credentials = []credentials.Credential{credentials.Machine{
			Username: srv.User, SSHKeyData: string(priv), SSHKeyUnlock: passphrase,
		}}
		res, err := runTracked(t, cfg, secrets...)
		require.NoError(t, err)
		assert.Equal(t, "reached-over-ssh", taskResult(t, res, "remote")["stdout"])
		assert.NotEmpty(t, agentSocket(res), "the command artifact records the agent socket")
	})
	// Right after a run that logged in with the key: nothing of it (agent,
	// ssh control master) is left for this run to use.
	t.Run("no credential", func(t *testing.T) {
		cfg := realConfig(t, playbook, sshInventory(srv, "ansible_user="+srv.User))
		res, err := runTracked(t, cfg, secrets...)
		var exit *ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 4, exit.RC, "ansible's rc for unreachable hosts")
		assert.Equal(t, 1, res.Stats().Dark["target"], "the host is unreachable")
	})
	t.Run("env/ssh_key and env/passwords", func(t *testing.T) {
		cfg := realConfig(t, playbook, sshInventory(srv, "ansible_user="+srv.User))
		env := filepath.Join(cfg.PrivateDataDir, "env")
		must(t, os.MkdirAll(env, 0o700))
		must(t, os.WriteFile(filepath.Join(env, "ssh_key"), priv, 0o600))
		// ansible-runner users answer ssh-add's prompt for env/ssh_key.
		must(t, os.WriteFile(filepath.Join(env, "passwords"),
			[]byte(`"^Enter passphrase for .*:\\s*?$": "`+passphrase+"\"\n"), 0o600))
		res, err := runTracked(t, cfg, secrets...)
		require.NoError(t, err)
		assert.Equal(t, "reached-over-ssh", taskResult(t, res, "remote")["stdout"])
	})
	t.Run("two keys, the wrong one first", func(t *testing.T) {
		cfg := realConfig(t, playbook, sshInventory(srv, "ansible_user="+srv.User))
		cfg.SSHKeys = []SSHKey{
			{PEM: wrong, Comment: "wrong"},
			{PEM: priv, Passphrase: []byte(passphrase), Comment: "right"},
		}
		res, err := runTracked(t, cfg, append(secrets, pemLine(t, wrong))...)
		require.NoError(t, err)
		assert.Equal(t, "reached-over-ssh", taskResult(t, res, "remote")["stdout"])
	})
}

// A git checkout over ssh authenticates with the SCM credential's key,
// served by the agent.
func TestRealSCMClone(t *testing.T) {
	t.Parallel()
	needBinaries(t, "ssh", "git", "git-upload-pack")
	const passphrase = "scm-unlock-Rt58nB"
	priv, pub := testsshd.GenerateKey(t, passphrase)
	srv := testsshd.Start(t, pub)

	base := t.TempDir()
	work, bare := filepath.Join(base, "work"), filepath.Join(base, "repo.git")
	gitRun := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=arunner", "-c", "user.email=arunner@127.0.0.1"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	gitRun("init", "-q", work)
	must(t, os.WriteFile(filepath.Join(work, "README"), []byte("cloned-over-ssh\n"), 0o644))
	gitRun("-C", work, "add", "README")
	gitRun("-C", work, "commit", "-q", "-m", "first")
	gitRun("clone", "-q", "--bare", work, bare)

	dest := filepath.Join(t.TempDir(), "checkout")
	playbook := fmt.Sprintf(`- hosts: localhost
  gather_facts: false
  tasks:
    - name: clone
      ansible.builtin.git:
        repo: "ssh://%s@%s%s"
        dest: %q
        accept_hostkey: true
        ssh_opts: "-o UserKnownHostsFile=/dev/null"
`, srv.User, srv.Addr, bare, dest)
	cfg := realConfig(t, playbook, localInventory)
	cfg.Credentials = []credentials.Credential{credentials.SCM{
		SSHKeyData: string(priv), SSHKeyUnlock: passphrase, AcceptHostKey: true,
	}}
	res, err := runTracked(t, cfg, passphrase, pemLine(t, priv))
	require.NoError(t, err)
	assert.NotEmpty(t, taskResult(t, res, "clone")["after"], "the module reports the commit")
	readme, err := os.ReadFile(filepath.Join(dest, "README"))
	require.NoError(t, err)
	assert.Equal(t, "cloned-over-ssh\n", string(readme))
	assert.NotContains(t, srv.Log(), "Failed publickey", "only the agent's key was offered")
}

// A vars_prompt nobody answers ends the run after PromptTimeout with an
// error naming the prompt.
func TestRealUnansweredVarsPrompt(t *testing.T) {
	t.Parallel()
	needBinaries(t)
	const playbook = `- hosts: localhost
  gather_facts: false
  vars_prompt:
    - name: secret
      prompt: Enter the secret
      private: true
  tasks:
    - debug: {var: secret}
`
	cfg := realConfig(t, playbook, localInventory)
	cfg.PromptTimeout = 2 * time.Second
	// An answer for a prompt that never comes must not leak either.
	const unused = "unused-answer-Vb20kL"
	cfg.Passwords = []Password{{Pattern: `^Never asked:\s*$`, Response: unused}}
	start := time.Now()
	res, err := runTracked(t, cfg, unused)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.True(t, errors.Is(err, ErrTimeout))
	assert.Equal(t, PromptTimeout, te.Kind)
	assert.Contains(t, te.Prompt, "Enter the secret")
	assert.Contains(t, err.Error(), "Enter the secret")
	assert.Equal(t, StatusTimeout, res.Status)
	assert.Equal(t, PromptTimeout, res.Timeout)
	assert.Less(t, time.Since(start), 30*time.Second, "the prompt timeout, not the job timeout, ended the run")
	assert.False(t, bytes.Contains([]byte(readArtifact(t, res, "stdout")), []byte(unused)))
}

// An SSH password is asked by ansible-playbook (--ask-pass) on the terminal,
// answered by the runner, and used (through sshpass) to log in to a server
// that accepts passwords.
func TestRealAskPass(t *testing.T) {
	t.Parallel()
	needBinaries(t, "ssh", "sshpass")
	const password = "ssh-login-pw-Qx81rT"
	name := becomeUser(t, password)
	srv := testsshd.StartWithPasswords(t)
	const playbook = `- hosts: all
  gather_facts: false
  tasks:
    - name: login
      command: id -un
`
	t.Run("with password", func(t *testing.T) {
		cfg := realConfig(t, playbook, sshInventory(srv, ""))
		cfg.Credentials = []credentials.Credential{credentials.Machine{Username: name, Password: password}}
		res, err := runTracked(t, cfg, password)
		require.NoError(t, err)
		assert.Equal(t, name, taskResult(t, res, "login")["stdout"])
		assert.Contains(t, res.Command, "--ask-pass")
	})
	// A wrong password is refused by the server: the success above is the
	// runner's answer at work.
	t.Run("wrong password", func(t *testing.T) {
		cfg := realConfig(t, playbook, sshInventory(srv, ""))
		cfg.Credentials = []credentials.Credential{credentials.Machine{Username: name, Password: "not-" + password}}
		res, err := runTracked(t, cfg, password, "not-"+password)
		var exit *ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, StatusFailed, res.Status)
	})
}
