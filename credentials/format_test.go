package credentials

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// printings returns v printed with every verb a log line might use, as a
// value, through a pointer, inside a slice of its type, inside a
// []Credential (or []any), and inside a struct like runner.Config.
func printings(v any) map[string]string {
	ptr := reflect.New(reflect.TypeOf(v))
	ptr.Elem().Set(reflect.ValueOf(v))
	slice := reflect.MakeSlice(reflect.SliceOf(reflect.TypeOf(v)), 1, 1)
	slice.Index(0).Set(reflect.ValueOf(v))
	var ifaces any = []any{v}
	if c, ok := v.(Credential); ok {
		ifaces = []Credential{c}
	}
	config := struct {
		Name  string
		Creds any
	}{"cfg", ifaces}
	wrapped := map[string]any{
		"value": v, "pointer": ptr.Interface(), "slice": slice.Interface(),
		"interfaces": ifaces, "config": config, "configPointer": &config,
	}
	out := map[string]string{}
	for name, w := range wrapped {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out[name+" "+verb] = fmt.Sprintf(verb, w)
		}
	}
	out["Sprint"] = fmt.Sprint(v)
	out["Sprintln"] = fmt.Sprintln(v)
	return out
}

// leaked returns the first form of secret found in out: the secret, any of
// its lines of 8 bytes or more, or either as Go quotes them.
func leaked(out, secret string) (string, bool) {
	forms := []string{secret}
	for _, l := range strings.Split(secret, "\n") {
		if len(l) >= 8 {
			forms = append(forms, l)
		}
	}
	for _, f := range forms {
		q := strconv.Quote(f)
		for _, s := range []string{f, q[1 : len(q)-1]} {
			if s != "" && strings.Contains(out, s) {
				return s, true
			}
		}
	}
	return "", false
}

// hidingCase is a value holding secrets, with the secrets that no printing
// or log line of it may show and non-secret values that they must show.
type hidingCase struct {
	name    string
	v       any
	secrets []string
	visible []string
}

// hidingCases returns a hidingCase for every type that hides its secrets.
func hidingCases(t *testing.T) []hidingCase {
	t.Helper()
	key := readKey(t, "id_plain")
	custom, err := ParseCredentialType([]byte(`
fields:
  - {id: api_url, type: string}
  - {id: api_token, type: string, secret: true}
  - {id: insecure, type: boolean}
`), []byte(`env: {API_URL: "{{api_url}}", API_TOKEN: "{{api_token}}"}`))
	require.NoError(t, err)
	injection, err := Inject(testDir,
		Machine{Username: "deploy-user", Password: "inj-ssh-pw-31", SSHKeyData: key, BecomePassword: "inj-become-pw-32"},
		Vault{VaultPassword: "inj-vault-pw-33", VaultID: "prod"},
		AWS{Username: "AKIAVISIBLE", Password: "inj-aws-secret-34", SecurityToken: "inj-aws-token-35"},
		GCE{Username: "sa@proj.example.com", Project: "proj", SSHKeyData: "inj-gce-key-36"},
		Insights{Username: "insights-user", Password: "inj-insights-pw-37"},
		Custom{Type: custom, Inputs: map[string]any{"api_url": "https://api.example.com", "api_token": "inj-custom-token-38"}},
	)
	require.NoError(t, err)
	require.NotEmpty(t, injection.SSHKeys)
	require.NotEmpty(t, injection.ExtraVars)
	require.NotEmpty(t, injection.Files)

	return []hidingCase{
		{"Machine", Machine{Username: "deploy-user", Password: "machine-pw-1", SSHKeyData: "machine-key-2", SSHKeyUnlock: "machine-unlock-3",
			BecomeMethod: "sudo", BecomeUsername: "root-user", BecomePassword: "machine-become-4"},
			[]string{"machine-pw-1", "machine-key-2", "machine-unlock-3", "machine-become-4"}, []string{"deploy-user", "sudo", "root-user"}},
		{"Vault", Vault{VaultPassword: "vault-pw-5", VaultID: "prod-id"}, []string{"vault-pw-5"}, []string{"prod-id"}},
		{"SCM", SCM{Username: "gitbot", Password: "scm-pw-6", SSHKeyData: "scm-key-7", SSHKeyUnlock: "scm-unlock-8", AcceptHostKey: true},
			[]string{"scm-pw-6", "scm-key-7", "scm-unlock-8"}, []string{"gitbot"}},
		{"Net", Net{Username: "netop", Password: "net-pw-9", SSHKeyData: "net-key-10", SSHKeyUnlock: "net-unlock-11", Authorize: true, AuthorizePassword: "net-enable-12"},
			[]string{"net-pw-9", "net-key-10", "net-unlock-11", "net-enable-12"}, []string{"netop"}},
		{"AWS", AWS{Username: "AKIAVISIBLE", Password: "aws-secret-13", SecurityToken: "aws-token-14"}, []string{"aws-secret-13", "aws-token-14"}, []string{"AKIAVISIBLE"}},
		{"GCE", GCE{Username: "sa@proj.example.com", Project: "proj-visible", SSHKeyData: "-----BEGIN PRIVATE KEY-----\ngce-key-15\n-----END PRIVATE KEY-----\n"},
			[]string{"gce-key-15"}, []string{"sa@proj.example.com", "proj-visible"}},
		{"AzureRM", AzureRM{Subscription: "sub-visible", Username: "alice", Password: "azure-pw-16", Client: "client-visible", Secret: "azure-secret-17", Tenant: "tenant-visible"},
			[]string{"azure-pw-16", "azure-secret-17"}, []string{"sub-visible", "client-visible", "tenant-visible"}},
		{"OpenStack", OpenStack{Username: "os-user", Password: "os-pw-18", Host: "https://keystone.example.com:5000/v3", Project: "demo"},
			[]string{"os-pw-18"}, []string{"os-user", "https://keystone.example.com:5000/v3"}},
		{"VMware", VMware{Host: "vcenter.example.com", Username: "vc-user", Password: "vc-pw-19"}, []string{"vc-pw-19"}, []string{"vcenter.example.com", "vc-user"}},
		{"Satellite", Satellite{Host: "https://sat.example.com", Username: "sat-user", Password: "sat-pw-20"}, []string{"sat-pw-20"}, []string{"https://sat.example.com"}},
		{"Kubernetes", Kubernetes{Host: "https://k8s.example.com:6443", BearerToken: "k8s-token-21", SSLCACert: "-----BEGIN CERTIFICATE-----\nk8s-ca-22\n-----END CERTIFICATE-----\n"},
			[]string{"k8s-token-21", "k8s-ca-22"}, []string{"https://k8s.example.com:6443"}},
		{"Terraform", Terraform{Configuration: `bucket = "tf-state-23"`, GCECredentials: `{"private_key": "tf-gce-24"}`}, []string{"tf-state-23", "tf-gce-24"}, nil},
		{"RHV", RHV{Host: "https://rhv.example.com", Username: "admin@internal", Password: "rhv-pw-25", CAFile: "/etc/pki/ovirt.pem"},
			[]string{"rhv-pw-25"}, []string{"https://rhv.example.com", "admin@internal", "/etc/pki/ovirt.pem"}},
		{"Controller", Controller{Host: "https://awx.example.com", Username: "admin-user", Password: "ctl-pw-26", OAuthToken: "ctl-token-27"},
			[]string{"ctl-pw-26", "ctl-token-27"}, []string{"https://awx.example.com", "admin-user"}},
		{"Insights", Insights{Username: "insights-user", Password: "insights-pw-28"}, []string{"insights-pw-28"}, []string{"insights-user"}},
		{"Custom", Custom{Type: custom, Inputs: map[string]any{"api_url": "https://api.example.com", "api_token": "custom-token-29", "insecure": true}},
			[]string{"custom-token-29"}, []string{"https://api.example.com", "api_token"}},
		{"CustomUnknownInput", Custom{Type: custom, Inputs: map[string]any{"api_url": "https://api.example.com", "not_a_field": "custom-stray-30"}},
			[]string{"custom-stray-30"}, []string{"https://api.example.com", "not_a_field"}},
		{"CustomNoType", Custom{Inputs: map[string]any{"api_url": "custom-url-31", "api_token": "custom-token-32"}},
			[]string{"custom-url-31", "custom-token-32"}, []string{"api_url", "api_token"}},
		{"Prompt", Prompt{Pattern: "Vault password:", Response: "prompt-response-33"}, []string{"prompt-response-33"}, []string{"Vault password:"}},
		{"SSHKey", SSHKey{Kind: "ssh", PEM: []byte(key), Passphrase: []byte("sshkey-phrase-34")}, []string{key, "sshkey-phrase-34"}, []string{"ssh"}},
		// The whole content too: encoding/json writes a []byte in base64.
		{"File", File{Content: []byte("[auth]\npassword = file-secret-35\n"), Mode: 0o600}, []string{"file-secret-35", "[auth]\npassword = file-secret-35\n"}, nil},
		{"Injection", *injection, injection.Secrets, []string{"deploy-user", "AKIAVISIBLE", "sa@proj.example.com", "insights-user", testDir, "scm_password"}},
	}
}

func TestFormatHidesSecrets(t *testing.T) {
	for _, tc := range hidingCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			for how, out := range printings(tc.v) {
				for _, s := range tc.secrets {
					if form, ok := leaked(out, s); ok {
						t.Errorf("%s prints secret %q:\n%s", how, form, out)
					}
				}
				for _, s := range tc.visible {
					q := strconv.Quote(s)
					if !strings.Contains(out, s) && !strings.Contains(out, q[1:len(q)-1]) {
						t.Errorf("%s lost non-secret %q:\n%s", how, s, out)
					}
				}
			}
		})
	}
}

func TestFormatLayout(t *testing.T) {
	for _, tc := range []struct {
		format string
		v      any
		want   string
	}{
		{"%v", Vault{VaultPassword: "pw", VaultID: "prod"}, "{********** prod}"},
		{"%+v", Vault{VaultPassword: "pw", VaultID: "prod"}, "{VaultPassword:********** VaultID:prod}"},
		{"%+v", Vault{VaultID: "prod"}, "{VaultPassword: VaultID:prod}"},
		{"%#v", Vault{VaultPassword: "pw", VaultID: "prod"}, `credentials.Vault{VaultPassword:"**********", VaultID:"prod"}`},
		{"%#v", &Vault{VaultPassword: "pw"}, `credentials.Vault{VaultPassword:"**********", VaultID:""}`},
		{"%s", Insights{Username: "u", Password: "pw"}, "{u **********}"},
		{"%q", Insights{Username: "u", Password: "pw"}, `"{u **********}"`},
		{"%+v", []Credential{Insights{Username: "u", Password: "pw"}}, "[{Username:u Password:**********}]"},
		{"%+v", SSHKey{Kind: "ssh", PEM: []byte("k")}, "{Kind:ssh PEM:********** Passphrase:[] PrivateKey:<nil>}"},
		{"%+v", Custom{Inputs: map[string]any{"a": "x", "b": ""}}, "{Type:<nil> Inputs:map[a:********** b:]}"},
		{"%v", (*Machine)(nil), "<nil>"},
	} {
		assert.Equal(t, tc.want, fmt.Sprintf(tc.format, tc.v), "%s of %T", tc.format, tc.v)
	}
}
