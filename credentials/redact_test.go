package credentials

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSafeEnv(t *testing.T) {
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":            "AKIAEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":        "s3cr3t",
		"ANSIBLE_FORCE_COLOR":          "True",
		"ANSIBLE_BECOME_PASS":          "kept-by-awx-rule",
		"ANSIBLE_CALLBACK_PLUGINS":     "/x/hunter2/y",
		"ANSIBLE_NET_PASSWORD":         "netpw",
		"ANSIBLE_NET_USERNAME":         "netop",
		"ANSIBLE_GALAXY_SERVER_S0_URL": "https://galaxy.example.com",
		"my_api_url":                   "https://h.example.com",
		"GITHUB_TOKEN":                 "ghp_x",
		"K8S_AUTH_KEYFILE":             "/path",
		"PASSWD":                       "x",
		"DB_URL":                       "postgres://user:pw@db.example.com:5432/x",
		"PLAIN_URL":                    "https://db.example.com/x",
		"USER_ONLY_URL":                "https://user@db.example.com",
		"HOME":                         "/home/hunter2",
		"EMPTY":                        "",
	}
	got := SafeEnv(env, []string{"hunter2", ""})
	assert.Equal(t, map[string]string{
		"AWS_ACCESS_KEY_ID":            "AKIAEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":        Hidden,
		"ANSIBLE_FORCE_COLOR":          "True",
		"ANSIBLE_BECOME_PASS":          "kept-by-awx-rule",
		"ANSIBLE_CALLBACK_PLUGINS":     "/x/" + Hidden + "/y",
		"ANSIBLE_NET_PASSWORD":         Hidden,
		"ANSIBLE_NET_USERNAME":         "netop",
		"ANSIBLE_GALAXY_SERVER_S0_URL": "https://galaxy.example.com",
		"my_api_url":                   Hidden,
		"GITHUB_TOKEN":                 Hidden,
		"K8S_AUTH_KEYFILE":             Hidden,
		"PASSWD":                       Hidden,
		"DB_URL":                       Hidden,
		"PLAIN_URL":                    "https://db.example.com/x",
		"USER_ONLY_URL":                "https://user@db.example.com",
		"HOME":                         "/home/" + Hidden,
		"EMPTY":                        "",
	}, got)
	assert.Equal(t, "s3cr3t", env["AWS_SECRET_ACCESS_KEY"], "input must not be modified")
}

func TestRedactor(t *testing.T) {
	r := NewRedactor("pass", "password1", "", "multi\nline\"q")
	tests := []struct{ in, want string }{
		{"no secrets here", "no secrets here"},
		{"password1 and pass", Hidden + " and " + Hidden},
		{"xpassword1x", "x" + Hidden + "x"},
		{`{"stdout": "multi\nline\"q"}`, `{"stdout": "` + Hidden + `"}`},
		{"raw multi\nline\"q end", "raw " + Hidden + " end"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, r.String(tc.in), tc.in)
	}
	assert.Equal(t, []string{Hidden, "a"}, r.Strings([]string{"pass", "a"}))
	assert.Nil(t, r.Strings(nil))
	var nilR *Redactor
	assert.Equal(t, "pass", nilR.String("pass"))
	assert.Equal(t, "pass", NewRedactor().String("pass"))
	assert.Equal(t, "pass", (&Redactor{}).String("pass"))
}

// A secret is hidden inside JSON however its writer escaped it: Go with and
// without HTML escaping, and Python's json.dumps (ensure_ascii), which the
// callback plugin uses for events. The Python forms are what python3 printed
// for these secrets.
func TestRedactorJSONForms(t *testing.T) {
	const secret = "p\"w<1&é😀\x01"
	r := NewRedactor(secret)
	var html, plain strings.Builder
	require.NoError(t, json.NewEncoder(&html).Encode(secret))
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(secret))
	for _, in := range []string{
		html.String(),
		plain.String(),
		`"p\"w<1&\u00e9\ud83d\ude00\u0001"`, // python3 -c 'import json; print(json.dumps("p\"w<1&é😀\x01"))'
	} {
		in = strings.TrimSpace(in)
		assert.Equal(t, `{"stdout": "`+Hidden+`"}`, r.String(`{"stdout": `+in+`}`), in)
	}
}

func TestRedactedKeepsShapeAndOriginal(t *testing.T) {
	in, err := Inject(testDir, Machine{Username: "u", Password: "pw-secret", SSHKeyData: readKey(t, "id_plain")}, Insights{Username: "iu", Password: "ins-secret"})
	assert.NoError(t, err)
	red := in.Redacted()
	assert.Equal(t, in.Flags, red.Flags)
	assert.Len(t, red.Files, len(in.Files))
	assert.Len(t, red.Prompts, len(in.Prompts))
	assert.Equal(t, Hidden, red.Prompts[0].Response)
	assert.Equal(t, []SSHKey{{Kind: "ssh", PEM: []byte(Hidden)}}, red.SSHKeys)
	assert.Equal(t, map[string]any{"scm_username": "iu", "scm_password": Hidden}, red.ExtraVars)
	assert.Empty(t, red.Secrets)
	assert.Equal(t, "ins-secret", in.ExtraVars["scm_password"], "Redacted must not modify the original")
	assert.Equal(t, "pw-secret", in.Prompts[0].Response)
}
