package credentials

import (
	"crypto"
	"crypto/rand"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/arunner/arunner/cmdbuild"
	"github.com/arunner/arunner/prompt"
)

// Credential is one credential a controller hands to a run. The built-in
// kinds (Machine, Vault, SCM, Net, AWS, ...) and Custom implement it; the
// interface is sealed so that every implementation follows the same
// secret-handling rules.
type Credential interface {
	// Kind is the AWX namespace of the credential type ("ssh", "vault",
	// "aws", ...) or "custom:<name>" for a custom type.
	Kind() string
	// Format prints the credential with its secrets hidden, so that a run
	// configuration can be logged with any fmt verb.
	fmt.Formatter
	inject(b *builder) error
}

// File is a file a credential needs on disk while ansible runs.
type File struct {
	Content []byte `secret:"true"`
	// Mode is 0600 for credential material and 0400 for the extra vars
	// file, as AWX writes them.
	Mode fs.FileMode
}

// Flags are the ansible-playbook/ansible options the credentials call for:
// of the Switches, only User, BecomeMethod, BecomeUser, AskPass,
// AskBecomePass, AskVaultPass and VaultIDs (labels; cmdbuild passes each as
// "--vault-id <label>@prompt") are ever set. None of them carries a secret,
// since passwords travel through Prompts.
type Flags struct {
	cmdbuild.Switches
	// ExtraVarsFiles are absolute paths of files in Injection.Files to pass
	// as "-e @<path>", after the caller's own extra vars.
	ExtraVarsFiles []string
}

// Prompt is one terminal prompt and its answer: prompt.Pair, whose Pattern
// is a Go regexp (AWX's pexpect regexes translated) matched against the tail
// of what ansible has written to the terminal, and whose Response is sent
// followed by a newline. Printed or logged, it hides the response.
//
// Unlike AWX, which answers every known prompt (with "" when nobody supplied
// the password), only prompts with a real answer are listed: a prompt nobody
// can answer should end the run with a prompt-timeout error naming it rather
// than feed ansible an empty password.
type Prompt = prompt.Pair

// SSHKey is a private key for the in-process ssh-agent. It is never written
// to disk.
type SSHKey struct {
	Kind       string // credential kind it came from ("ssh" or "scm")
	PEM        []byte `secret:"true"`
	Passphrase []byte `secret:"true"`
	// PrivateKey is PEM as Inject decoded and decrypted it to check the
	// passphrase (a *rsa.PrivateKey, *ecdsa.PrivateKey, *ed25519.PrivateKey,
	// ...), for the agent to serve without running the key's KDF a second
	// time. It is not marshaled to JSON; without it, the agent decodes PEM.
	PrivateKey crypto.PrivateKey `secret:"true" json:"-"`
}

// Injection is everything the credentials add to a run. It is pure data:
// nothing has been written or started yet. The runner writes Files (and
// removes them after the run), merges Env, adds Flags to the command line,
// hands Prompts to the prompt matcher and SSHKeys to the agent, and redacts
// Secrets from everything it records.
type Injection struct {
	Env map[string]string
	// ExtraVars is the content of the extra vars file listed in
	// Flags.ExtraVarsFiles, for inspection; it is already in Files, so do not
	// pass it to ansible a second time.
	ExtraVars map[string]any
	Files     map[string]File // absolute path -> content
	Flags     Flags
	Prompts   []Prompt
	SSHKeys   []SSHKey
	// Secrets lists every secret value that went anywhere above, longest
	// first, without duplicates.
	Secrets []string `secret:"true"`
}

// builder accumulates one Injection while credentials inject themselves.
type builder struct {
	dir      string
	in       *Injection
	envFrom  map[string]string // env name -> kind that set it
	kinds    map[string]bool
	vaultIDs map[string]bool
	secrets  map[string]bool
	// keyUnlock holds each kind's key passphrase until finishKeyUnlock
	// picks the one for unknown key files.
	keyUnlock map[string]string
}

// newFileName returns a name like AWX's mkstemp names (tmpXXXXXXXX); tests
// replace it to get stable golden output.
var newFileName = func() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_"
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		// crypto/rand does not fail on Linux; keep a usable name anyway.
		return "tmpcredfile"
	}
	name := []byte("tmp")
	for _, c := range raw {
		name = append(name, alphabet[int(c)%len(alphabet)])
	}
	return string(name)
}

// Inject computes what creds add to a run whose credential files live in dir
// (normally <private data dir>/env). dir must be absolute; file names inside
// it are random, like AWX's tmpXXXX files, and templates referring to
// tower.filename get those paths.
//
// At most one credential of each kind is allowed, except vault credentials
// with distinct vault ids, as in AWX. Errors name the credential kind and
// field and never contain an input value.
//
// The order of creds does not change which key passphrase is typed. Keys in
// the ssh-agent are already decrypted; the Net key file's passphrase answers
// ssh's and ssh-add's prompts for that file. A prompt for any other key file,
// such as one named by ansible_ssh_private_key_file in inventory, gets the
// Machine passphrase, since that key is the one ssh uses for hosts; without
// one, the Net passphrase, as AWX does; without either, the SCM passphrase.
func Inject(dir string, creds ...Credential) (*Injection, error) {
	if !filepath.IsAbs(dir) {
		return nil, fieldErr("", "dir", ErrInvalid, "must be an absolute path")
	}
	b := &builder{
		dir:       filepath.Clean(dir),
		in:        &Injection{Env: map[string]string{}, ExtraVars: map[string]any{}, Files: map[string]File{}},
		envFrom:   map[string]string{},
		kinds:     map[string]bool{},
		vaultIDs:  map[string]bool{},
		secrets:   map[string]bool{},
		keyUnlock: map[string]string{},
	}
	for i, c := range creds {
		if c == nil {
			return nil, fieldErr("", fmt.Sprintf("creds[%d]", i), ErrInvalid, "nil credential")
		}
		if isNilPointer(c) {
			return nil, fieldErr("", fmt.Sprintf("creds[%d]", i), ErrInvalid, fmt.Sprintf("nil %T", c))
		}
		k := c.Kind()
		if k != kindVault && b.kinds[k] {
			return nil, fieldErr(k, "", ErrDuplicate, "at most one credential of each kind")
		}
		b.kinds[k] = true
		if err := c.inject(b); err != nil {
			return nil, err
		}
	}
	b.finishKeyUnlock()
	if err := b.finishExtraVars(); err != nil {
		return nil, err
	}
	for s := range b.secrets {
		b.in.Secrets = append(b.in.Secrets, s)
	}
	sortSecrets(b.in.Secrets)
	return b.in, nil
}

// isNilPointer reports whether c holds a nil pointer: the built-in kinds
// have value receivers, so a nil *Machine is a Credential too, and calling
// its methods would panic.
func isNilPointer(c Credential) bool {
	v := reflect.ValueOf(c)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// sortSecrets orders longest first so that a secret containing another is
// replaced whole.
func sortSecrets(s []string) {
	sort.Slice(s, func(i, j int) bool {
		if len(s[i]) != len(s[j]) {
			return len(s[i]) > len(s[j])
		}
		return s[i] < s[j]
	})
}

func (b *builder) secret(values ...string) {
	for _, v := range values {
		if v != "" {
			b.secrets[v] = true
		}
	}
}

func (b *builder) setEnv(kind, name, value string) error {
	if prev, ok := b.envFrom[name]; ok && b.in.Env[name] != value {
		return fieldErr(kind, "env."+name, ErrDuplicate, "also set differently by "+prev)
	}
	b.envFrom[name] = kind
	b.in.Env[name] = value
	return nil
}

// addFile allocates a fresh path in dir for content.
func (b *builder) addFile(content []byte, mode fs.FileMode) string {
	for {
		p := filepath.Join(b.dir, newFileName())
		if _, taken := b.in.Files[p]; !taken {
			b.in.Files[p] = File{Content: content, Mode: mode}
			return p
		}
	}
}

func (b *builder) prompt(pattern, response string) {
	b.in.Prompts = append(b.in.Prompts, Prompt{Pattern: pattern, Response: response})
}

func (b *builder) extraVar(kind, key string, value any) error {
	if _, dup := b.in.ExtraVars[key]; dup {
		return fieldErr(kind, "extra_vars."+key, ErrDuplicate, "extra var set by two credentials")
	}
	b.in.ExtraVars[key] = value
	return nil
}

func (b *builder) finishExtraVars() error {
	if len(b.in.ExtraVars) == 0 {
		return nil
	}
	data, err := unsafeYAML(b.in.ExtraVars)
	if err != nil {
		return fieldErr("", "extra_vars", ErrInvalid, err.Error())
	}
	p := b.addFile(data, 0o400)
	b.in.Flags.ExtraVarsFiles = append(b.in.Flags.ExtraVarsFiles, p)
	return nil
}

// noTemplate refuses values that ansible would evaluate as Jinja, as AWX's
// sanitize_jinja does for usernames and become settings that end up in argv.
func noTemplate(kind, field, v string) error {
	if strings.Contains(v, "{{") || strings.Contains(v, "{%") {
		return fieldErr(kind, field, ErrInvalid, "must not contain a Jinja template")
	}
	return nil
}
