package credentials

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const apiInputs = apiFields + "required: [url, token]\n"

const apiFields = `
fields:
  - {id: url, label: URL, type: string, format: url}
  - {id: token, label: Token, type: string, secret: true}
  - {id: insecure, label: Insecure, type: boolean}
  - {id: region, label: Region, type: string, choices: [eu, us], default: eu}
  - {id: note, label: Note, type: string}
`

func TestCustomRenderSingleFile(t *testing.T) {
	stableNames(t)
	ct := mustType(t, apiInputs, `
file:
  template: |
    [api]
    url = {{ url }}
    token={{token}}
    {% if insecure %}verify = no{% else %}verify = yes{% endif %}
    region={{- region -}}
    !
env:
  API_CONFIG: "{{ tower.filename }}"
  API_TOKEN: "{{token}}"
  API_INSECURE: "{{ insecure }}"
  API_NOTE: "[{{ note }}]"
extra_vars:
  api_url: "{{ url }}"
  "{{region}}_region": yes-{{region}}
  nested:
    list: ["{{ token }}", "x"]
`)
	ct.Name = "Example API"
	in, err := Inject(testDir, Custom{Type: ct, Inputs: map[string]any{"url": "https://api.example.com", "token": "tok-{{x}}-secret"}})
	require.NoError(t, err)
	cfg := filepath.Join(testDir, "tmp0001")
	// Jinja drops the template's one trailing newline; "-" trims around region.
	assert.Equal(t, "[api]\nurl = https://api.example.com\ntoken=tok-{{x}}-secret\nverify = yes\nregion=eu!", string(in.Files[cfg].Content))
	assert.Equal(t, map[string]string{
		"API_CONFIG": cfg, "API_TOKEN": "tok-{{x}}-secret", "API_INSECURE": "False", "API_NOTE": "[]",
	}, in.Env)
	assert.Equal(t, map[string]any{
		"api_url": "https://api.example.com", "eu_region": "yes-eu",
		"nested": map[string]any{"list": []any{"tok-{{x}}-secret", "x"}},
	}, in.ExtraVars)
	assert.Equal(t, []string{filepath.Join(testDir, "tmp0002")}, in.Flags.ExtraVarsFiles)
	assert.Equal(t, []string{"tok-{{x}}-secret"}, in.Secrets)
	checkGolden(t, "custom_single_file_extravars", in.Files[filepath.Join(testDir, "tmp0002")].Content)
	assert.Equal(t, "custom:Example API", Custom{Type: ct}.Kind())
}

func TestCustomRenderMultiFile(t *testing.T) {
	stableNames(t)
	ct := mustType(t, `
fields:
  - {id: cert, type: string, multiline: true, secret: true}
  - {id: key, type: string, format: ssh_private_key, secret: true}
  - {id: verify, type: boolean, default: true}
`, `
file:
  template.cert: "{{cert}}"
  template.key: "{{key}}"
env:
  CERT_FILE: "{{tower.filename.cert}}"
  KEY_FILE: "{{ tower.filename.key }}"
  VERIFY: "{{verify}}"
`)
	key := strings.TrimSuffix(readKey(t, "id_plain"), "\n")
	in, err := Inject(testDir, Custom{Type: ct, Inputs: map[string]any{"cert": "line1\nline2", "key": key}})
	require.NoError(t, err)
	// Files are rendered in name order: cert, then key.
	assert.Equal(t, filepath.Join(testDir, "tmp0001"), in.Env["CERT_FILE"])
	assert.Equal(t, filepath.Join(testDir, "tmp0002"), in.Env["KEY_FILE"])
	assert.Equal(t, "True", in.Env["VERIFY"], "declared default applies")
	assert.Equal(t, "line1\nline2", string(in.Files[in.Env["CERT_FILE"]].Content))
	assert.Equal(t, key+"\n", string(in.Files[in.Env["KEY_FILE"]].Content), "ssh_private_key gets its trailing newline")
	assert.Contains(t, in.Secrets, key)
	for _, f := range in.Files {
		assert.Equal(t, 0o600, int(f.Mode))
	}
}

func TestParseCredentialTypeErrors(t *testing.T) {
	tests := []struct {
		name      string
		inputs    string
		injectors string
		is        error
		field     string
	}{
		{"yaml syntax", "fields: [", "", ErrInvalid, "inputs"},
		{"unknown input key", "fields: [{id: a, colour: red}]", "", ErrInvalid, "line 1"},
		{"unknown injector kind", "", "cmd: {}", ErrInvalid, "injectors"},
		{"bad id", "fields: [{id: 1a}]", "", ErrInvalid, "inputs.fields[0].id"},
		{"tower id", "fields: [{id: tower}]", "", ErrInvalid, "inputs.fields[0].id"},
		{"duplicate id", "fields: [{id: a}, {id: a}]", "", ErrDuplicate, "inputs.fields[1].id"},
		{"bad type", "fields: [{id: a, type: number}]", "", ErrInvalid, "inputs.fields.a.type"},
		{"choices on boolean", "fields: [{id: a, type: boolean, choices: [x]}]", "", ErrInvalid, "inputs.fields.a"},
		{"secret boolean", "fields: [{id: a, type: boolean, secret: true}]", "", ErrInvalid, "inputs.fields.a"},
		{"bad format", "fields: [{id: a, format: email}]", "", ErrInvalid, "inputs.fields.a.format"},
		{"default wrong type", "fields: [{id: a, type: boolean, default: 'yes'}]", "", ErrInvalid, "inputs.fields.a.default"},
		{"default not a choice", "fields: [{id: a, choices: [x, y], default: z}]", "", ErrInvalid, "inputs.fields.a.default"},
		{"required undefined", "fields: [{id: a}]\nrequired: [b]", "", ErrUnknownField, "inputs.required"},
		{"ansible env", "fields: [{id: a}]", "env: {ANSIBLE_BECOME_PASS: '{{a}}'}", ErrBannedEnv, "injectors.env.ANSIBLE_BECOME_PASS"},
		{"reserved env", "fields: [{id: a}]", "env: {PATH: '{{a}}'}", ErrBannedEnv, "injectors.env.PATH"},
		{"reserved env job id", "", "env: {JOB_ID: '1'}", ErrBannedEnv, "injectors.env.JOB_ID"},
		{"bad env name", "", "env: {'A-B': x}", ErrInvalid, "injectors.env.A-B"},
		{"non-ascii env", "", "env: {A: 'é'}", ErrInvalid, "injectors.env.A"},
		{"undefined name", "fields: [{id: a}]", "env: {A: '{{ b }}'}", ErrUnknownField, "injectors.env.A"},
		{"undefined in else", "fields: [{id: a}]", "env: {A: '{% if a %}x{% else %}{{ c }}{% endif %}'}", ErrUnknownField, "injectors.env.A"},
		{"filter", "fields: [{id: a}]", "env: {A: '{{ a | upper }}'}", ErrTemplate, "injectors.env.A"},
		{"expression", "fields: [{id: a}]", "env: {A: '{{ a ~ \"x\" }}'}", ErrTemplate, "injectors.env.A"},
		{"for loop", "fields: [{id: a}]", "env: {A: '{% for x in a %}{% endfor %}'}", ErrTemplate, "injectors.env.A"},
		{"unclosed", "fields: [{id: a}]", "env: {A: '{{ a '}", ErrTemplate, "injectors.env.A"},
		{"if without endif", "fields: [{id: a}]", "env: {A: '{% if a %}x'}", ErrTemplate, "injectors.env.A"},
		{"stray endif", "fields: [{id: a}]", "env: {A: 'x{% endif %}'}", ErrTemplate, "injectors.env.A"},
		{"tower alone", "", "env: {A: '{{ tower }}'}", ErrTemplate, "injectors.env.A"},
		{"filename without file", "", "env: {A: '{{ tower.filename }}'}", ErrUnknownField, "injectors.env.A"},
		{"named file missing", "", "file: {template.a: x}\nenv: {A: '{{ tower.filename.b }}'}", ErrUnknownField, "injectors.env.A"},
		{"single ref with named files", "", "file: {template.a: x}\nenv: {A: '{{ tower.filename }}'}", ErrUnknownField, "injectors.env.A"},
		{"mixed file forms", "", "file: {template: x, template.a: y}", ErrInvalid, "injectors.file"},
		{"bad file key", "", "file: {tmpl: x}", ErrInvalid, "injectors.file.tmpl"},
		{"file refers to filename", "", "file: {template: '{{ tower.filename }}'}", ErrTemplate, "injectors.file.template"},
		{"bad extra var key", "", "extra_vars: {'a-b': x}", ErrInvalid, "injectors.extra_vars.a-b"},
		{"extra var number", "", "extra_vars: {a: 1}", ErrInvalid, "injectors.extra_vars.a"},
		{"extra var undefined", "", "extra_vars: {a: {b: ['{{ zz }}']}}", ErrUnknownField, "injectors.extra_vars.a.b[0]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCredentialType([]byte(tc.inputs), []byte(tc.injectors))
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			var fe *FieldError
			require.True(t, errors.As(err, &fe))
			assert.Contains(t, err.Error(), tc.field)
		})
	}
}

func TestValidateInputs(t *testing.T) {
	ct := mustType(t, apiFields+`
  - {id: key, type: string, format: ssh_private_key, secret: true}
required: [url, token]
`, "")
	ok := map[string]any{"url": "https://api.example.com", "token": "tok-secret"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range ok {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name   string
		inputs map[string]any
		is     error
		field  string
	}{
		{"valid", ok, nil, ""},
		{"valid locked key", with("key", readKey(t, "id_locked")), nil, ""},
		{"missing required", map[string]any{"url": "https://a.example.com"}, ErrRequired, "token"},
		{"empty required", with("token", ""), ErrRequired, "token"},
		{"unknown", with("tokn", "tok-secret"), ErrUnknownField, "tokn"},
		{"string for boolean", with("insecure", "tok-secret"), ErrInvalid, "insecure"},
		{"number for string", with("note", 3), ErrInvalid, "note"},
		{"not a choice", with("region", "mars-secret"), ErrInvalid, "region"},
		{"bad url", with("url", "not a url secret"), ErrInvalid, "url"},
		{"multi-line in single-line", with("note", "a\nb-secret"), ErrInvalid, "note"},
		{"bad key", with("key", "junk-secret"), ErrInvalid, "key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ct.Validate(tc.inputs)
			if tc.is == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), tc.field)
			assert.NotContains(t, err.Error(), "secret", "input value leaked into the error")
		})
	}
	// Inject applies the same checks.
	_, err := Inject(testDir, Custom{Type: ct, Inputs: map[string]any{"url": "https://a.example.com"}})
	assert.ErrorIs(t, err, ErrRequired)
	_, err = Inject(testDir, Custom{})
	assert.ErrorIs(t, err, ErrRequired)
}

// TestTemplateMatchesJinja renders the supported subset with our engine and
// with the Jinja2 that ansible-core ships, and requires the same output.
func TestTemplateMatchesJinja(t *testing.T) {
	playbook, err := exec.LookPath("ansible-playbook")
	if err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	python := pythonOf(t, playbook)
	fields := map[string]any{"a": "A", "empty": "", "yes": true, "no": false}
	templates := []string{
		"{{a}}", "{{ a }}", "x{{  a\t}}y", "{{ missing }}!", "{{ yes }}/{{ no }}",
		"line\n", "line\n\n", "{% if a %}1{% else %}2{% endif %}", "{% if empty %}1{% else %}2{% endif %}",
		"{% if not no %}n{% endif %}", "{% if missing %}m{% endif %}.", "a  {{- a -}}  b", "x\n  {%- if a -%}\n  y\n{%- endif %}\nz",
		"{# note #}c", "{%+ if a +%}p{% endif %}", "{% if a %}{% if empty %}e{% else %}{{ a }}{% endif %}{% endif %}",
	}
	script := `
import json, sys, jinja2
fields = json.loads(sys.argv[1])
env = jinja2.Environment()
for src in json.loads(sys.stdin.read()):
    print(json.dumps(env.from_string(src).render(**fields)))
`
	fieldsJSON, tmplJSON := mustJSON(t, fields), mustJSON(t, templates)
	cmd := exec.Command(python, "-c", script, fieldsJSON)
	cmd.Stdin = strings.NewReader(tmplJSON)
	out, err := cmd.Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(templates))
	ns := &namespace{fields: fields}
	for i, src := range templates {
		tp, err := parseTemplate(src)
		require.NoError(t, err, src)
		assert.Equal(t, lines[i], mustJSON(t, tp.render(ns)), "template %q", src)
	}
}

// TestExtraVarsFileIsUnsafe loads the injected extra vars file into real
// ansible: a credential value containing "{{ }}" must reach the play as
// literal data, never be evaluated.
func TestExtraVarsFileIsUnsafe(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	dir := t.TempDir()
	ct := mustType(t, "fields: [{id: token, secret: true}]", "extra_vars: {api_token: '{{ token }}'}")
	in, err := Inject(dir, Custom{Type: ct, Inputs: map[string]any{"token": "tok-{{ undefined_var }}-{% raw %}"}})
	require.NoError(t, err)
	require.Len(t, in.Flags.ExtraVarsFiles, 1)
	p := in.Flags.ExtraVarsFiles[0]
	require.NoError(t, os.WriteFile(p, in.Files[p].Content, in.Files[p].Mode))
	cmd := exec.Command("ansible", "localhost", "-i", "localhost,", "-c", "local", "-m", "debug", "-a", "var=api_token", "-e", "@"+p)
	cmd.Env = append(os.Environ(), "ANSIBLE_LOCALHOST_WARNING=False", "ANSIBLE_NOCOLOR=1", "ANSIBLE_STDOUT_CALLBACK=default", "ANSIBLE_LOAD_CALLBACK_PLUGINS=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), `"api_token": "tok-{{ undefined_var }}-{% raw %}"`)
}
