package credentials

import (
	"fmt"
	"io"
	"iter"
	"log/slog"
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
	if sharp {
		io.WriteString(w, reflect.TypeOf(v).String())
	}
	io.WriteString(w, "{")
	first := true
	for name, fv := range redactedFields(v, shown) {
		if !first {
			if sharp {
				io.WriteString(w, ", ")
			} else {
				io.WriteString(w, " ")
			}
		}
		first = false
		if sharp || plus {
			io.WriteString(w, name+":")
		}
		fmt.Fprintf(w, directive, fv)
	}
	io.WriteString(w, "}")
}

// redactedFields yields the name and the value to print of each field of
// the struct v, in order: shown's value for a field named in shown, Hidden
// for a non-empty field tagged `secret:"true"` and for an unexported field,
// and the field's own value otherwise.
func redactedFields(v any, shown map[string]any) iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		rv := reflect.ValueOf(v)
		t := rv.Type()
		for i := range t.NumField() {
			sf := t.Field(i)
			var fv any
			if s, ok := shown[sf.Name]; ok {
				fv = s
			} else if !sf.IsExported() || (sf.Tag.Get("secret") == "true" && !rv.Field(i).IsZero()) {
				fv = Hidden
			} else {
				fv = rv.Field(i).Interface()
			}
			if !yield(sf.Name, fv) {
				return
			}
		}
	}
}

// logValueRedacted is the LogValue method of every type here that holds a
// secret. slog's JSONHandler writes a value that is not a slog.LogValuer
// with encoding/json, which ignores Format and so wrote every secret.
//
// The value is a group with one attribute per field, the fields that
// formatRedacted prints, so that a JSON log keeps the struct's shape
// ({"Username":"deploy","Password":"**********"}) and can be queried by
// field. A string or bool field is logged as itself; any other field is
// logged as the string formatRedacted prints for it with %+v, since slog
// would hand a map, slice or struct to encoding/json, which would write
// the secrets inside it (a File in Injection.Files, say).
func logValueRedacted(v any, shown map[string]any) slog.Value {
	var attrs []slog.Attr
	for name, fv := range redactedFields(v, shown) {
		switch fv := fv.(type) {
		case string:
			attrs = append(attrs, slog.String(name, fv))
		case bool:
			attrs = append(attrs, slog.Bool(name, fv))
		default:
			attrs = append(attrs, slog.String(name, fmt.Sprintf("%+v", fv)))
		}
	}
	return slog.GroupValue(attrs...)
}

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Machine) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c Machine) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Vault) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c Vault) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c SCM) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c SCM) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Net) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c Net) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c AWS) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c AWS) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c GCE) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c GCE) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c AzureRM) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c AzureRM) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c OpenStack) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c OpenStack) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c VMware) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c VMware) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Satellite) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c Satellite) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Kubernetes) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c Kubernetes) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Terraform) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c Terraform) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c RHV) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c RHV) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Controller) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c Controller) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter; secrets print as Hidden.
func (c Insights) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, nil) }

// LogValue implements slog.LogValuer; secrets log as Hidden.
// json.Marshal still writes every field.
func (c Insights) LogValue() slog.Value { return logValueRedacted(c, nil) }

// Format implements fmt.Formatter. The type prints as its name, and every
// input that the type does not declare as a non-secret field prints as
// Hidden: with no type, all of them.
func (c Custom) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c, c.shown()) }

// LogValue implements slog.LogValuer; the type and inputs log as Format
// prints them. json.Marshal still writes every field.
func (c Custom) LogValue() slog.Value { return logValueRedacted(c, c.shown()) }

// shown returns the Type and Inputs fields of c as they print.
func (c Custom) shown() map[string]any {
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
	return map[string]any{"Type": typ, "Inputs": inputs}
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

// Format implements fmt.Formatter; the key and passphrase print as Hidden.
func (k SSHKey) Format(f fmt.State, verb rune) { formatRedacted(f, verb, k, nil) }

// LogValue implements slog.LogValuer; the key and passphrase log as Hidden.
// json.Marshal still writes every field.
func (k SSHKey) LogValue() slog.Value { return logValueRedacted(k, nil) }

// Format implements fmt.Formatter; the content prints as Hidden, since a
// credential file is credential material.
func (cf File) Format(f fmt.State, verb rune) { formatRedacted(f, verb, cf, nil) }

// LogValue implements slog.LogValuer; the content logs as Hidden.
// json.Marshal still writes every field.
func (cf File) LogValue() slog.Value { return logValueRedacted(cf, nil) }

// Format implements fmt.Formatter. Env is printed as SafeEnv records it,
// ExtraVars with every secret hidden, Secrets as Hidden; Files, Prompts and
// SSHKeys hide their own secrets.
func (in Injection) Format(f fmt.State, verb rune) { formatRedacted(f, verb, in, in.shown()) }

// LogValue implements slog.LogValuer; every field logs as Format prints it.
// json.Marshal still writes every field, secrets included.
func (in Injection) LogValue() slog.Value { return logValueRedacted(in, in.shown()) }

// shown returns the Env and ExtraVars fields of in as they print.
func (in Injection) shown() map[string]any {
	shown := map[string]any{"Env": in.Env, "ExtraVars": in.ExtraVars}
	if in.Env != nil {
		shown["Env"] = SafeEnv(in.Env, in.Secrets)
	}
	if in.ExtraVars != nil {
		shown["ExtraVars"] = redactAny(NewRedactor(in.Secrets...), in.ExtraVars)
	}
	return shown
}
