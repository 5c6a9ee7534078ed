package credentials

import (
	"fmt"
	"io"
	"reflect"
	"strings"
)

// formatRedacted is the Format method of every type here that holds a
// secret. It writes v, a struct, as fmt would print it with verb, except
// that a non-empty field tagged `secret:"true"` is written as Hidden and a
// field named in shown is written as shown's value instead. Fields are
// printed with fmt, so a field holding a type of this package redacts itself
// too. %s and %q print the %v form as a fmt.Stringer would be printed, so
// that the verb's quoting and padding apply to the whole value.
//
// It backs Format methods rather than String and GoString, because fmt
// calls those only for some verbs (%d prints a struct's fields by
// reflection, for one), while Format sees every verb.
func formatRedacted(f fmt.State, verb rune, v any, shown map[string]any) {
	if verb == 's' || verb == 'q' {
		var b strings.Builder
		writeRedacted(&b, "%v", false, false, v, shown)
		fmt.Fprintf(f, fmt.FormatString(f, verb), b.String())
		return
	}
	sharp := verb == 'v' && f.Flag('#')
	plus := verb == 'v' && f.Flag('+')
	writeRedacted(f, fmt.FormatString(f, verb), sharp, plus, v, shown)
}

// writeRedacted writes the struct v field by field, with each field
// formatted by directive, following the layout of fmt's printValue.
func writeRedacted(w io.Writer, directive string, sharp, plus bool, v any, shown map[string]any) {
	rv := reflect.ValueOf(v)
	t := rv.Type()
	if sharp {
		io.WriteString(w, t.String())
	}
	io.WriteString(w, "{")
	for i := range t.NumField() {
		sf := t.Field(i)
		if i > 0 {
			if sharp {
				io.WriteString(w, ", ")
			} else {
				io.WriteString(w, " ")
			}
		}
		if sharp || plus {
			io.WriteString(w, sf.Name+":")
		}
		var fv any
		if s, ok := shown[sf.Name]; ok {
			fv = s
		} else if !sf.IsExported() || (sf.Tag.Get("secret") == "true" && !rv.Field(i).IsZero()) {
			fv = Hidden
		} else {
			fv = rv.Field(i).Interface()
		}
		fmt.Fprintf(w, directive, fv)
	}
	io.WriteString(w, "}")
}

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Machine) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Vault) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c SCM) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Net) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c AWS) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c GCE) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c AzureRM) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c OpenStack) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c VMware) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Satellite) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Kubernetes) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Terraform) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c RHV) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Controller) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Insights) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// Format implements fmt.Formatter. The type prints as its name, and every
// input that the type does not declare as a non-secret field prints as
// Hidden: with no type, all of them.
func (c Custom) Format(f fmt.State, verb rune) {
	var typ any // nil prints as <nil>, as the field would
	if c.Type != nil {
		typ = c.Type.Name
	}
	var inputs map[string]any
	if c.Inputs != nil {
		inputs = make(map[string]any, len(c.Inputs))
		for id, v := range c.Inputs {
			if v != nil && v != "" && !c.Type.shownInput(id) {
				v = Hidden
			}
			inputs[id] = v
		}
	}
	formatRedacted(f, verb, c, map[string]any{"Type": typ, "Inputs": inputs})
}

// shownInput reports whether the input id may be printed: t declares it and
// not as secret. A nil t shows nothing.
func (t *CredentialType) shownInput(id string) bool {
	if t == nil {
		return false
	}
	for _, f := range t.Inputs.Fields {
		if f.ID == id {
			return !f.Secret
		}
	}
	return false
}

// Format implements fmt.Formatter; the response prints as Hidden.
func (p Prompt) Format(f fmt.State, verb rune) { formatRedacted(f, verb, p, nil) }

// Format implements fmt.Formatter; the key and passphrase print as Hidden.
func (k SSHKey) Format(f fmt.State, verb rune) { formatRedacted(f, verb, k, nil) }

// Format implements fmt.Formatter; the content prints as Hidden, since a
// credential file is credential material.
func (cf File) Format(f fmt.State, verb rune) { formatRedacted(f, verb, cf, nil) }

// Format implements fmt.Formatter. Env is printed as SafeEnv records it,
// ExtraVars with every secret hidden, Secrets as Hidden; Files, Prompts and
// SSHKeys hide their own secrets.
func (in Injection) Format(f fmt.State, verb rune) {
	shown := map[string]any{"Env": in.Env, "ExtraVars": in.ExtraVars}
	if in.Env != nil {
		shown["Env"] = SafeEnv(in.Env, in.Secrets)
	}
	if in.ExtraVars != nil {
		shown["ExtraVars"] = redactAny(NewRedactor(in.Secrets...), in.ExtraVars)
	}
	formatRedacted(f, verb, in, shown)
}
