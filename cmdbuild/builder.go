package cmdbuild

import (
	"strconv"
	"strings"
)

// builder accumulates argv and remembers the first validation failure, so
// the per-command Args methods read as a flat list of flags in emission
// order without an error check after each one.
type builder struct {
	spec string
	argv []string
	err  *SpecError
}

func (b *builder) fail(field, reason string) {
	if b.err == nil {
		b.err = &SpecError{Spec: b.spec, Field: field, Reason: reason}
	}
}

func (b *builder) result() ([]string, error) {
	if b.err != nil {
		return nil, b.err
	}
	return b.argv, nil
}

// clean rejects bytes that no ansible option value legitimately contains: a
// NUL cannot be passed through execve at all, and a line break in a limit,
// path or tag would only ever be a mistake or an attempt to forge extra lines
// in the artifacts' command file and in logs.
func (b *builder) clean(field, v string) bool {
	switch {
	case strings.IndexByte(v, 0) >= 0:
		b.fail(field, "contains a NUL byte")
		return false
	case strings.ContainsAny(v, "\n\r"):
		b.fail(field, "contains a line break")
		return false
	}
	return true
}

func (b *builder) noNUL(field, v string) bool {
	if strings.IndexByte(v, 0) >= 0 {
		b.fail(field, "contains a NUL byte")
		return false
	}
	return true
}

func (b *builder) binary(v, def string) {
	if v == "" {
		v = def
	}
	if b.clean("Binary", v) {
		b.argv = append(b.argv, v)
	}
}

// cmdline appends the caller's free-form tokens. A bare "--" is refused
// because it would end option parsing and turn every typed flag after it
// into a positional argument.
func (b *builder) cmdline(tokens []string) {
	for i, t := range tokens {
		field := "Cmdline[" + strconv.Itoa(i) + "]"
		if t == "--" {
			b.fail(field, `"--" would end option parsing before the typed flags`)
			return
		}
		if !b.clean(field, t) {
			return
		}
	}
	b.argv = append(b.argv, tokens...)
}

func (b *builder) flag(on bool, name string) {
	if on {
		b.argv = append(b.argv, name)
	}
}

// opt appends an option and its value as two elements, as ansible-runner
// does. A value starting with "-" would be read by ansible's argparse as the
// next option ("expected one argument"), so it is attached to the long option
// name with "=" instead, which argparse always reads as the value.
func (b *builder) opt(field, name, long, v string) {
	b.optWith(field, name, long, v, b.clean)
}

func (b *builder) optWith(field, name, long, v string, check func(string, string) bool) {
	if !check(field, v) {
		return
	}
	if strings.HasPrefix(v, "-") {
		b.argv = append(b.argv, long+"="+v)
		return
	}
	b.argv = append(b.argv, name, v)
}

// optIf is opt for optional string fields, where "" means "not passed".
func (b *builder) optIf(field, name, long, v string) {
	if v != "" {
		b.opt(field, name, long, v)
	}
}

// each is opt for list fields; an empty element is refused because it would
// pass an empty path or id that ansible reports far less clearly.
func (b *builder) each(field, name, long string, vs []string, format func(string) string) {
	for i, v := range vs {
		f := field + "[" + strconv.Itoa(i) + "]"
		if v == "" {
			b.fail(f, "is empty")
			return
		}
		b.opt(f, name, long, format(v))
	}
}

func (b *builder) count(field, name string, n int) {
	switch {
	case n < 0:
		b.fail(field, "is negative")
	case n > 0:
		b.argv = append(b.argv, name, strconv.Itoa(n))
	}
}

func (b *builder) verbosity(n int) {
	switch {
	case n < 0 || n > 5:
		b.fail("Verbosity", "must be between 0 and 5")
	case n > 0:
		// One token ("-vvv"), exactly as ansible-runner emits it.
		b.argv = append(b.argv, "-"+strings.Repeat("v", n))
	}
}

// tags joins a tag list with commas, as ansible expects; an element that is
// empty or contains a comma could not survive the join intact.
func (b *builder) tags(field, name string, tags []string) {
	if len(tags) == 0 {
		return
	}
	for i, t := range tags {
		f := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case t == "":
			b.fail(f, "is empty")
			return
		case strings.Contains(t, ","):
			b.fail(f, "contains a comma, which ansible reads as a tag separator")
			return
		}
	}
	b.opt(field, name, name, strings.Join(tags, ","))
}

// vaultIDs passes each vault identity with the "prompt" source, so the
// password is asked for on the pty and never appears in argv. An "@" in the
// id would make ansible read the rest as the password source instead.
func (b *builder) vaultIDs(ids []string) {
	for i, id := range ids {
		f := "VaultIDs[" + strconv.Itoa(i) + "]"
		switch {
		case id == "":
			b.fail(f, "is empty")
			return
		case strings.Contains(id, "@"):
			b.fail(f, `contains "@"; give the vault id label only, the source is always "prompt"`)
			return
		}
		b.opt(f, "--vault-id", "--vault-id", id+"@prompt")
	}
}

// positional appends the final positional argument. One starting with "-"
// is preceded by "--" so argparse does not take it for an option; for any
// other value the argv stays identical to ansible-runner's.
func (b *builder) positional(field, v string) {
	switch {
	case v == "":
		b.fail(field, "is required")
		return
	case !b.clean(field, v):
		return
	case strings.HasPrefix(v, "-"):
		b.argv = append(b.argv, "--")
	}
	b.argv = append(b.argv, v)
}
