package credentials

import (
	"fmt"
	"regexp"
	"strings"
)

// The injector template language is the small part of Jinja2 that AWX's
// credential types use: variable output, tower.filename references and plain
// if/else blocks. Anything else is refused at parse time, because silently
// rendering a filter or expression wrongly would put a wrong secret in a file.

var namePathRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

type nodeKind int

const (
	textNode nodeKind = iota
	varNode
	ifNode
)

type node struct {
	kind   nodeKind
	text   string   // textNode
	path   []string // varNode, ifNode
	negate bool     // ifNode: {% if not x %}
	then   []node
	orElse []node
}

type template struct {
	nodes []node
}

// token is one lexed piece of a template before trimming is applied.
type token struct {
	tag        byte // 0 for text, '{' for output, '%' for statement, '#' for comment
	body       string
	trimBefore bool
	trimAfter  bool
}

func lexTemplate(src string) ([]token, error) {
	var toks []token
	for len(src) > 0 {
		i := indexTagStart(src)
		if i < 0 {
			toks = append(toks, token{body: src})
			break
		}
		if i > 0 {
			toks = append(toks, token{body: src[:i]})
		}
		open := src[i+1]
		closer := map[byte]string{'{': "}}", '%': "%}", '#': "#}"}[open]
		rest := src[i+2:]
		end := strings.Index(rest, closer)
		if end < 0 {
			return nil, fmt.Errorf("unclosed %q", src[i:i+2])
		}
		body := rest[:end]
		t := token{tag: open}
		if strings.HasPrefix(body, "-") {
			t.trimBefore, body = true, body[1:]
		} else if strings.HasPrefix(body, "+") {
			body = body[1:]
		}
		if strings.HasSuffix(body, "-") {
			t.trimAfter, body = true, body[:len(body)-1]
		} else if strings.HasSuffix(body, "+") {
			body = body[:len(body)-1]
		}
		t.body = strings.TrimSpace(body)
		toks = append(toks, t)
		src = rest[end+2:]
	}
	// Apply Jinja's "-" whitespace control to the neighbouring text.
	for i := range toks {
		if toks[i].tag == 0 {
			continue
		}
		if toks[i].trimBefore && i > 0 && toks[i-1].tag == 0 {
			toks[i-1].body = strings.TrimRight(toks[i-1].body, " \t\r\n")
		}
		if toks[i].trimAfter && i+1 < len(toks) && toks[i+1].tag == 0 {
			toks[i+1].body = strings.TrimLeft(toks[i+1].body, " \t\r\n")
		}
	}
	return toks, nil
}

func indexTagStart(s string) int {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '{' && (s[i+1] == '{' || s[i+1] == '%' || s[i+1] == '#') {
			return i
		}
	}
	return -1
}

// parseTemplate parses src. Like Jinja2 with its default
// keep_trailing_newline=False, a single trailing newline is dropped.
func parseTemplate(src string) (*template, error) {
	if strings.HasSuffix(src, "\r\n") {
		src = src[:len(src)-2]
	} else if strings.HasSuffix(src, "\n") {
		src = src[:len(src)-1]
	}
	toks, err := lexTemplate(src)
	if err != nil {
		return nil, err
	}
	nodes, rest, stop, err := parseNodes(toks)
	if err != nil {
		return nil, err
	}
	if stop != "" || len(rest) > 0 {
		return nil, fmt.Errorf("{%% %s %%} without a matching {%% if %%}", stop)
	}
	return &template{nodes: nodes}, nil
}

// parseNodes parses until the end or an else/endif statement, which it
// returns as stop with the tokens after it.
func parseNodes(toks []token) (nodes []node, rest []token, stop string, err error) {
	for len(toks) > 0 {
		t := toks[0]
		toks = toks[1:]
		switch t.tag {
		case 0:
			if t.body != "" {
				nodes = append(nodes, node{kind: textNode, text: t.body})
			}
		case '#':
			// A comment renders nothing.
		case '{':
			path, err := parsePath(t.body)
			if err != nil {
				return nil, nil, "", err
			}
			nodes = append(nodes, node{kind: varNode, path: path})
		case '%':
			words := strings.Fields(t.body)
			switch {
			case len(words) == 1 && (words[0] == "else" || words[0] == "endif"):
				return nodes, toks, words[0], nil
			case len(words) >= 2 && words[0] == "if":
				n := node{kind: ifNode}
				expr := words[1:]
				if len(expr) == 2 && expr[0] == "not" {
					n.negate, expr = true, expr[1:]
				}
				if len(expr) != 1 {
					return nil, nil, "", fmt.Errorf("{%% %s %%}: only {%% if name %%} and {%% if not name %%} are supported", t.body)
				}
				if n.path, err = parsePath(expr[0]); err != nil {
					return nil, nil, "", err
				}
				var s string
				n.then, toks, s, err = parseNodes(toks)
				if err != nil {
					return nil, nil, "", err
				}
				if s == "else" {
					n.orElse, toks, s, err = parseNodes(toks)
					if err != nil {
						return nil, nil, "", err
					}
				}
				if s != "endif" {
					return nil, nil, "", fmt.Errorf("{%% %s %%} without {%% endif %%}", t.body)
				}
				nodes = append(nodes, n)
			default:
				return nil, nil, "", fmt.Errorf("{%% %s %%}: only if/else/endif statements are supported", t.body)
			}
		}
	}
	return nodes, nil, "", nil
}

func parsePath(expr string) ([]string, error) {
	if !namePathRe.MatchString(expr) {
		return nil, fmt.Errorf("{{ %s }}: only plain names are supported (no filters, calls or expressions)", expr)
	}
	path := strings.Split(expr, ".")
	switch {
	case len(path) == 1 && path[0] != "tower":
		return path, nil
	case len(path) >= 2 && len(path) <= 3 && path[0] == "tower" && path[1] == "filename":
		return path, nil
	}
	return nil, fmt.Errorf("{{ %s }}: only field names, tower.filename and tower.filename.<name> are supported", expr)
}

// names calls fn for every name path the template refers to, in every branch.
func (t *template) names(fn func(path []string)) {
	var walk func([]node)
	walk = func(ns []node) {
		for _, n := range ns {
			if n.kind == varNode || n.kind == ifNode {
				fn(n.path)
			}
			walk(n.then)
			walk(n.orElse)
		}
	}
	walk(t.nodes)
}

// namespace is what a template is rendered against.
type namespace struct {
	fields    map[string]any    // string or bool
	filename  string            // single file form
	filenames map[string]string // multi-file form
}

// lookup resolves path leniently, as AWX does at run time: an unknown or
// unset name is the empty string.
func (ns *namespace) lookup(path []string) any {
	if path[0] != "tower" {
		if v, ok := ns.fields[path[0]]; ok {
			return v
		}
		return ""
	}
	if len(path) == 2 {
		return ns.filename
	}
	return ns.filenames[path[2]]
}

func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return v != ""
	}
	return v != nil
}

func stringify(v any) string {
	switch v := v.(type) {
	case bool:
		// Python's str(True), which is what AWX's Jinja renders.
		if v {
			return "True"
		}
		return "False"
	case string:
		return v
	}
	return fmt.Sprint(v)
}

func (t *template) render(ns *namespace) string {
	var b strings.Builder
	var walk func([]node)
	walk = func(nodes []node) {
		for _, n := range nodes {
			switch n.kind {
			case textNode:
				b.WriteString(n.text)
			case varNode:
				b.WriteString(stringify(ns.lookup(n.path)))
			case ifNode:
				if truthy(ns.lookup(n.path)) != n.negate {
					walk(n.then)
				} else {
					walk(n.orElse)
				}
			}
		}
	}
	walk(t.nodes)
	return b.String()
}
