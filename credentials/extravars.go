package credentials

import (
	"bytes"
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

// unsafeYAML serialises extra vars with every string (keys included) tagged
// !unsafe, as AWX does: credential values may contain "{{" and must reach
// playbooks as data, never be evaluated as Jinja by ansible.
func unsafeYAML(vars map[string]any) ([]byte, error) {
	root, err := unsafeNode(vars)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func unsafeString(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!unsafe", Value: s, Style: yaml.SingleQuotedStyle}
}

func unsafeNode(v any) (*yaml.Node, error) {
	switch v := v.(type) {
	case string:
		return unsafeString(v), nil
	case bool:
		n := &yaml.Node{}
		err := n.Encode(v)
		return n, err
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range v {
			c, err := unsafeNode(e)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			c, err := unsafeNode(v[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, unsafeString(k), c)
		}
		return n, nil
	}
	return nil, fmt.Errorf("unsupported extra var type %T", v)
}
