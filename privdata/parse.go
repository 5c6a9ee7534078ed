package privdata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// entry is one key of a top-level mapping, kept in file order because the
// order of env/passwords decides which prompt pattern is tried first.
type entry struct {
	key  string
	val  any
	line int
}

// maxNodes bounds alias expansion so a "billion laughs" document cannot
// exhaust memory; real env files are many orders of magnitude smaller.
const maxNodes = 1 << 20

// parseMapping decodes an env file the way ansible-runner's loader does (JSON
// first, then YAML) and returns its top-level keys in file order. An empty
// file or a null document is an empty mapping. Every env file may hold
// secrets (AWX puts credentials in envvars and extravars, and settings'
// container_auth_data holds a password), so syntax errors carry the line and
// the parser's message only when that message quotes no text from data.
func parseMapping(path string, data []byte) ([]entry, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, nil
	}
	var probe any
	jsonErr := json.Unmarshal(trimmed, &probe)
	if jsonErr == nil {
		switch probe.(type) {
		case map[string]any:
			return parseJSONObject(path, data)
		case nil:
			return nil, nil
		default:
			return nil, &FileError{Path: path, Line: lineAt(data, bytes.Index(data, trimmed[:1])), Err: fmt.Errorf("%w, found %s", ErrNotMapping, jsonKind(probe))}
		}
	}
	entries, yamlErr := parseYAMLMapping(path, data)
	if yamlErr == nil {
		return entries, nil
	}
	var fe *FileError
	if errors.As(yamlErr, &fe) && !errors.Is(fe.Err, ErrSyntax) {
		// Valid YAML with the wrong shape: that is the more useful message.
		return nil, yamlErr
	}
	// Both parsers failed: report the one the author most likely meant.
	if trimmed[0] == '{' || trimmed[0] == '[' {
		line := 0
		var se *json.SyntaxError
		if errors.As(jsonErr, &se) {
			off := int(se.Offset) + bytes.Index(data, trimmed[:1])
			line = lineAt(data, off)
		}
		return nil, &FileError{Path: path, Line: line, Err: syntaxErr("JSON", jsonErr.Error())}
	}
	return nil, yamlErr
}

// grammarQuoteRe matches a quoted single punctuation character, which
// yaml.v3's constant messages use to name grammar tokens (expected ',' or
// ']'); such a quote comes from the grammar, not from the file.
var grammarQuoteRe = regexp.MustCompile(`'[^\pL\pN\s'\\]'`)

// jsonCharRe matches the input character encoding/json quotes in "invalid
// character 'x' ...": it comes from the file, so it is dropped.
var jsonCharRe = regexp.MustCompile(`character '(?:\\'|[^'])*' `)

// syntaxErr wraps ErrSyntax with the parser's message, minus any text the
// parser quoted from the file (json: "invalid character 'x'", yaml:
// "unknown anchor 'a'"); a message it cannot clean is withheld entirely.
func syntaxErr(format, msg string) error {
	if format == "JSON" {
		msg = jsonCharRe.ReplaceAllString(msg, "character ")
	}
	if strings.ContainsAny(grammarQuoteRe.ReplaceAllString(msg, ""), "'\"`") {
		return fmt.Errorf("%w (%s; details withheld, they quote the file)", ErrSyntax, format)
	}
	return fmt.Errorf("%w (%s): %s", ErrSyntax, format, msg)
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// lineAt returns the 1-based line holding byte offset off of data.
func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}

// omap is a decoded mapping in file order. It exists so that str() of a
// nested mapping lists keys in the order Python's dict would; plain turns it
// into a map[string]any for the public fields.
type omap []entry

// set adds or replaces key, keeping the first position and the last value,
// as a Python dict built from a document does.
func (m *omap) set(index map[string]int, e entry) {
	if i, ok := index[e.key]; ok {
		(*m)[i].val, (*m)[i].line = e.val, e.line
		return
	}
	index[e.key] = len(*m)
	*m = append(*m, e)
}

// plain replaces every omap in v by a map[string]any.
func plain(v any) any {
	switch t := v.(type) {
	case omap:
		out := make(map[string]any, len(t))
		for _, e := range t {
			out[e.key] = plain(e.val)
		}
		return out
	case []any:
		for i := range t {
			t[i] = plain(t[i])
		}
		return t
	}
	return v
}

// parseJSONObject walks a valid JSON object token by token to keep key
// order and each key's line.
func parseJSONObject(path string, data []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := jsonValue(dec, data)
	if err != nil {
		return nil, &FileError{Path: path, Line: lineAt(data, int(dec.InputOffset())), Err: syntaxErr("JSON", err.Error())}
	}
	return v.(omap), nil
}

// jsonValue decodes the next value of dec; data is dec's whole input, used
// to compute key lines.
func jsonValue(dec *json.Decoder, data []byte) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			list := []any{}
			for dec.More() {
				v, err := jsonValue(dec, data)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
			_, err := dec.Token()
			return list, err
		}
		m := omap{}
		index := map[string]int{}
		for dec.More() {
			ktok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := ktok.(string)
			line := lineAt(data, int(dec.InputOffset()))
			v, err := jsonValue(dec, data)
			if err != nil {
				return nil, err
			}
			m.set(index, entry{key: key, val: v, line: line})
		}
		_, err := dec.Token()
		return m, err
	case json.Number:
		return jsonNumber(t), nil
	default:
		return tok, nil // string, bool or nil
	}
}

// jsonNumber mirrors Python's int/float split: integer literals become int
// (or *big.Int beyond int64), others float64.
func jsonNumber(n json.Number) any {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return int(i)
		}
		if b, ok := new(big.Int).SetString(s, 10); ok {
			return b
		}
	}
	f, _ := strconv.ParseFloat(s, 64) // valid JSON; ±Inf on overflow, like Python
	return f
}

// parseYAMLMapping decodes data as a single YAML document with PyYAML's
// safe_load typing (YAML 1.1: yes/no/on/off are booleans, 0777 is octal).
func parseYAMLMapping(path string, data []byte) (_ []entry, err error) {
	// yaml.v3 has panicked on hostile input before (CVE-2022-28948); bad
	// input must be an error here, never a crash of the embedding program.
	defer func() {
		if r := recover(); r != nil {
			err = &FileError{Path: path, Err: fmt.Errorf("%w (YAML parser failure)", ErrSyntax)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // comments only
		}
		return nil, yamlSyntax(path, err)
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, yamlSyntax(path, err)
		}
		return nil, &FileError{Path: path, Line: more.Line, Err: fmt.Errorf("%w: expected a single YAML document", ErrSyntax)}
	}
	c := &converter{path: path}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	for root.Kind == yaml.AliasNode && root.Alias != nil {
		root = root.Alias
	}
	switch root.Kind {
	case yaml.MappingNode:
		return c.mapping(root, 0)
	case yaml.ScalarNode:
		v, err := c.scalar(root)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, nil
		}
		return nil, &FileError{Path: path, Line: root.Line, Err: fmt.Errorf("%w, found a scalar", ErrNotMapping)}
	default:
		return nil, &FileError{Path: path, Line: root.Line, Err: fmt.Errorf("%w, found a list", ErrNotMapping)}
	}
}

// yamlParserProblems are yaml.v3's parser (not scanner) messages. For
// those, yaml.v3 v3.0.1 prints the mark's 0-based line, and no line at all
// for the first line; scanner messages carry a 1-based line.
var yamlParserProblems = map[string]bool{
	"did not find expected <stream-start>":   true,
	"did not find expected <document start>": true,
	"found undefined tag handle":             true,
	"did not find expected node content":     true,
	"did not find expected '-' indicator":    true,
	"did not find expected key":              true,
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found duplicate %TAG directive":         true,
}

var yamlErrRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlSyntax wraps a yaml.v3 error, lifting its line into FileError.Line.
// The line of a parser error is that of the enclosing collection's start
// (yaml.v3 reports the context mark), which still points the reader to
// the right place.
func yamlSyntax(path string, err error) error {
	m := yamlErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return &FileError{Path: path, Err: syntaxErr("YAML", err.Error())}
	}
	msg := m[2]
	line, _ := strconv.Atoi(m[1])
	switch {
	case yamlParserProblems[msg]:
		line++ // 0-based, and absent for line 0
	case line == 0 && !strings.Contains(msg, "anchor"): // not yaml.v3's own alias errors
		line = 1 // a libyaml problem on the first line, printed without a line
	}
	return &FileError{Path: path, Line: line, Err: syntaxErr("YAML", msg)}
}

type converter struct {
	path  string
	nodes int
}

func (c *converter) errf(n *yaml.Node, format string, args ...any) error {
	return &FileError{Path: c.path, Line: n.Line, Err: badValue(format, args...)}
}

func (c *converter) node(n *yaml.Node, depth int) (any, error) {
	c.nodes++
	if c.nodes > maxNodes || depth > 1000 {
		return nil, c.errf(n, "document too large or too deeply nested")
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, c.errf(n, "unknown alias")
		}
		return c.node(n.Alias, depth+1)
	case yaml.ScalarNode:
		return c.scalar(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, child := range n.Content {
			v, err := c.node(child, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		entries, err := c.mapping(n, depth+1)
		return omap(entries), err
	default:
		return nil, c.errf(n, "unexpected YAML node")
	}
}

// mapping converts a mapping node, applying "<<" merge keys the way PyYAML
// does: merged keys come first and explicit keys override them.
func (c *converter) mapping(n *yaml.Node, depth int) ([]entry, error) {
	var merged, explicit []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style == 0 {
			srcs := []*yaml.Node{v}
			if t := deref(v); t.Kind == yaml.SequenceNode {
				srcs = t.Content
			}
			for _, src := range srcs {
				src = deref(src)
				if src.Kind != yaml.MappingNode {
					return nil, c.errf(k, "merge key '<<' needs a mapping")
				}
				es, err := c.mapping(src, depth+1)
				if err != nil {
					return nil, err
				}
				merged = append(merged, es...)
			}
			continue
		}
		kv, err := c.node(k, depth+1)
		if err != nil {
			return nil, err
		}
		switch kv.(type) {
		case []any, omap:
			return nil, c.errf(k, "a mapping key must be a scalar")
		}
		vv, err := c.node(v, depth+1)
		if err != nil {
			return nil, err
		}
		explicit = append(explicit, entry{key: pyStr(kv), val: vv, line: k.Line})
	}
	var out omap
	index := map[string]int{}
	for _, e := range append(merged, explicit...) {
		out.set(index, e)
	}
	return out, nil
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

const quotedStyles = yaml.DoubleQuotedStyle | yaml.SingleQuotedStyle | yaml.LiteralStyle | yaml.FoldedStyle

func (c *converter) scalar(n *yaml.Node) (any, error) {
	tagged := n.Style&yaml.TaggedStyle != 0
	if !tagged {
		if n.Style&quotedStyles != 0 {
			return n.Value, nil
		}
		return resolve11(n.Value), nil
	}
	tag := n.ShortTag()
	switch tag {
	case "!!str", "!!binary", "!!timestamp":
		return n.Value, nil
	case "!!null", "!!bool", "!!int", "!!float":
		v := resolve11(n.Value)
		if tag == "!!float" {
			if i, ok := v.(int); ok {
				v = float64(i)
			}
		}
		if yamlTagOf(v) != tag {
			return nil, c.errf(n, "value does not match tag %s", tag)
		}
		return v, nil
	}
	// safe_load refuses application tags (!!python/object, !foo). The tag
	// is not quoted: it is file text, and the file may be a secret one.
	return nil, c.errf(n, "unsupported YAML tag")
}

func yamlTagOf(v any) string {
	switch v.(type) {
	case nil:
		return "!!null"
	case bool:
		return "!!bool"
	case int, *big.Int:
		return "!!int"
	case float64:
		return "!!float"
	}
	return "!!str"
}

// The implicit resolvers of PyYAML's SafeLoader (YAML 1.1), which decide
// what a plain scalar becomes; yaml.v3 follows YAML 1.2, which differs for
// yes/no/on/off, 0777 and 1e3 (a string in 1.1).
var (
	boolRe  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	intRe   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	floatRe = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
)

func resolve11(s string) any {
	switch s {
	case "", "~", "null", "Null", "NULL":
		return nil
	}
	if boolRe.MatchString(s) {
		switch s[0] {
		case 'y', 'Y', 't', 'T':
			return true
		case 'o', 'O':
			return s[1] == 'n' || s[1] == 'N'
		}
		return false
	}
	if intRe.MatchString(s) {
		if v, ok := parseInt11(s); ok {
			return v
		}
	}
	if floatRe.MatchString(s) {
		if v, ok := parseFloat11(s); ok {
			return v
		}
	}
	return s
}

func splitSign(s string) (neg bool, rest string) {
	s = strings.ReplaceAll(s, "_", "")
	if s != "" && (s[0] == '-' || s[0] == '+') {
		return s[0] == '-', s[1:]
	}
	return false, s
}

func parseInt11(s string) (any, bool) {
	neg, s := splitSign(s)
	v := new(big.Int)
	ok := true
	switch {
	case strings.HasPrefix(s, "0b"):
		_, ok = v.SetString(s[2:], 2)
	case strings.HasPrefix(s, "0x"):
		_, ok = v.SetString(s[2:], 16)
	case strings.Contains(s, ":"):
		for _, part := range strings.Split(s, ":") {
			d, err := strconv.Atoi(part)
			if err != nil {
				return nil, false
			}
			v.Mul(v, big.NewInt(60)).Add(v, big.NewInt(int64(d)))
		}
	case len(s) > 1 && s[0] == '0':
		_, ok = v.SetString(s[1:], 8)
	default:
		_, ok = v.SetString(s, 10)
	}
	if !ok {
		return nil, false
	}
	if neg {
		v.Neg(v)
	}
	if v.IsInt64() && int64(int(v.Int64())) == v.Int64() {
		return int(v.Int64()), true
	}
	return v, true
}

func parseFloat11(s string) (any, bool) {
	neg, s := splitSign(s)
	sign := 1.0
	if neg {
		sign = -1
	}
	switch strings.ToLower(s) {
	case ".inf":
		return sign * math.Inf(1), true
	case ".nan":
		return math.NaN(), true
	}
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		v := 0.0
		for i, p := range parts {
			d, err := strconv.ParseFloat(p, 64)
			if err != nil || (i < len(parts)-1 && strings.Contains(p, ".")) {
				return nil, false
			}
			v = v*60 + d
		}
		return sign * v, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, false
	}
	return sign * f, true
}
