package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/arunner/arunner/credentials"
)

// The objects a user creates through the API, each kept as its JSON document.

// Credential is one of the AWX credential kinds arunner has; Inputs are its
// fields by AWX's names (username, ssh_key_data, vault_password, ...).
// Secrets are stored and never returned.
type Credential struct {
	Name   string         `json:"name"`
	Kind   string         `json:"kind"`
	Inputs map[string]any `json:"inputs"`
}

// Inventory is synced from its source by an inventory update: Source is an
// inventory in INI or YAML, or SourcePath a file of a project's checkout.
type Inventory struct {
	Name       string `json:"name"`
	Source     string `json:"source,omitempty"`
	ProjectID  int64  `json:"project_id,omitempty"`
	SourcePath string `json:"source_path,omitempty"`
}

// Project is a git repository, checked out by a project update.
type Project struct {
	Name         string `json:"name"`
	SCMURL       string `json:"scm_url"`
	SCMBranch    string `json:"scm_branch,omitempty"`
	CredentialID int64  `json:"credential_id,omitempty"`
	Revision     string `json:"scm_revision,omitempty"` // set by the last project update
}

// Template is a job template.
type Template struct {
	Name          string         `json:"name"`
	ProjectID     int64          `json:"project_id"`
	Playbook      string         `json:"playbook"`
	InventoryID   int64          `json:"inventory_id"`
	CredentialIDs []int64        `json:"credential_ids,omitempty"`
	ExtraVars     map[string]any `json:"extra_vars,omitempty"`
	Limit         string         `json:"limit,omitempty"`
	Forks         int            `json:"forks,omitempty"`
	Verbosity     int            `json:"verbosity,omitempty"`
	Timeout       int            `json:"timeout,omitempty"` // seconds
	FactCache     bool           `json:"use_fact_cache,omitempty"`
}

// credentialKinds maps AWX's kind names to arunner's credential types.
var credentialKinds = map[string]reflect.Type{}

func init() {
	for _, c := range []credentials.Credential{
		credentials.Machine{}, credentials.SCM{}, credentials.Vault{}, credentials.Net{},
		credentials.AWS{}, credentials.GCE{}, credentials.AzureRM{}, credentials.OpenStack{},
		credentials.VMware{}, credentials.Satellite{}, credentials.RHV{}, credentials.Controller{},
		credentials.Insights{}, credentials.Kubernetes{}, credentials.Terraform{},
	} {
		credentialKinds[c.Kind()] = reflect.TypeOf(c)
	}
}

// field finds the struct field an AWX input name (snake_case) stands for.
func field(t reflect.Type, input string) (reflect.StructField, bool) {
	want := strings.ReplaceAll(input, "_", "")
	return t.FieldByNameFunc(func(name string) bool { return strings.EqualFold(name, want) })
}

// Build turns the stored credential into arunner's typed one; an unknown
// kind or input is an error that names it.
func (c Credential) Build() (credentials.Credential, error) {
	t, ok := credentialKinds[c.Kind]
	if !ok {
		return nil, fmt.Errorf("credential %q: unknown kind %q", c.Name, c.Kind)
	}
	fields := map[string]any{}
	for k, v := range c.Inputs {
		f, ok := field(t, k)
		if !ok {
			return nil, fmt.Errorf("credential %q: kind %s has no input %q", c.Name, c.Kind, k)
		}
		fields[f.Name] = v
	}
	b, _ := json.Marshal(fields)
	v := reflect.New(t)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		// The error names the field, never its value.
		return nil, fmt.Errorf("credential %q: %w", c.Name, err)
	}
	return v.Elem().Interface().(credentials.Credential), nil
}

// Public is the credential as the API shows it: each secret input replaced
// by "$encrypted$", as AWX does.
func (c Credential) Public() Credential {
	out := Credential{Name: c.Name, Kind: c.Kind, Inputs: map[string]any{}}
	t := credentialKinds[c.Kind]
	for k, v := range c.Inputs {
		if t == nil {
			v = "$encrypted$"
		} else if f, ok := field(t, k); !ok || f.Tag.Get("secret") == "true" {
			v = "$encrypted$"
		}
		out.Inputs[k] = v
	}
	return out
}

// sealedPrefix marks a secret input encrypted at rest, as AWX's
// "$encrypted$AESGCM$..." does.
const sealedPrefix = "$encrypted$AESGCM$"

// secretBox encrypts credentials' secret inputs for the database with a key
// of its own (AES-256-GCM), kept in the data dir, 0600: the database alone
// does not give the secrets away.
type secretBox struct{ aead cipher.AEAD }

// openSecretBox reads dataDir/secret_key, or creates it.
func openSecretBox(dataDir string) (*secretBox, error) {
	path := filepath.Join(dataDir, "secret_key")
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, err
		}
		err = os.WriteFile(path, key, 0o600)
	}
	if err != nil {
		return nil, err
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("%s: want a 32-byte key, found %d bytes", path, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &secretBox{aead}, nil
}

// Seal encrypts c's secret inputs in place.
func (b *secretBox) Seal(c *Credential) error {
	t := credentialKinds[c.Kind]
	for k, v := range c.Inputs {
		if f, ok := field(t, k); !ok || f.Tag.Get("secret") != "true" {
			continue
		}
		plain, err := json.Marshal(v)
		if err != nil {
			return err
		}
		nonce := make([]byte, b.aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return err
		}
		c.Inputs[k] = sealedPrefix + base64.StdEncoding.EncodeToString(b.aead.Seal(nonce, nonce, plain, []byte(k)))
	}
	return nil
}

// Open decrypts what Seal encrypted, in place.
func (b *secretBox) Open(c *Credential) error {
	for k, v := range c.Inputs {
		s, ok := v.(string)
		if !ok || !strings.HasPrefix(s, sealedPrefix) {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, sealedPrefix))
		n := b.aead.NonceSize()
		if err != nil || len(raw) < n {
			return fmt.Errorf("credential %q: input %q is not a sealed secret", c.Name, k)
		}
		plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(k))
		if err != nil {
			return fmt.Errorf("credential %q: input %q does not open with this data dir's secret_key", c.Name, k)
		}
		var val any
		if err := json.Unmarshal(plain, &val); err != nil {
			return err
		}
		c.Inputs[k] = val
	}
	return nil
}
