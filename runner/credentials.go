package runner

import (
	"os"
	"path/filepath"
	"regexp"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/credentials/sshagent"
	"github.com/arunner/arunner/privdata"
)

// SSHKey is a private key served to ansible through the run's in-process
// ssh-agent; it never touches disk.
type SSHKey struct {
	PEM        []byte
	Passphrase []byte
	Comment    string
}

// maxSocketPath keeps the agent's socket path within the kernel's limit for
// unix socket addresses (108 bytes with the NUL).
const maxSocketPath = 100

// injectCredentials turns Config.Credentials into files (written 0600 under
// the run's private dir, removed with it), flags, prompts, env and keys, and
// registers every secret for redaction.
func (r *run) injectCredentials() (*credentials.Injection, error) {
	if len(r.cfg.Credentials) == 0 {
		return &credentials.Injection{}, nil
	}
	dir := filepath.Join(r.runtime, "credentials")
	inj, err := credentials.Inject(dir, r.cfg.Credentials...)
	if err != nil {
		return nil, &ConfigError{Field: "Credentials", Err: err}
	}
	for _, s := range inj.Secrets {
		r.addSecret(s)
	}
	if len(inj.Files) > 0 {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, &ConfigError{Field: "Credentials", Err: err}
		}
	}
	for _, path := range sortedKeys(inj.Files) {
		f := inj.Files[path]
		mode := f.Mode.Perm()
		if mode == 0 || mode&0o077 != 0 {
			mode = 0o600
		}
		if err := os.WriteFile(path, f.Content, mode); err != nil {
			return nil, &ConfigError{Field: "Credentials", Err: err}
		}
	}
	fl := &r.cfg.Flags
	cf := inj.Flags
	if fl.User == "" {
		fl.User = cf.User
	}
	if cf.BecomeMethod != "" || cf.BecomeUser != "" {
		fl.Become = true
	}
	if fl.BecomeMethod == "" {
		fl.BecomeMethod = cf.BecomeMethod
	}
	if fl.BecomeUser == "" {
		fl.BecomeUser = cf.BecomeUser
	}
	fl.AskPass = fl.AskPass || cf.AskPass
	fl.AskBecomePass = fl.AskBecomePass || cf.AskBecomePass
	fl.AskVaultPass = fl.AskVaultPass || cf.AskVaultPass
	for _, id := range cf.VaultIDs {
		// cmdbuild adds "@prompt" itself.
		fl.VaultIDs = append(fl.VaultIDs, trimPrompt(id))
	}
	return inj, nil
}

func trimPrompt(id string) string {
	const suffix = "@prompt"
	if len(id) > len(suffix) && id[len(id)-len(suffix):] == suffix {
		return id[:len(id)-len(suffix)]
	}
	return id
}

// startAgent serves env/ssh_key, Config.SSHKeys and the credentials' keys
// from an in-process ssh-agent and points SSH_AUTH_SOCK at it. Its socket
// lives in the run's private dir unless that path is too long for a unix
// socket, in which case a private temp dir is used.
func (r *run) startAgent(d *privdata.Dir, credKeys []credentials.SSHKey, env map[string]string) error {
	var keys []sshagent.Key
	if len(d.SSHKey) > 0 {
		keys = append(keys, sshagent.Key{
			PEM:        d.SSHKey,
			Passphrase: r.passphraseFor(filepath.Join(r.pdd, "env", "ssh_key")),
			Comment:    "env/ssh_key",
		})
	}
	for _, k := range r.cfg.SSHKeys {
		keys = append(keys, sshagent.Key{PEM: k.PEM, Passphrase: k.Passphrase, Comment: k.Comment})
	}
	for _, k := range credKeys {
		keys = append(keys, sshagent.Key{PEM: k.PEM, Passphrase: k.Passphrase, Comment: k.Kind + " credential"})
	}
	if len(keys) == 0 {
		return nil
	}
	for _, k := range keys {
		r.addSecret(string(k.Passphrase))
	}
	dir := filepath.Join(r.runtime, "agent")
	if len(dir)+len(sshagent.SocketName)+1 > maxSocketPath {
		tmp, err := os.MkdirTemp("", "arunner-agent-")
		if err != nil {
			return &ConfigError{Field: "SSHKeys", Err: err}
		}
		r.cleanup = append(r.cleanup, func() { os.RemoveAll(tmp) })
		dir = filepath.Join(tmp, "agent")
	}
	agent, err := sshagent.Start(dir, keys...)
	if err != nil {
		return &ConfigError{Field: "SSHKeys", Err: err}
	}
	r.cleanup = append(r.cleanup, func() { agent.Close() })
	env["SSH_AUTH_SOCK"] = agent.Socket()
	return nil
}

// passphraseFor finds the passphrase of env/ssh_key the way ansible-runner
// users supply it: as the env/passwords answer to ssh-add's prompt.
func (r *run) passphraseFor(path string) []byte {
	prompt := "Enter passphrase for " + path + ": "
	for _, p := range r.passwds {
		if re, err := regexp.Compile("(?m)" + p.Pattern); err == nil && re.MatchString(prompt) {
			return []byte(p.Response)
		}
	}
	return nil
}
