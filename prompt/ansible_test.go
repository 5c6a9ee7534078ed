//go:build linux

package prompt

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests drive the real ansible-core under a pty, the way the runner
// does, and are skipped only where ansible-playbook is not installed.

func requireAnsible(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"ansible-playbook", "ansible-vault"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not on PATH", bin)
		}
	}
}

// noEcho clears ECHO on the pty's terminal side so that answers are not
// echoed back into the captured output (pexpect spawns with echo=False too).
func noEcho(tty *os.File) error {
	var tio syscall.Termios
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, tty.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
		return e
	}
	tio.Lflag &^= syscall.ECHO
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, tty.Fd(), syscall.TCSETS, uintptr(unsafe.Pointer(&tio))); e != 0 {
		return e
	}
	return nil
}

type ptyRun struct {
	output   []byte
	answers  int
	pending  string // set when the run was ended on a pending prompt
	exitCode int
}

// runUnderPty runs argv with the pty as its terminal, feeding all output to
// m and writing its answers back. When ansible stays silent for quiet with a
// prompt pending, the run is ended (as the runner's prompt timeout does).
func runUnderPty(t *testing.T, dir string, m *Matcher, quiet time.Duration, argv ...string) ptyRun {
	t.Helper()
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer ptmx.Close()
	require.NoError(t, noEcho(tty))

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LANG=C.UTF-8",
		"ANSIBLE_FORCE_COLOR=1", // colors around the prompt must not matter
		"ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false",
		"ANSIBLE_LOCAL_TEMP=" + filepath.Join(dir, "tmp"),
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	require.NoError(t, cmd.Start())
	tty.Close()

	chunks := make(chan []byte)
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 4096)
			n, err := ptmx.Read(buf)
			if n > 0 {
				chunks <- buf[:n]
			}
			if err != nil { // EIO once the child side is gone
				return
			}
		}
	}()

	var r ptyRun
	deadline := time.After(120 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	last := time.Now()
loop:
	for {
		select {
		case c, ok := <-chunks:
			if !ok {
				break loop
			}
			last = time.Now()
			r.output = append(r.output, c...)
			for _, a := range m.Feed(c) {
				r.answers++
				_, err := ptmx.Write(a)
				require.NoError(t, err)
			}
		case <-tick.C:
			if p := m.Pending(); p != "" && r.pending == "" && time.Since(last) > quiet {
				r.pending = p
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		case <-deadline:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			t.Fatalf("ansible did not finish in time; output:\n%s", r.output)
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.exitCode = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return r
}

func TestAnsibleAskVaultPass(t *testing.T) {
	requireAnsible(t)
	const vaultPass = "Vault-Pa55-4-arunner-test"
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "tmp"), 0o700))

	// Encrypt with a password file that exists only for this step.
	passFile := filepath.Join(dir, "vault-pass")
	require.NoError(t, os.WriteFile(passFile, []byte(vaultPass+"\n"), 0o600))
	enc := exec.Command("ansible-vault", "encrypt_string", "--vault-password-file", passFile,
		"--name", "vaulted", "the-vaulted-value")
	enc.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	vars, err := enc.Output()
	require.NoError(t, err)
	require.Contains(t, string(vars), "$ANSIBLE_VAULT")
	require.NoError(t, os.Remove(passFile))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "vars.yml"), vars, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "play.yml"), []byte(`
- hosts: localhost
  gather_facts: false
  vars_files: [vars.yml]
  tasks:
    - assert:
        that: vaulted == 'the-vaulted-value'
`), 0o600))

	rules, err := Compile([]Pair{{Pattern: `^Vault password:\s*?$`, Response: vaultPass}})
	require.NoError(t, err)
	m := NewMatcher(rules)
	r := runUnderPty(t, dir, m, 10*time.Second,
		"ansible-playbook", "--ask-vault-pass", "-i", "localhost,", "-c", "local", "play.yml")

	out := string(r.output)
	require.Equal(t, 0, r.exitCode, "output:\n%s", out)
	assert.Equal(t, 1, r.answers, "answered exactly once")
	assert.Contains(t, out, "Vault password")
	assert.Regexp(t, `ok=1\s`, out)
	assert.NotContains(t, out, vaultPass, "the answer must not be echoed")
	assert.Empty(t, r.pending)
}

func TestAnsibleVarsPromptIsPending(t *testing.T) {
	requireAnsible(t)
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "tmp"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "play.yml"), []byte(`
- hosts: localhost
  gather_facts: false
  vars_prompt:
    - name: secret
      prompt: Enter the secret
      private: true
  tasks:
    - debug: msg=unreachable
`), 0o600))

	m := NewMatcher(nil) // nobody can answer
	r := runUnderPty(t, dir, m, time.Second,
		"ansible-playbook", "-i", "localhost,", "-c", "local", "play.yml")
	assert.Equal(t, "Enter the secret:", r.pending, "output:\n%s", r.output)
	assert.NotEqual(t, 0, r.exitCode, "killed, not finished")
	assert.False(t, bytes.Contains(r.output, []byte("unreachable")))
	assert.True(t, strings.Contains(string(r.output), "Enter the secret"))
}
