package credentials

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

const testDir = "/pdd/env"

// stableNames makes file names deterministic for the duration of a test.
func stableNames(t *testing.T) {
	t.Helper()
	orig := newFileName
	n := 0
	newFileName = func() string { n++; return fmt.Sprintf("tmp%04d", n) }
	t.Cleanup(func() { newFileName = orig })
}

func readKey(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

// record is an Injection as plain JSON-friendly data.
type record struct {
	Env       map[string]string     `json:"env"`
	ExtraVars map[string]any        `json:"extra_vars,omitempty"`
	Files     map[string]fileRecord `json:"files,omitempty"`
	Flags     Flags                 `json:"flags"`
	Prompts   []Prompt              `json:"prompts,omitempty"`
	SSHKeys   []sshKeyRecord        `json:"ssh_keys,omitempty"`
	Secrets   []string              `json:"secrets,omitempty"`
}

type fileRecord struct {
	Mode    string `json:"mode"`
	Content string `json:"content"`
}

type sshKeyRecord struct {
	Kind       string `json:"kind"`
	FirstLine  string `json:"pem_first_line"`
	Passphrase string `json:"passphrase"`
}

func toRecord(in *Injection) record {
	r := record{Env: in.Env, ExtraVars: in.ExtraVars, Flags: in.Flags, Prompts: in.Prompts, Secrets: in.Secrets, Files: map[string]fileRecord{}}
	for p, f := range in.Files {
		r.Files[p] = fileRecord{Mode: fmt.Sprintf("%04o", f.Mode), Content: string(f.Content)}
	}
	for _, k := range in.SSHKeys {
		first, _, _ := strings.Cut(string(k.PEM), "\n")
		r.SSHKeys = append(r.SSHKeys, sshKeyRecord{Kind: k.Kind, FirstLine: first, Passphrase: string(k.Passphrase)})
	}
	return r
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), string(got))
}

func TestGoldenBuiltinKinds(t *testing.T) {
	plainKey, lockedKey := readKey(t, "id_plain"), readKey(t, "id_locked")
	cases := []struct {
		name    string
		creds   []Credential
		secrets []string // every secret input, which must all be listed and then hidden
	}{
		{"machine", []Credential{Machine{Username: "deploy", Password: "ssh-pw-1", SSHKeyData: lockedKey, SSHKeyUnlock: "unlock-phrase-7",
			BecomeMethod: "sudo", BecomeUsername: "root", BecomePassword: "become-pw-2"}}, []string{"ssh-pw-1", "unlock-phrase-7", "become-pw-2", lockedKey}},
		{"machine_key_only", []Credential{Machine{Username: "deploy", SSHKeyData: strings.TrimSuffix(plainKey, "\n")}}, []string{strings.TrimSuffix(plainKey, "\n")}},
		{"vault", []Credential{Vault{VaultPassword: "vault-pw-0"}, Vault{VaultPassword: "vault-pw-dev", VaultID: "dev"}, Vault{VaultPassword: "vault-pw-prod", VaultID: "prod"}},
			[]string{"vault-pw-0", "vault-pw-dev", "vault-pw-prod"}},
		{"scm", []Credential{SCM{Username: "gitbot", Password: "scm-pw-3", SSHKeyData: plainKey, AcceptHostKey: true}}, []string{"scm-pw-3", plainKey}},
		{"net", []Credential{Net{Username: "netop", Password: "net-pw-4", SSHKeyData: lockedKey, SSHKeyUnlock: "unlock-phrase-7", Authorize: true, AuthorizePassword: "enable-pw-5"}},
			[]string{"net-pw-4", "unlock-phrase-7", "enable-pw-5", lockedKey}},
		{"net_plain", []Credential{Net{Username: "netop"}}, nil},
		{"aws", []Credential{AWS{Username: "AKIAEXAMPLE", Password: "aws-secret-6", SecurityToken: "aws-token-7"}}, []string{"aws-secret-6", "aws-token-7"}},
		{"gce", []Credential{GCE{Username: "sa@proj.iam.gserviceaccount.com", Project: "proj", SSHKeyData: "-----BEGIN PRIVATE KEY-----\ngce-key-8\n-----END PRIVATE KEY-----\n"}},
			[]string{"-----BEGIN PRIVATE KEY-----\ngce-key-8\n-----END PRIVATE KEY-----\n"}},
		{"azure_rm_principal", []Credential{AzureRM{Subscription: "sub-1", Client: "client-1", Secret: "azure-secret-9", Tenant: "tenant-1", CloudEnvironment: "AzureCloud"}}, []string{"azure-secret-9"}},
		{"azure_rm_user", []Credential{AzureRM{Subscription: "sub-1", Username: "alice@example.com", Password: "azure-pw-10"}}, []string{"azure-pw-10"}},
		{"openstack", []Credential{OpenStack{Username: "os-user", Password: "os-pw-11", Host: "https://keystone.example.com:5000/v3", Project: "demo",
			ProjectDomainName: "Default", Domain: "Default", Region: "RegionOne"}}, []string{"os-pw-11"}},
		{"openstack_noverify", []Credential{OpenStack{Username: "os-user", Password: "os-pw-11", Host: "https://keystone.example.com:5000/v3", Project: "demo", SkipVerifySSL: true}}, []string{"os-pw-11"}},
		{"vmware", []Credential{VMware{Host: "vcenter.example.com", Username: "vc-user", Password: "vc-pw-12"}}, []string{"vc-pw-12"}},
		{"satellite6", []Credential{Satellite{Host: "https://sat.example.com", Username: "sat-user", Password: "sat-pw-13"}}, []string{"sat-pw-13"}},
		{"rhv", []Credential{RHV{Host: "https://rhv.example.com/ovirt-engine/api", Username: "admin@internal", Password: "rhv-pw-14", CAFile: "/etc/pki/ovirt.pem"}}, []string{"rhv-pw-14"}},
		{"rhv_no_ca", []Credential{RHV{Host: "https://rhv.example.com/ovirt-engine/api", Username: "admin@internal", Password: "rhv-pw-14"}}, []string{"rhv-pw-14"}},
		{"controller", []Credential{Controller{Host: "https://awx.example.com", Username: "admin", Password: "ctl-pw-15", OAuthToken: "ctl-token-16", VerifySSL: true}}, []string{"ctl-pw-15", "ctl-token-16"}},
		{"insights", []Credential{Insights{Username: "insights-user", Password: "ins-pw-17"}}, []string{"ins-pw-17"}},
		{"kubernetes", []Credential{Kubernetes{Host: "https://k8s.example.com:6443", BearerToken: "k8s-token-18", SSLCACert: "-----BEGIN CERTIFICATE-----\nca-19\n-----END CERTIFICATE-----\n"}},
			[]string{"k8s-token-18", "-----BEGIN CERTIFICATE-----\nca-19\n-----END CERTIFICATE-----\n"}},
		{"kubernetes_noverify", []Credential{Kubernetes{Host: "https://k8s.example.com:6443", BearerToken: "k8s-token-18", SkipVerifySSL: true, SSLCACert: "ignored-ca-20"}},
			[]string{"k8s-token-18"}},
		{"terraform", []Credential{Terraform{Configuration: "bucket = \"tf-state-21\"\n", GCECredentials: `{"type": "service_account", "private_key": "tf-gce-22"}`}},
			[]string{"bucket = \"tf-state-21\"\n", `{"type": "service_account", "private_key": "tf-gce-22"}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stableNames(t)
			in, err := Inject(testDir, tc.creds...)
			require.NoError(t, err)
			for _, s := range tc.secrets {
				assert.Contains(t, in.Secrets, s, "secret input not registered")
			}
			for p, f := range in.Files {
				assert.Equal(t, testDir, filepath.Dir(p), "file outside dir")
				assert.NotZero(t, f.Mode)
				assert.Zero(t, f.Mode&0o077, "file readable by others: %s", p)
			}
			for _, p := range in.Prompts {
				_, err := regexp.Compile(p.Pattern)
				assert.NoError(t, err, p.Pattern)
			}
			recorded := in.Redacted()
			recJSON, err := json.MarshalIndent(toRecord(recorded), "", "  ")
			require.NoError(t, err)
			for _, s := range append(tc.secrets, in.Secrets...) {
				assert.NotContains(t, string(recJSON), s, "secret in recorded injection")
				for _, line := range strings.Split(s, "\n") {
					if len(line) > 12 && !strings.HasPrefix(line, "-----") {
						assert.NotContains(t, string(recJSON), line, "secret line in recorded injection")
					}
				}
			}
			full, err := json.MarshalIndent(map[string]any{"injection": toRecord(in), "recorded": toRecord(recorded)}, "", "  ")
			require.NoError(t, err)
			checkGolden(t, tc.name, append(full, '\n'))
		})
	}
}

// TestPromptsAnswer checks the prompt table against the texts ansible, ssh,
// sudo and git really print.
func TestPromptsAnswer(t *testing.T) {
	in, err := Inject(testDir,
		Machine{Password: "ssh-pw", BecomePassword: "become-pw", SSHKeyData: readKey(t, "id_locked"), SSHKeyUnlock: "unlock-phrase-7"},
		Vault{VaultPassword: "v-default"}, Vault{VaultPassword: "v-dev", VaultID: "dev"})
	require.NoError(t, err)
	scm, err := Inject(testDir, SCM{Username: "gitbot", Password: "scm-pw", AcceptHostKey: true})
	require.NoError(t, err)
	answer := func(prompts []Prompt, text string) (string, bool) {
		for _, p := range prompts {
			if regexp.MustCompile(p.Pattern).MatchString(text) {
				return p.Response, true
			}
		}
		return "", false
	}
	tests := []struct {
		prompts []Prompt
		text    string
		want    string
	}{
		{in.Prompts, "SSH password: ", "ssh-pw"},
		{in.Prompts, "BECOME password[defaults to SSH password]: ", "become-pw"},
		{in.Prompts, "SUDO password: ", "become-pw"},
		{in.Prompts, "doas password: ", "become-pw"},
		{in.Prompts, "Vault password: ", "v-default"},
		{in.Prompts, "Vault password (dev): ", "v-dev"},
		{in.Prompts, "Enter passphrase for /root/.ssh/id_ed25519: ", "unlock-phrase-7"},
		{scm.Prompts, "Username for 'https://git.example.com': ", "gitbot"},
		{scm.Prompts, "Password for 'https://gitbot@git.example.com': ", "scm-pw"},
		{scm.Prompts, "git@git.example.com's password: ", "scm-pw"},
		{scm.Prompts, "Are you sure you want to continue connecting (yes/no/[fingerprint])? ", "yes"},
	}
	for _, tc := range tests {
		got, ok := answer(tc.prompts, tc.text)
		assert.True(t, ok, "no prompt matches %q", tc.text)
		assert.Equal(t, tc.want, got, tc.text)
	}
	// Prompts without an answer are left to the prompt timeout.
	_, ok := answer(in.Prompts, "Enter a value for my_var: ")
	assert.False(t, ok)
	_, ok = answer(in.Prompts, "Vault password (prod): ")
	assert.False(t, ok)
}

func TestInjectErrors(t *testing.T) {
	plainKey := readKey(t, "id_plain")
	tests := []struct {
		name  string
		dir   string
		creds []Credential
		is    error
		field string
	}{
		{"relative dir", "env", nil, ErrInvalid, "dir"},
		{"nil credential", testDir, []Credential{nil}, ErrInvalid, "creds[0]"},
		{"nil pointer credential", testDir, []Credential{Vault{VaultPassword: "v-secret"}, (*Machine)(nil)}, ErrInvalid, "creds[1]: invalid: nil *credentials.Machine"},
		{"two machines", testDir, []Credential{Machine{}, Machine{}}, ErrDuplicate, "ssh"},
		{"vault without password", testDir, []Credential{Vault{VaultID: "x"}}, ErrRequired, "vault_password"},
		{"two default vaults", testDir, []Credential{Vault{VaultPassword: "a-secret"}, Vault{VaultPassword: "b-secret"}}, ErrDuplicate, "vault_id"},
		{"two vaults one id", testDir, []Credential{Vault{VaultPassword: "a-secret", VaultID: "p"}, Vault{VaultPassword: "b-secret", VaultID: "p"}}, ErrDuplicate, "vault_id"},
		{"bad vault id", testDir, []Credential{Vault{VaultPassword: "a-secret", VaultID: "a@b"}}, ErrInvalid, "vault_id"},
		{"templated user", testDir, []Credential{Machine{Username: "{{ lookup('pipe','id') }}"}}, ErrInvalid, "username"},
		{"templated become user", testDir, []Credential{Machine{BecomeUsername: "{% raw %}"}}, ErrInvalid, "become_username"},
		{"garbage key", testDir, []Credential{Machine{SSHKeyData: "not-a-key-secret"}}, ErrInvalid, "ssh_key_data"},
		{"locked key no phrase", testDir, []Credential{Machine{SSHKeyData: readKey(t, "id_locked")}}, ErrRequired, "ssh_key_unlock"},
		{"locked key wrong phrase", testDir, []Credential{SCM{SSHKeyData: readKey(t, "id_locked"), SSHKeyUnlock: "wrong-phrase-secret"}}, ErrInvalid, "ssh_key_unlock"},
		{"plain key with phrase", testDir, []Credential{Machine{SSHKeyData: plainKey, SSHKeyUnlock: "unlock-phrase-7"}}, ErrInvalid, "ssh_key_unlock"},
		{"net without user", testDir, []Credential{Net{Password: "net-secret"}}, ErrRequired, "username"},
		{"azure without subscription", testDir, []Credential{AzureRM{Password: "az-secret"}}, ErrRequired, "subscription"},
		{"k8s without token", testDir, []Credential{Kubernetes{Host: "h"}}, ErrRequired, "bearer_token"},
		{"terraform without config", testDir, []Credential{Terraform{}}, ErrRequired, "configuration"},
		{"rhv without password", testDir, []Credential{RHV{Host: "h", Username: "u"}}, ErrRequired, "password"},
		{"controller without host", testDir, []Credential{Controller{Password: "ctl-secret"}}, ErrRequired, "host"},
		{"env conflict", testDir, []Credential{Controller{Host: "https://a", Password: "ctl-secret"},
			Custom{Type: mustType(t, `fields: [{id: h, type: string}]`, `env: {TOWER_HOST: "{{h}}"}`), Inputs: map[string]any{"h": "https://b"}}}, ErrDuplicate, "TOWER_HOST"},
		{"ok key is fine", testDir, []Credential{Machine{SSHKeyData: plainKey}}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inject(tc.dir, tc.creds...)
			if tc.is == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			var fe *FieldError
			require.True(t, errors.As(err, &fe))
			assert.Contains(t, err.Error(), tc.field)
			assertNoSecretIn(t, err.Error())
		})
	}
}

// errorSecrets are the secret values used by the error tests.
var errorSecrets = []string{"a-secret", "b-secret", "not-a-key-secret", "wrong-phrase-secret", "net-secret", "az-secret", "ctl-secret", "unlock-phrase-7", "PRIVATE KEY", "lookup("}

// assertNoSecretIn checks that no test secret leaked into s.
func assertNoSecretIn(t *testing.T, s string) {
	t.Helper()
	for _, bad := range errorSecrets {
		assert.NotContains(t, s, bad)
	}
}

func mustType(t *testing.T, inputs, injectors string) *CredentialType {
	t.Helper()
	ct, err := ParseCredentialType([]byte(inputs), []byte(injectors))
	require.NoError(t, err)
	return ct
}

func TestSecretsSortedLongestFirst(t *testing.T) {
	in, err := Inject(testDir, AWS{Username: "id", Password: "ab", SecurityToken: "abcd"}, Vault{VaultPassword: "abc"})
	require.NoError(t, err)
	assert.Equal(t, []string{"abcd", "abc", "ab"}, in.Secrets)
	assert.True(t, sort.SliceIsSorted(in.Secrets, func(i, j int) bool { return len(in.Secrets[i]) > len(in.Secrets[j]) }))
}

func TestFileNamesRandomAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		in, err := Inject(testDir, Terraform{Configuration: "c", GCECredentials: "g"})
		require.NoError(t, err)
		require.Len(t, in.Files, 2)
		for p := range in.Files {
			assert.Regexp(t, `^/pdd/env/tmp[a-z0-9_]{8}$`, p)
			assert.False(t, seen[p], "name reused: %s", p)
			seen[p] = true
		}
	}
}
