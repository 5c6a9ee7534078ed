package credentials

import (
	"crypto"
	"crypto/x509"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

const (
	kindMachine = "ssh"
	kindVault   = "vault"
	kindSCM     = "scm"
	kindNet     = "net"
)

// becomeMethods are the escalation methods AWX lists prompts for. The prompt
// text depends on the method actually used, which inventory can change, so
// all of them are answered whenever a become password is known.
var becomeMethods = []string{"sudo", "su", "pbrun", "pfexec", "dzdo", "pmrun", "runas", "enable", "doas", "ksu", "machinectl", "sesu"}

// Prompt patterns, translated from AWX's pexpect table.
const (
	promptKeyUnlock  = `Enter passphrase for .*:\s*?$`
	promptSSHPass    = `SSH password:\s*?$`
	promptPassword   = `Password:\s*?$`
	promptBecome     = `BECOME password.*:\s*?$`
	promptVault      = `Vault password:\s*?$`
	promptSCMUser    = `Username for.*:\s*?$`
	promptSCMPass    = `Password for.*:\s*?$`
	promptSCMUserAt  = `\S+?@\S+?'s\s+?password:\s*?$`
	promptAcceptHost = `Are you sure you want to continue connecting \(yes/no(/\[fingerprint\])?\)\?\s*?$`
)

// Machine is AWX's "Machine" credential (namespace ssh): how to log in to the
// managed hosts and escalate privileges there.
type Machine struct {
	Username       string // -u
	Password       string `secret:"true"` // answered at "SSH password:" (--ask-pass)
	SSHKeyData     string `secret:"true"` // private key, handed to the ssh-agent
	SSHKeyUnlock   string `secret:"true"` // passphrase of SSHKeyData; also typed for other key files (see Inject)
	BecomeMethod   string // --become-method
	BecomeUsername string // --become-user
	BecomePassword string `secret:"true"` // answered at "<METHOD> password:" (--ask-become-pass)
}

// Kind returns "ssh".
func (Machine) Kind() string { return kindMachine }

func (m Machine) inject(b *builder) error {
	for _, f := range []struct{ name, v string }{
		{"username", m.Username}, {"become_method", m.BecomeMethod}, {"become_username", m.BecomeUsername},
	} {
		if err := noTemplate(kindMachine, f.name, f.v); err != nil {
			return err
		}
	}
	b.secret(m.Password, m.SSHKeyData, m.SSHKeyUnlock, m.BecomePassword)
	b.in.Flags.User = m.Username
	b.in.Flags.BecomeMethod = m.BecomeMethod
	b.in.Flags.BecomeUser = m.BecomeUsername
	if m.SSHKeyData != "" {
		pem, key, err := checkKey(kindMachine, m.SSHKeyData, m.SSHKeyUnlock)
		if err != nil {
			return err
		}
		b.in.SSHKeys = append(b.in.SSHKeys, SSHKey{Kind: kindMachine, PEM: pem, Passphrase: []byte(m.SSHKeyUnlock), PrivateKey: key})
	}
	// The agent already holds the decrypted key; the passphrase answers ssh
	// if a key file from inventory asks for it, as AWX does.
	b.keyUnlock[kindMachine] = m.SSHKeyUnlock
	if m.BecomePassword != "" {
		b.in.Flags.AskBecomePass = true
		for _, meth := range becomeMethods {
			b.prompt(meth+` password.*:\s*?$`, m.BecomePassword)
			b.prompt(strings.ToUpper(meth)+` password.*:\s*?$`, m.BecomePassword)
		}
		b.prompt(promptBecome, m.BecomePassword)
	}
	if m.Password != "" {
		b.in.Flags.AskPass = true
		b.prompt(promptSSHPass, m.Password)
		b.prompt(promptPassword, m.Password)
	}
	return nil
}

// checkKey parses a private key so that a bad key fails before the run,
// with an error that names the field but not the key. It returns the key
// with a trailing newline, which OpenSSH requires, and the decoded key.
func checkKey(kind, data, passphrase string) ([]byte, crypto.PrivateKey, error) {
	var key crypto.PrivateKey
	var err error
	if passphrase != "" {
		key, err = ssh.ParseRawPrivateKeyWithPassphrase([]byte(data), []byte(passphrase))
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, nil, fieldErr(kind, "ssh_key_unlock", ErrInvalid, "passphrase does not decrypt ssh_key_data")
		}
		if err != nil {
			if _, plainErr := ssh.ParseRawPrivateKey([]byte(data)); plainErr == nil {
				// As AWX: an unlock for a key that needs none is a mistake.
				return nil, nil, fieldErr(kind, "ssh_key_unlock", ErrInvalid, "set, but ssh_key_data is not encrypted")
			}
		}
	} else {
		key, err = ssh.ParseRawPrivateKey([]byte(data))
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, nil, fieldErr(kind, "ssh_key_unlock", ErrRequired, "ssh_key_data is encrypted")
		}
	}
	if err != nil {
		return nil, nil, fieldErr(kind, "ssh_key_data", ErrInvalid, "not a PEM or OpenSSH private key")
	}
	if !strings.HasSuffix(data, "\n") {
		data += "\n"
	}
	return []byte(data), key, nil
}

// Vault is an ansible-vault password, optionally for one vault id.
type Vault struct {
	VaultPassword string `secret:"true"` // required
	VaultID       string // empty: --ask-vault-pass; else --vault-id <id>@prompt (Flags.VaultIDs)
}

// Kind returns "vault".
func (Vault) Kind() string { return kindVault }

var vaultIDRe = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)

func (v Vault) inject(b *builder) error {
	if v.VaultPassword == "" {
		return fieldErr(kindVault, "vault_password", ErrRequired, "")
	}
	if v.VaultID != "" && !vaultIDRe.MatchString(v.VaultID) {
		return fieldErr(kindVault, "vault_id", ErrInvalid, "only letters, digits, '.', '_' and '-' are allowed")
	}
	if b.vaultIDs[v.VaultID] {
		return fieldErr(kindVault, "vault_id", ErrDuplicate, "two vault credentials with vault id "+quoteOrDefault(v.VaultID))
	}
	b.vaultIDs[v.VaultID] = true
	b.secret(v.VaultPassword)
	if v.VaultID == "" {
		b.in.Flags.AskVaultPass = true
		b.prompt(promptVault, v.VaultPassword)
		return nil
	}
	b.in.Flags.VaultIDs = append(b.in.Flags.VaultIDs, v.VaultID)
	b.prompt(`Vault password \(`+regexp.QuoteMeta(v.VaultID)+`\):\s*?$`, v.VaultPassword)
	return nil
}

func quoteOrDefault(id string) string {
	if id == "" {
		return "(none)"
	}
	return `"` + id + `"`
}

// SCM is a source-control credential, used when a run checks out a project
// with git: the key goes to the ssh-agent, the username and password answer
// git's prompts on the terminal.
type SCM struct {
	Username     string
	Password     string `secret:"true"`
	SSHKeyData   string `secret:"true"`
	SSHKeyUnlock string `secret:"true"`
	// AcceptHostKey answers ssh's unknown-host question with "yes" and sets
	// GIT_SSH_COMMAND to accept new host keys (AWX's scm_accept_hostkey).
	AcceptHostKey bool
}

// Kind returns "scm".
func (SCM) Kind() string { return kindSCM }

func (s SCM) inject(b *builder) error {
	b.secret(s.Password, s.SSHKeyData, s.SSHKeyUnlock)
	if s.SSHKeyData != "" {
		pem, key, err := checkKey(kindSCM, s.SSHKeyData, s.SSHKeyUnlock)
		if err != nil {
			return err
		}
		b.in.SSHKeys = append(b.in.SSHKeys, SSHKey{Kind: kindSCM, PEM: pem, Passphrase: []byte(s.SSHKeyUnlock), PrivateKey: key})
	}
	if s.Username != "" {
		b.prompt(promptSCMUser, s.Username)
	}
	if s.Password != "" {
		b.prompt(promptSCMPass, s.Password)
		b.prompt(promptPassword, s.Password)
		b.prompt(promptSCMUserAt, s.Password)
	}
	b.keyUnlock[kindSCM] = s.SSHKeyUnlock
	if s.AcceptHostKey {
		b.prompt(promptAcceptHost, "yes")
		return b.setEnv(kindSCM, "GIT_SSH_COMMAND", "ssh -o StrictHostKeyChecking=accept-new")
	}
	return nil
}

// Net is AWX's "Network" credential for network_cli/netconf connections,
// passed through ANSIBLE_NET_* variables.
type Net struct {
	Username          string // required
	Password          string `secret:"true"`
	SSHKeyData        string `secret:"true"` // written to a 0600 file named by ANSIBLE_NET_SSH_KEYFILE
	SSHKeyUnlock      string `secret:"true"` // typed at prompts for that file (see Inject)
	Authorize         bool   // enable mode
	AuthorizePassword string `secret:"true"`
}

// Kind returns "net".
func (Net) Kind() string { return kindNet }

func (n Net) inject(b *builder) error {
	if n.Username == "" {
		return fieldErr(kindNet, "username", ErrRequired, "")
	}
	b.secret(n.Password, n.SSHKeyData, n.SSHKeyUnlock, n.AuthorizePassword)
	env := [][2]string{{"ANSIBLE_NET_USERNAME", n.Username}, {"ANSIBLE_NET_PASSWORD", n.Password}}
	if n.SSHKeyData != "" {
		// ssh reads the key from the file and decrypts it itself.
		pem, _, err := checkKey(kindNet, n.SSHKeyData, n.SSHKeyUnlock)
		if err != nil {
			return err
		}
		path := b.addFile(pem, 0o600)
		env = append(env, [2]string{"ANSIBLE_NET_SSH_KEYFILE", path})
		if n.SSHKeyUnlock != "" {
			b.prompt(keyFilePrompt(path), n.SSHKeyUnlock)
		}
	}
	b.keyUnlock[kindNet] = n.SSHKeyUnlock
	if n.Authorize {
		env = append(env, [2]string{"ANSIBLE_NET_AUTHORIZE", "1"}, [2]string{"ANSIBLE_NET_AUTH_PASS", n.AuthorizePassword})
	} else {
		env = append(env, [2]string{"ANSIBLE_NET_AUTHORIZE", "0"})
	}
	for _, e := range env {
		if err := b.setEnv(kindNet, e[0], e[1]); err != nil {
			return err
		}
	}
	return nil
}

// sshShownPath is how many bytes of a key file's path ssh shows in its
// passphrase prompt (sshconnect2.c prints it with %.100s).
const sshShownPath = 100

// keyFilePrompt matches the passphrase prompts for the key file at path and
// no other: ssh's "Enter passphrase for key '<path>': " and ssh-add's
// "Enter passphrase for <path>: ". When ssh cuts a long path, any key file
// whose path starts with the same 100 bytes matches; ssh shows no more.
func keyFilePrompt(path string) string {
	shown := regexp.QuoteMeta(path)
	if len(path) > sshShownPath {
		// The cut may fall inside a character, leaving up to three stray
		// bytes that the pattern, which must be valid UTF-8, cannot spell.
		cut := sshShownPath
		for cut > 0 && !utf8.RuneStart(path[cut]) {
			cut--
		}
		shown = regexp.QuoteMeta(path[:cut])
		if cut < sshShownPath {
			shown += `[^']{1,3}`
		}
	}
	return `Enter passphrase for (?:key '` + shown + `'|` + regexp.QuoteMeta(path) + `(?: \(will confirm each use\))?):\s*?$`
}

// keyUnlockOrder ranks the credential kinds whose key passphrase answers a
// prompt for a key file that no credential wrote; see Inject.
var keyUnlockOrder = []string{kindMachine, kindNet, kindSCM}

// finishKeyUnlock adds the one catch-all key passphrase prompt. It comes
// after every prompt for a known key file, so that those win the tie when
// both match.
func (b *builder) finishKeyUnlock() {
	for _, k := range keyUnlockOrder {
		if p := b.keyUnlock[k]; p != "" {
			b.prompt(promptKeyUnlock, p)
			return
		}
	}
}
