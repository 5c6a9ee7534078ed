package credentials

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf16"
)

// Hidden is what every redacted value is replaced with, as in AWX.
const Hidden = "**********"

var (
	hiddenKeyRe = regexp.MustCompile(`(?i)API|TOKEN|KEY|SECRET|PASS`)
	urlPassRe   = regexp.MustCompile(`^.*?://[^:]+:(.*?)@.*?$`)
)

// SafeEnv returns a copy of env fit to record (the command artifact, the
// "starting" status, logs), following AWX's build_safe_env: AWS_ACCESS_KEY_ID
// and ANSIBLE_* (except ANSIBLE_NET* and ANSIBLE_GALAXY_SERVER*) are kept; any
// other key matching API|TOKEN|KEY|SECRET|PASS (case-insensitive) is hidden;
// any other value shaped like scheme://user:password@... is hidden whole.
// On top of AWX's rules, every occurrence of a secret in any value, kept keys
// included, is hidden too.
func SafeEnv(env map[string]string, secrets []string) map[string]string {
	r := NewRedactor(secrets...)
	safe := make(map[string]string, len(env))
	for k, v := range env {
		switch {
		case k == "AWS_ACCESS_KEY_ID":
		case strings.HasPrefix(k, "ANSIBLE_") && !strings.HasPrefix(k, "ANSIBLE_NET") && !strings.HasPrefix(k, "ANSIBLE_GALAXY_SERVER"):
		case hiddenKeyRe.MatchString(k):
			v = Hidden
		case urlPassRe.MatchString(v):
			v = Hidden
		}
		safe[k] = r.String(v)
	}
	return safe
}

// Redactor hides secret values in text. The zero value and a nil *Redactor
// hide nothing. It is safe for concurrent use.
type Redactor struct {
	r *strings.Replacer
}

// NewRedactor returns a Redactor for secrets. Empty secrets are ignored.
// Besides each secret it also hides the secret as it appears inside a JSON
// string, since events and artifacts are JSON: as Go writes it (with and
// without <, > and & escaped) and as Python's json.dumps writes it (every
// character outside printable ASCII as \uXXXX). Every secret is hidden
// however short, so a one-letter password makes records hard to read: that
// is the safe trade.
func NewRedactor(secrets ...string) *Redactor {
	seen := map[string]bool{}
	var forms []string
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			forms = append(forms, s)
		}
	}
	for _, s := range secrets {
		add(s)
		for _, html := range []bool{true, false} {
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(html)
			if enc.Encode(s) == nil {
				q := strings.TrimSuffix(b.String(), "\n")
				add(q[1 : len(q)-1])
			}
		}
		add(pythonASCII(s))
	}
	if len(forms) == 0 {
		return &Redactor{}
	}
	sortSecrets(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Hidden)
	}
	return &Redactor{r: strings.NewReplacer(pairs...)}
}

// pythonASCII returns s as the inside of a JSON string written by Python's
// json.dumps with its default ensure_ascii: only printable ASCII is kept.
func pythonASCII(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= ' ' && r <= '~':
			b.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// String returns s with every secret replaced by Hidden.
func (r *Redactor) String(s string) string {
	if r == nil || r.r == nil {
		return s
	}
	return r.r.Replace(s)
}

// Strings returns a new slice with every element redacted.
func (r *Redactor) Strings(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.String(s)
	}
	return out
}

// Redacted returns a copy of in fit to record: Env through SafeEnv, secrets
// hidden in extra vars, file contents and prompt responses, SSH keys replaced
// by Hidden, Secrets emptied.
func (in *Injection) Redacted() *Injection {
	r := NewRedactor(in.Secrets...)
	out := &Injection{
		Env:       SafeEnv(in.Env, in.Secrets),
		ExtraVars: redactAny(r, in.ExtraVars).(map[string]any),
		Files:     make(map[string]File, len(in.Files)),
		Flags:     in.Flags,
	}
	out.Flags.VaultIDs = append([]string(nil), in.Flags.VaultIDs...)
	out.Flags.ExtraVarsFiles = append([]string(nil), in.Flags.ExtraVarsFiles...)
	for p, f := range in.Files {
		out.Files[p] = File{Content: []byte(r.String(string(f.Content))), Mode: f.Mode}
	}
	for _, p := range in.Prompts {
		out.Prompts = append(out.Prompts, Prompt{Pattern: p.Pattern, Response: r.String(p.Response)})
	}
	for _, k := range in.SSHKeys {
		red := SSHKey{Kind: k.Kind, PEM: []byte(Hidden)}
		if len(k.Passphrase) > 0 {
			red.Passphrase = []byte(Hidden)
		}
		out.SSHKeys = append(out.SSHKeys, red)
	}
	return out
}

func redactAny(r *Redactor, v any) any {
	switch v := v.(type) {
	case string:
		return r.String(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = redactAny(r, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[r.String(k)] = redactAny(r, e)
		}
		return out
	}
	return v
}
