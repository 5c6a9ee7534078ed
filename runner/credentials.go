package runner

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/credentials/sshagent"
	"github.com/arunner/arunner/privdata"
)

// SSHKey is a private key served to ansible through the run's in-process
// ssh-agent; it never touches disk. Printed with fmt, it shows only its
// comment.
type SSHKey struct {
	PEM        []byte
	Passphrase []byte
	Comment    string
}

// String describes k without its key or passphrase.
func (k SSHKey) String() string {
	return fmt.Sprintf("runner.SSHKey{Comment: %q, PEM: %d bytes}", k.Comment, len(k.PEM))
}

// Format implements fmt.Formatter: every verb prints String, so that none
// reveals the key or its passphrase.
func (k SSHKey) Format(f fmt.State, verb rune) { io.WriteString(f, k.String()) }

// LogValue implements slog.LogValuer, so that slog's JSONHandler, which
// would write k with encoding/json, logs String instead: the same words as
// every fmt verb and TextHandler, rather than a group that would describe k
// a second way. json.Marshal still writes the key and passphrase.
func (k SSHKey) LogValue() slog.Value { return slog.StringValue(k.String()) }

// controlPathDir is the scratch dir's ssh control path dir.
const controlPathDir = "cp"

// maxSocketPath keeps the agent's socket path within the kernel's limit for
// unix socket addresses (108 bytes with the NUL).
const maxSocketPath = 100

// injectCredentials turns Config.Credentials into files (planned 0600
// under the run's private dir, removed with it; extra vars files as soon as
// ansible has read them), flags, prompts, env and keys, and registers every
// secret for redaction.
func (r *run) injectCredentials() (*credentials.Injection, error) {
	if len(r.cfg.Credentials) == 0 {
		return &credentials.Injection{}, nil
	}
	dir := filepath.Join(r.ansibleDir(), "credentials")
	inj, err := credentials.Inject(dir, r.cfg.Credentials...)
	if err != nil {
		return nil, &ConfigError{Field: "Credentials", Err: err}
	}
	for _, s := range inj.Secrets {
		r.addSecret(s)
	}
	for _, path := range slices.Sorted(maps.Keys(inj.Files)) {
		f := inj.Files[path]
		mode := f.Mode.Perm()
		if mode == 0 || mode&0o077 != 0 {
			mode = 0o600
		}
		// ansible reads extra vars once, at its start.
		readAtStart := slices.Contains(inj.Flags.ExtraVarsFiles, path)
		r.planned = append(r.planned, planFile{
			PlanFile:    PlanFile{Path: path, Mode: mode, What: "credential file"},
			data:        f.Content,
			readAtStart: readAtStart,
		})
	}
	return inj, nil
}

// planAgent plans the in-process ssh-agent that serves env/ssh_key,
// Config.SSHKeys and the credentials' keys, and points SSH_AUTH_SOCK at
// it. Its socket lives in the run's runtime dir unless that path is too
// long for a unix socket, in which case the scratch dir is used.
func (r *run) planAgent(d *privdata.Dir, credKeys []credentials.SSHKey, env map[string]string) error {
	var keys []sshagent.Key
	if len(d.SSHKey) > 0 {
		keys = append(keys, sshagent.Key{
			PEM:        d.SSHKey,
			Passphrase: r.passphraseFor(r.paths().Env("ssh_key")),
			Comment:    "env/ssh_key",
		})
	}
	for _, k := range r.cfg.SSHKeys {
		keys = append(keys, sshagent.Key{PEM: k.PEM, Passphrase: k.Passphrase, Comment: k.Comment})
	}
	for _, k := range credKeys {
		// Inject decrypted the key to check its passphrase; the agent
		// serves that instead of decrypting it again.
		keys = append(keys, sshagent.Key{PEM: k.PEM, Passphrase: k.Passphrase, Comment: k.Kind + " credential", PrivateKey: k.PrivateKey})
	}
	if len(keys) == 0 {
		return nil
	}
	for _, k := range keys {
		r.addSecret(string(k.Passphrase))
	}
	dir := filepath.Join(r.runtime, "agent")
	if len(dir)+len(sshagent.SocketName)+1 > maxSocketPath {
		dir = filepath.Join(r.scratch, "agent")
	}
	r.agentDir, r.agentKeys = dir, keys
	env["SSH_AUTH_SOCK"] = filepath.Join(dir, sshagent.SocketName)
	return nil
}

// startAgent starts the agent planAgent planned.
func (r *run) startAgent() error {
	if r.agentKeys == nil {
		return nil
	}
	agent, err := sshagent.Start(r.agentDir, r.agentKeys...)
	r.agentKeys = nil
	if err != nil {
		return &ConfigError{Field: "SSHKeys", Err: err}
	}
	r.cleanup = append(r.cleanup, func() { agent.Close() })
	return nil
}

// passphraseFor finds the passphrase of env/ssh_key the way ansible-runner
// users supply it: as the answer to ssh-add's prompt, by the prompt rules
// the run already compiled.
func (r *run) passphraseFor(path string) []byte {
	prompt := "Enter passphrase for " + path + ": "
	for _, rule := range r.rules {
		if rule.Pattern.MatchString(prompt) {
			return []byte(rule.Response)
		}
	}
	return nil
}

// isolateControlMasters gives the run its own ssh control path dir, unless
// the caller chose one; apply makes it, and stops the control masters left
// there when the run ends. ssh daemonizes a ControlPersist master out of
// the run's process group, so killing the group misses it: it would outlive
// the run with the run's environment, and hold an authenticated connection
// that a later run without this run's credentials reuses from the shared
// default dir (~/.ansible/cp).
func (r *run) isolateControlMasters(env map[string]string) {
	if _, ok := env["ANSIBLE_SSH_CONTROL_PATH_DIR"]; ok {
		return
	}
	if _, ok := env["ANSIBLE_SSH_CONTROL_PATH"]; ok {
		return
	}
	// In the scratch dir: a short temp path, so that the master's socket
	// name (ansible's 10-character hash plus ssh's 17-character suffix)
	// fits in a unix socket address, without a '%' that ssh would expand,
	// and found by the next run if this one is killed hard.
	r.controlPath = filepath.Join(r.scratch, controlPathDir)
	env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = r.controlPath
}

// stopControlMasters asks every control master listening in dir to exit.
func stopControlMasters(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.Type()&fs.ModeSocket == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// The host argument is required by ssh but unused with -O.
		_ = exec.CommandContext(ctx, "ssh", "-o", "ControlPath="+filepath.Join(dir, e.Name()), "-O", "exit", "control-master").Run()
		cancel()
	}
}
