package credentials

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"gopkg.in/yaml.v3"
)

// Field is one input of a credential type, as AWX's "inputs.fields" lists it.
type Field struct {
	ID           string   `yaml:"id"`
	Label        string   `yaml:"label"`
	Type         string   `yaml:"type"`   // "string" (default) or "boolean"
	Format       string   `yaml:"format"` // "", "ssh_private_key" or "url"
	Choices      []string `yaml:"choices"`
	Secret       bool     `yaml:"secret"`
	Multiline    bool     `yaml:"multiline"`
	AskAtRuntime bool     `yaml:"ask_at_runtime"`
	Default      any      `yaml:"default"`
	HelpText     string   `yaml:"help_text"`
}

// Schema is a credential type's input schema (AWX's "inputs").
type Schema struct {
	Fields   []Field  `yaml:"fields"`
	Required []string `yaml:"required"`
}

// Injectors says what a credential type injects (AWX's "injectors"): files
// rendered from templates, environment variables and extra vars.
type Injectors struct {
	// File maps "template" (one file, {{ tower.filename }}) or
	// "template.<name>" (several, {{ tower.filename.<name> }}) to a template.
	File      map[string]string `yaml:"file"`
	Env       map[string]string `yaml:"env"`
	ExtraVars map[string]any    `yaml:"extra_vars"`
}

// CredentialType is a custom credential type. Build one with
// ParseCredentialType, which checks it the way AWX does when a type is saved.
type CredentialType struct {
	Name      string
	Inputs    Schema
	Injectors Injectors

	managed   bool // one of AWX's own types: errors name it without "custom:"
	fields    map[string]*Field
	files     map[string]*template // "" for the single-file form
	env       map[string]*template
	extraVars any // same shape as Injectors.ExtraVars with *template leaves and keyedTemplate keys
}

// keyedTemplate is one extra_vars mapping entry with a templated key.
type keyedTemplate struct {
	key   *template
	value any
}

var (
	fieldIDRe     = regexp.MustCompile(`^[a-zA-Z_]+[a-zA-Z0-9_]*$`)
	envNameRe     = fieldIDRe
	extraVarKeyRe = regexp.MustCompile(`^[a-zA-Z_{}]+[a-zA-Z0-9_{}]*$`)
)

// reservedEnv are the variables AWX forbids injectors to set, besides any
// ANSIBLE_* name, because the runner or AWX itself owns them.
var reservedEnv = map[string]bool{
	"VIRTUAL_ENV": true, "PATH": true, "PYTHONPATH": true, "JOB_ID": true, "INVENTORY_ID": true,
	"INVENTORY_SOURCE_ID": true, "INVENTORY_UPDATE_ID": true, "AD_HOC_COMMAND_ID": true, "REST_API_URL": true,
	"REST_API_TOKEN": true, "MAX_EVENT_RES": true, "CALLBACK_QUEUE": true, "CALLBACK_CONNECTION": true, "CACHE": true,
	"JOB_CALLBACK_DEBUG": true, "INVENTORY_HOSTVARS": true, "AWX_HOST": true, "PROJECT_REVISION": true,
	"SUPERVISOR_CONFIG_PATH": true,
}

// ParseCredentialType parses AWX's inputs and injectors documents (YAML or
// JSON; either may be empty) and checks them as AWX does when a type is
// saved: field ids, types, defaults, choices, required names, injector keys,
// banned environment names, and every template name (strictly, in every
// branch). Errors name the field or injector key and, for syntax errors, the line.
func ParseCredentialType(inputsYAML, injectorsYAML []byte) (*CredentialType, error) {
	t := &CredentialType{}
	if err := strictYAML(inputsYAML, &t.Inputs); err != nil {
		return nil, fieldErr("", "inputs", ErrInvalid, err.Error())
	}
	if err := strictYAML(injectorsYAML, &t.Injectors); err != nil {
		return nil, fieldErr("", "injectors", ErrInvalid, err.Error())
	}
	if err := t.compile(); err != nil {
		return nil, err
	}
	return t, nil
}

func strictYAML(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func (t *CredentialType) kind() string {
	if t.managed {
		return t.Name
	}
	if t.Name == "" {
		return "custom"
	}
	return "custom:" + t.Name
}

// compile checks the definition and parses its templates.
func (t *CredentialType) compile() error {
	k := t.kind()
	t.fields = map[string]*Field{}
	for i := range t.Inputs.Fields {
		f := &t.Inputs.Fields[i]
		where := fmt.Sprintf("inputs.fields[%d]", i)
		switch {
		case !fieldIDRe.MatchString(f.ID):
			return fieldErr(k, where+".id", ErrInvalid, "must match "+fieldIDRe.String())
		case f.ID == "tower":
			return fieldErr(k, where+".id", ErrInvalid, `"tower" is reserved`)
		case t.fields[f.ID] != nil:
			return fieldErr(k, where+".id", ErrDuplicate, "field "+f.ID+" defined twice")
		}
		where = "inputs.fields." + f.ID
		if f.Type == "" {
			f.Type = "string"
		}
		switch f.Type {
		case "string":
			if f.Format != "" && f.Format != "ssh_private_key" && f.Format != "url" {
				return fieldErr(k, where+".format", ErrInvalid, "must be ssh_private_key or url")
			}
		case "boolean":
			if len(f.Choices) > 0 || f.Multiline || f.Format != "" || f.Secret {
				return fieldErr(k, where, ErrInvalid, "choices, multiline, format and secret are only for string fields")
			}
		default:
			return fieldErr(k, where+".type", ErrInvalid, "must be string or boolean")
		}
		if f.Default != nil {
			if err := checkValue(f, f.Default); err != nil {
				return fieldErr(k, where+".default", ErrInvalid, err.Error())
			}
		}
		t.fields[f.ID] = f
	}
	for _, r := range t.Inputs.Required {
		if t.fields[r] == nil {
			return fieldErr(k, "inputs.required", ErrUnknownField, "field "+r+" is not defined")
		}
	}

	t.files = map[string]*template{}
	bare, named := false, false
	for key, src := range t.Injectors.File {
		where := "injectors.file." + key
		name, ok := strings.CutPrefix(key, "template.")
		switch {
		case key == "template":
			bare, name = true, ""
		case ok && fieldIDRe.MatchString(name):
			named = true
		default:
			return fieldErr(k, where, ErrInvalid, `keys must be "template" or "template.<name>"`)
		}
		tp, err := t.parse(where, src, false)
		if err != nil {
			return err
		}
		t.files[name] = tp
	}
	if bare && named {
		return fieldErr(k, "injectors.file", ErrInvalid, `use either "template" or "template.<name>" keys, not both`)
	}

	t.env = map[string]*template{}
	for name, src := range t.Injectors.Env {
		where := "injectors.env." + name
		switch {
		case !envNameRe.MatchString(name):
			return fieldErr(k, where, ErrInvalid, "must match "+envNameRe.String())
		case strings.HasPrefix(name, "ANSIBLE_") || reservedEnv[name]:
			return fieldErr(k, where, ErrBannedEnv, "")
		}
		for _, r := range src {
			if r > 0x7f {
				return fieldErr(k, where, ErrInvalid, "value must be ASCII")
			}
		}
		tp, err := t.parse(where, src, true)
		if err != nil {
			return err
		}
		t.env[name] = tp
	}

	ev, err := t.compileExtraVars("injectors.extra_vars", t.Injectors.ExtraVars, true)
	if err != nil {
		return err
	}
	t.extraVars = ev
	return nil
}

func (t *CredentialType) compileExtraVars(where string, v any, top bool) (any, error) {
	k := t.kind()
	switch v := v.(type) {
	case nil:
		if top {
			return nil, nil
		}
	case string:
		return t.parse(where, v, true)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			c, err := t.compileExtraVars(fmt.Sprintf("%s[%d]", where, i), e, false)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		keys := slices.Sorted(maps.Keys(v))
		out := make([]keyedTemplate, 0, len(v))
		for _, key := range keys {
			w := where + "." + key
			if !extraVarKeyRe.MatchString(key) {
				return nil, fieldErr(k, w, ErrInvalid, "key must match "+extraVarKeyRe.String())
			}
			kt, err := t.parse(w, key, true)
			if err != nil {
				return nil, err
			}
			c, err := t.compileExtraVars(w, v[key], false)
			if err != nil {
				return nil, err
			}
			out = append(out, keyedTemplate{key: kt, value: c})
		}
		return out, nil
	}
	return nil, fieldErr(k, where, ErrInvalid, "values must be strings, lists or mappings")
}

// parse parses one template and checks its names strictly, as AWX's
// validation does with StrictUndefined.
func (t *CredentialType) parse(where, src string, filesVisible bool) (*template, error) {
	k := t.kind()
	tp, err := parseTemplate(src)
	if err != nil {
		return nil, fieldErr(k, where, ErrTemplate, err.Error())
	}
	var bad *FieldError
	tp.names(func(path []string) {
		if bad != nil {
			return
		}
		switch {
		case path[0] != "tower":
			if t.fields[path[0]] == nil {
				bad = fieldErr(k, where, ErrUnknownField, "template refers to undefined field "+path[0])
			}
		case !filesVisible:
			// AWX renders files before their names exist, so such a
			// reference would always be empty.
			bad = fieldErr(k, where, ErrTemplate, "file templates cannot refer to tower.filename")
		case len(path) == 2:
			if _, ok := t.Injectors.File["template"]; !ok {
				bad = fieldErr(k, where, ErrUnknownField, `tower.filename needs a single "template" file injector`)
			}
		default:
			if _, ok := t.Injectors.File["template."+path[2]]; !ok {
				bad = fieldErr(k, where, ErrUnknownField, "tower.filename."+path[2]+` needs a "template.`+path[2]+`" file injector`)
			}
		}
	})
	if bad != nil {
		return nil, bad
	}
	return tp, nil
}

// checkValue checks one input value against its field, without quoting the
// value in the error.
func checkValue(f *Field, v any) error {
	if f.Type == "boolean" {
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("must be a boolean, not %T", v)
		}
		return nil
	}
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("must be a string, not %T", v)
	}
	if s == "" {
		return nil
	}
	if len(f.Choices) > 0 && !contains(f.Choices, s) {
		return fmt.Errorf("must be one of %s", strings.Join(f.Choices, ", "))
	}
	if !f.Multiline && strings.ContainsAny(s, "\n\r") && f.Format != "ssh_private_key" {
		return errors.New("must be a single line")
	}
	switch f.Format {
	case "url":
		u, err := url.Parse(s)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return errors.New("must be a URL with a scheme and host")
		}
	case "ssh_private_key":
		_, err := ssh.ParseRawPrivateKey([]byte(s))
		var missing *ssh.PassphraseMissingError
		if err != nil && !errors.As(err, &missing) {
			return errors.New("must be a PEM or OpenSSH private key")
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// Validate checks inputs against the type: every name defined, values of
// the field's type, choices and formats respected, required fields present
// and non-empty (a default counts). Errors name the field, never the value.
func (t *CredentialType) Validate(inputs map[string]any) error {
	if t.fields == nil {
		if err := t.compile(); err != nil {
			return err
		}
	}
	k := t.kind()
	for _, name := range slices.Sorted(maps.Keys(inputs)) {
		f := t.fields[name]
		if f == nil {
			return fieldErr(k, name, ErrUnknownField, "not an input of this type")
		}
		if err := checkValue(f, inputs[name]); err != nil {
			return fieldErr(k, name, ErrInvalid, err.Error())
		}
	}
	for _, r := range t.Inputs.Required {
		v, ok := inputs[r]
		if !ok || v == "" {
			v = t.fields[r].Default
		}
		if v == nil || v == "" {
			return fieldErr(k, r, ErrRequired, "")
		}
	}
	return nil
}

// Custom is a credential of a custom type. Its kind is the type's Name, so
// give each custom type a distinct Name to use several in one run.
type Custom struct {
	Type   *CredentialType
	Inputs map[string]any // string or bool per field
}

// Kind returns "custom:<type name>".
func (c Custom) Kind() string {
	if c.Type == nil {
		return "custom"
	}
	return c.Type.kind()
}

func (c Custom) inject(b *builder) error {
	if c.Type == nil {
		return fieldErr("custom", "Type", ErrRequired, "")
	}
	return c.Type.inject(b, c.Kind(), c.Inputs)
}

func (t *CredentialType) inject(b *builder, kind string, inputs map[string]any) error {
	if err := t.Validate(inputs); err != nil {
		return err
	}
	ns := &namespace{fields: map[string]any{}, filenames: map[string]string{}}
	for id, f := range t.fields {
		v, ok := inputs[id]
		if !ok {
			v = f.Default
		}
		if v == nil {
			if f.Type == "boolean" {
				ns.fields[id] = false
			}
			continue
		}
		s, isString := v.(string)
		if isString && s == "" {
			continue // lenient: renders as the empty string
		}
		if isString && f.Format == "ssh_private_key" && !strings.HasSuffix(s, "\n") {
			v = s + "\n"
		}
		if f.Secret && isString {
			b.secret(s, v.(string))
		}
		ns.fields[id] = v
	}
	// Files first, so that env and extra vars can name them.
	for _, name := range slices.Sorted(maps.Keys(t.files)) {
		p := b.addFile([]byte(t.files[name].render(ns)), 0o600)
		if name == "" {
			ns.filename = p
		} else {
			ns.filenames[name] = p
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.env)) {
		if err := b.setEnv(kind, name, t.env[name].render(ns)); err != nil {
			return err
		}
	}
	if kvs, ok := t.extraVars.([]keyedTemplate); ok {
		for _, kv := range kvs {
			if err := b.extraVar(kind, kv.key.render(ns), renderExtraVars(kv.value, ns)); err != nil {
				return err
			}
		}
	}
	return nil
}

func renderExtraVars(v any, ns *namespace) any {
	switch v := v.(type) {
	case *template:
		return v.render(ns)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = renderExtraVars(e, ns)
		}
		return out
	case []keyedTemplate:
		out := make(map[string]any, len(v))
		for _, kv := range v {
			out[kv.key.render(ns)] = renderExtraVars(kv.value, ns)
		}
		return out
	}
	return v
}
