package inventory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// JSON returns the inventory in the shape `ansible-inventory --list --export`
// prints and an inventory script must print: one object per group with hosts,
// children and vars, `all` holding the top-level groups and the inventory
// vars, `ungrouped` the hosts in no group, and `_meta.hostvars` the host vars
// so ansible does not call the script once per host. Keys are sorted and
// indented as ansible-inventory does; like it, an empty group appears only in
// its parent's children. Note that ansible reads this shape only
// from a script's output; for a file, use YAML.
func (inv *Inventory) JSON() ([]byte, error) {
	if err := inv.validate(); err != nil {
		return nil, err
	}
	hostvars := map[string]any{}
	for name, h := range inv.Hosts {
		if len(h.Vars) > 0 {
			hostvars[name] = h.Vars
		}
	}
	all := map[string]any{"children": append([]string{Ungrouped}, inv.topLevel()...)}
	if len(inv.Vars) > 0 {
		all["vars"] = inv.Vars
	}
	out := map[string]any{
		"_meta": map[string]any{"hostvars": hostvars},
		All:     all,
	}
	if u := inv.ungrouped(); len(u) > 0 {
		out[Ungrouped] = map[string]any{"hosts": u}
	}
	for name, g := range inv.Groups {
		entry := map[string]any{}
		if len(g.Hosts) > 0 {
			entry["hosts"] = g.Hosts
		}
		if len(g.Children) > 0 {
			entry["children"] = g.Children
		}
		if len(g.Vars) > 0 {
			entry["vars"] = g.Vars
		}
		// An empty object would make ansible's script plugin read the group
		// as a host of that name; being listed in children is enough.
		if len(entry) > 0 {
			out[name] = entry
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // ansible writes <, > and & as they are
	enc.SetIndent("", "    ")
	if err := enc.Encode(out); err != nil {
		return nil, &Error{Where: "vars", Kind: ErrShape, Err: err}
	}
	return buf.Bytes(), nil
}

// YAML returns the inventory as a file for ansible's yaml inventory plugin:
// everything under `all`, hosts in no group under all.hosts, groups nested
// under their parents in inventory order. A group or host that appears in
// several places is spelled out (vars, members) at its first appearance and
// only named elsewhere, which the yaml plugin reads as the same group or host.
// Strings are quoted whenever YAML 1.1 (PyYAML) could read them as anything
// but a string.
func (inv *Inventory) YAML() ([]byte, error) {
	if err := inv.validate(); err != nil {
		return nil, err
	}
	w := yamlWriter{inv: inv, doneHosts: map[string]bool{}, doneGroups: map[string]bool{}}
	all := &yaml.Node{Kind: yaml.MappingNode}
	if len(inv.Vars) > 0 {
		n, err := w.value("all: vars", inv.Vars)
		if err != nil {
			return nil, err
		}
		addPair(all, "vars", n)
	}
	if u := inv.ungrouped(); len(u) > 0 {
		n, err := w.hosts(u)
		if err != nil {
			return nil, err
		}
		addPair(all, "hosts", n)
	}
	if top := inv.topLevel(); len(top) > 0 {
		n, err := w.groups(top)
		if err != nil {
			return nil, err
		}
		addPair(all, "children", n)
	}
	doc := &yaml.Node{Kind: yaml.MappingNode}
	addPair(doc, All, all)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, &Error{Kind: ErrShape, Err: err}
	}
	if err := enc.Close(); err != nil {
		return nil, &Error{Kind: ErrShape, Err: err}
	}
	return buf.Bytes(), nil
}

type yamlWriter struct {
	inv        *Inventory
	doneHosts  map[string]bool
	doneGroups map[string]bool
}

func (w *yamlWriter) hosts(names []string) (*yaml.Node, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, name := range names {
		h := w.inv.Hosts[name]
		var v any
		if !w.doneHosts[name] && len(h.Vars) > 0 {
			v = h.Vars
		}
		w.doneHosts[name] = true
		n, err := w.value(fmt.Sprintf("host %q: vars", name), v)
		if err != nil {
			return nil, err
		}
		addPair(m, name, n)
	}
	return m, nil
}

func (w *yamlWriter) groups(names []string) (*yaml.Node, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, name := range names {
		n, err := w.group(name)
		if err != nil {
			return nil, err
		}
		addPair(m, name, n)
	}
	return m, nil
}

func (w *yamlWriter) group(name string) (*yaml.Node, error) {
	if w.doneGroups[name] {
		return nullNode(), nil
	}
	w.doneGroups[name] = true
	g := w.inv.Groups[name]
	m := &yaml.Node{Kind: yaml.MappingNode}
	if len(g.Hosts) > 0 {
		n, err := w.hosts(g.Hosts)
		if err != nil {
			return nil, err
		}
		addPair(m, "hosts", n)
	}
	if len(g.Children) > 0 {
		n, err := w.groups(g.Children)
		if err != nil {
			return nil, err
		}
		addPair(m, "children", n)
	}
	if len(g.Vars) > 0 {
		n, err := w.value(fmt.Sprintf("group %q: vars", name), g.Vars)
		if err != nil {
			return nil, err
		}
		addPair(m, "vars", n)
	}
	if len(m.Content) == 0 {
		return nullNode(), nil
	}
	return m, nil
}

// value converts a variable value to a node by hand rather than with
// yaml.Marshal, because yaml.v3 writes json.Number as a quoted string and
// leaves YAML 1.1 lookalikes such as 1e5 unquoted, both of which PyYAML then
// reads with the wrong type.
func (w *yamlWriter) value(where string, v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case nil:
		return nullNode(), nil
	case string:
		return strNode(v), nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}, nil
	case json.Number:
		return numberNode(where, string(v))
	case map[string]any:
		m := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			n, err := w.value(where, v[k])
			if err != nil {
				return nil, err
			}
			addPair(m, k, n)
		}
		return m, nil
	case []any:
		s := &yaml.Node{Kind: yaml.SequenceNode}
		for _, item := range v {
			n, err := w.value(where, item)
			if err != nil {
				return nil, err
			}
			s.Content = append(s.Content, n)
		}
		return s, nil
	}
	// Values built in Go rather than parsed: other ints, floats, typed maps
	// and slices.
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(rv.Int(), 10)}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(rv.Uint(), 10)}, nil
	case reflect.Float32, reflect.Float64:
		f := rv.Float()
		switch {
		case math.IsNaN(f):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: ".nan"}, nil
		case math.IsInf(f, 1):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: ".inf"}, nil
		case math.IsInf(f, -1):
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: "-.inf"}, nil
		}
		return numberNode(where, strconv.FormatFloat(f, 'g', -1, rv.Type().Bits()))
	case reflect.String:
		return strNode(rv.String()), nil
	case reflect.Bool:
		return w.value(where, rv.Bool())
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, shapeErr(where, "map keys must be strings, got %s", rv.Type().Key())
		}
		m := map[string]any{}
		for _, k := range rv.MapKeys() {
			m[k.String()] = rv.MapIndex(k).Interface()
		}
		return w.value(where, m)
	case reflect.Slice, reflect.Array:
		s := make([]any, rv.Len())
		for i := range s {
			s[i] = rv.Index(i).Interface()
		}
		return w.value(where, s)
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nullNode(), nil
		}
		return w.value(where, rv.Elem().Interface())
	}
	return nil, shapeErr(where, "cannot write a %T as YAML", v)
}

var jsonNumber = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// numberNode writes a JSON number so PyYAML reads it back as the same type:
// its float pattern needs a dot in the mantissa and a sign in the exponent.
func numberNode(where, s string) (*yaml.Node, error) {
	m := jsonNumber.FindStringSubmatch(s)
	if m == nil {
		return nil, shapeErr(where, "invalid number %q", s)
	}
	if m[2] == "" && m[3] == "" {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: s}, nil
	}
	mant, exp, _ := strings.Cut(strings.ToLower(s), "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	if exp != "" && exp[0] != '-' && exp[0] != '+' {
		exp = "+" + exp
	}
	if exp != "" {
		mant += "e" + exp
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: mant}, nil
}

// plainSafe matches strings that YAML 1.1 and 1.2 both read as strings when
// unquoted, apart from the keywords checked in strNode.
var plainSafe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./-]*$`)

var yaml11Keywords = map[string]bool{
	"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true,
}

func strNode(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	if !plainSafe.MatchString(s) || yaml11Keywords[strings.ToLower(s)] {
		n.Style = yaml.DoubleQuotedStyle
	}
	return n
}

func nullNode() *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
}

func addPair(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, strNode(key), v)
}
