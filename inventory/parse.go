package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Parse reads the JSON printed by `ansible-inventory --list`, with or without
// --export, or by an inventory script. It follows AWX's importer:
//
//   - `all` and `ungrouped` both mean the inventory itself: their vars become
//     Inventory.Vars and hosts listed there belong to no group.
//   - A group may be an object with hosts (a list, or an object of host to
//     vars), vars and children, or a bare list of host names; other keys are
//     ignored. A child named `ungrouped` is ignored.
//   - A host named `name:port` or `[ipv6]:port` becomes `name` with an
//     ansible_port var; explicit host vars take precedence over it.
//   - `_meta.hostvars` are merged into hosts that some group lists; hosts
//     that only appear there are dropped.
//
// Numbers are kept as json.Number so large integers survive unchanged.
// Groups whose children form a cycle are refused with ErrCycle.
func Parse(data []byte) (*Inventory, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return nil, syntaxErr(data, err)
	}
	end := int(dec.InputOffset())
	if rest := bytes.TrimLeft(data[end:], " \t\r\n"); len(rest) > 0 {
		line, col := position(data, len(data)-len(rest))
		return nil, &Error{Line: line, Column: col, Kind: ErrSyntax, Err: errors.New("unexpected data after the top-level value")}
	}
	top, ok := root.(map[string]any)
	if !ok {
		return nil, shapeErr("top level", "expected an object, got %s", typeName(root))
	}

	p := parser{inv: New()}
	for _, name := range slices.Sorted(maps.Keys(top)) {
		if name == meta {
			continue
		}
		if err := p.group(name, top[name]); err != nil {
			return nil, err
		}
	}
	if m, ok := top[meta]; ok {
		if err := p.meta(m); err != nil {
			return nil, err
		}
	}
	if err := findCycle(p.inv.Groups); err != nil {
		return nil, err
	}
	return p.inv, nil
}

type parser struct {
	inv *Inventory
}

// group merges one top-level entry into the inventory.
func (p *parser) group(name string, v any) error {
	where := fmt.Sprintf("group %q", name)
	if name == "" {
		return shapeErr("top level", "empty group name")
	}
	var g *Group // nil means `all`
	if name != All && name != Ungrouped {
		g = p.inv.group(name)
	}
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return p.hostList(g, where, v)
	case map[string]any:
		if hosts, ok := v["hosts"]; ok {
			if err := p.hosts(g, where+": hosts", hosts); err != nil {
				return err
			}
		}
		if vars, ok := v["vars"]; ok {
			m, err := varsMap(where+": vars", vars)
			if err != nil {
				return err
			}
			if g == nil {
				maps.Copy(p.inv.Vars, m)
			} else {
				maps.Copy(g.Vars, m)
			}
		}
		if children, ok := v["children"]; ok {
			return p.children(g, where+": children", children)
		}
		return nil
	default:
		return shapeErr(where, "expected an object or a list, got %s", typeName(v))
	}
}

func (p *parser) hosts(g *Group, where string, v any) error {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return p.hostList(g, where, v)
	case map[string]any:
		for _, name := range slices.Sorted(maps.Keys(v)) {
			vars, err := varsMap(fmt.Sprintf("%s: host %q", where, name), v[name])
			if err != nil {
				return err
			}
			h, err := p.addHost(g, where, name)
			if err != nil {
				return err
			}
			maps.Copy(h.Vars, vars)
		}
		return nil
	default:
		return shapeErr(where, "expected a list or an object, got %s", typeName(v))
	}
}

func (p *parser) hostList(g *Group, where string, list []any) error {
	for i, item := range list {
		name, ok := item.(string)
		if !ok {
			return shapeErr(fmt.Sprintf("%s[%d]", where, i), "expected a host name, got %s", typeName(item))
		}
		if _, err := p.addHost(g, where, name); err != nil {
			return err
		}
	}
	return nil
}

// addHost creates or finds the host and links it to g (nil: no group).
func (p *parser) addHost(g *Group, where, raw string) (*Host, error) {
	if raw == "" {
		return nil, shapeErr(where, "empty host name")
	}
	name, port := splitHostPort(raw)
	h := p.inv.host(name)
	if _, set := h.Vars["ansible_port"]; port != "" && !set {
		h.Vars["ansible_port"] = json.Number(port)
	}
	if g != nil {
		p.inv.link(g, h)
	}
	return h, nil
}

func (p *parser) children(g *Group, where string, v any) error {
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return shapeErr(where, "expected a list, got %s", typeName(v))
	}
	for i, item := range list {
		name, ok := item.(string)
		switch {
		case !ok:
			return shapeErr(fmt.Sprintf("%s[%d]", where, i), "expected a group name, got %s", typeName(item))
		case name == "":
			return shapeErr(fmt.Sprintf("%s[%d]", where, i), "empty group name")
		case name == Ungrouped:
			continue
		case name == meta:
			return shapeErr(fmt.Sprintf("%s[%d]", where, i), "%q is not a valid group name", meta)
		case name == All:
			return &Error{Where: where, Kind: ErrCycle, Err: errors.New(`"all" cannot be a child group`)}
		}
		p.inv.group(name)
		if g != nil && !slices.Contains(g.Children, name) {
			g.Children = append(g.Children, name)
		}
	}
	return nil
}

// meta merges _meta.hostvars into hosts already seen in a group.
func (p *parser) meta(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return shapeErr("_meta", "expected an object, got %s", typeName(v))
	}
	hv, ok := m["hostvars"]
	if !ok || hv == nil {
		return nil
	}
	all, ok := hv.(map[string]any)
	if !ok {
		return shapeErr("_meta: hostvars", "expected an object, got %s", typeName(hv))
	}
	for _, raw := range slices.Sorted(maps.Keys(all)) {
		vars, err := varsMap(fmt.Sprintf("_meta: hostvars: host %q", raw), all[raw])
		if err != nil {
			return err
		}
		name, _ := splitHostPort(raw)
		if h, ok := p.inv.Hosts[name]; ok {
			maps.Copy(h.Vars, vars)
		}
	}
	return nil
}

func varsMap(where string, v any) (map[string]any, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return v, nil
	default:
		return nil, shapeErr(where, "expected an object, got %s", typeName(v))
	}
}

// meta is the top-level key that carries hostvars instead of a group.
const meta = "_meta"

var bracketPort = regexp.MustCompile(`^\[([^\[\]:]*(?::[^\[\]:]*){2,}|[^\[\]:]+)\]:([0-9]+)$`)

// splitHostPort splits `name:port` and `[ipv6]:port` as AWX does. A name with
// several colons and no brackets is a bare IPv6 address, what comes back is
// never split again, and a port that is
// not 1-65535 leaves the name whole. The port comes back in canonical form.
func splitHostPort(raw string) (name, port string) {
	var p string
	// The bracketed name may not hold exactly one colon: "[a:b]:1" would
	// give a name that splits again when read back.
	if m := bracketPort.FindStringSubmatch(raw); m != nil {
		name, p = m[1], m[2]
	} else if strings.Count(raw, ":") == 1 {
		name, p, _ = strings.Cut(raw, ":")
	} else {
		return raw, ""
	}
	n, err := strconv.Atoi(p)
	if name == "" || err != nil || n < 1 || n > 65535 || strings.ContainsAny(p, "+-") {
		return raw, ""
	}
	return name, strconv.Itoa(n)
}

func syntaxErr(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	off := -1
	switch {
	case errors.As(err, &se):
		off = int(se.Offset)
	case errors.As(err, &te):
		off = int(te.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		off = len(data)
		err = errors.New("unexpected end of input")
	}
	e := &Error{Kind: ErrSyntax, Err: err}
	if off >= 0 {
		e.Line, e.Column = position(data, off)
	}
	return e
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = off - bytes.LastIndexByte(before, '\n')
	return line, col
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
