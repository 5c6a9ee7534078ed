package inventory

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		kind      error
		msg       string
		line, col int
	}{
		{"syntax error names line", "{\n  \"web\": {\n    \"hosts\": [\"a\",]\n  }\n}", ErrSyntax,
			"inventory: line 3, column 20: invalid character ']' looking for beginning of value", 3, 20},
		{"truncated", "{\n  \"web\": {", ErrSyntax, "inventory: line 2, column 11: unexpected end of input", 2, 11},
		{"empty input", "", ErrSyntax, "inventory: line 1, column 1: unexpected end of input", 1, 1},
		{"trailing garbage", "{} x", ErrSyntax, "inventory: line 1, column 4: unexpected data after the top-level value", 1, 4},
		{"meta as child", `{"a": {"children": ["_meta"]}}`, ErrShape, `inventory: group "a": children[0]: "_meta" is not a valid group name`, 0, 0},
		{"trailing data", "{}\n{}", ErrSyntax, "inventory: line 2, column 1: unexpected data after the top-level value", 2, 1},
		{"root not object", `["a"]`, ErrShape, "inventory: top level: expected an object, got list", 0, 0},
		{"group scalar", `{"web": "a"}`, ErrShape, `inventory: group "web": expected an object or a list, got string`, 0, 0},
		{"children not list", `{"web": {"children": "db"}}`, ErrShape,
			`inventory: group "web": children: expected a list, got string`, 0, 0},
		{"child not string", `{"web": {"children": [1]}}`, ErrShape,
			`inventory: group "web": children[0]: expected a group name, got number`, 0, 0},
		{"empty child", `{"web": {"children": [""]}}`, ErrShape, `inventory: group "web": children[0]: empty group name`, 0, 0},
		{"hosts scalar", `{"web": {"hosts": true}}`, ErrShape,
			`inventory: group "web": hosts: expected a list or an object, got bool`, 0, 0},
		{"host not string", `{"web": {"hosts": [{"a": 1}]}}`, ErrShape,
			`inventory: group "web": hosts[0]: expected a host name, got object`, 0, 0},
		{"empty host", `{"web": [""]}`, ErrShape, `inventory: group "web": empty host name`, 0, 0},
		{"host vars not object", `{"web": {"hosts": {"a": [1]}}}`, ErrShape,
			`inventory: group "web": hosts: host "a": expected an object, got list`, 0, 0},
		{"vars not object", `{"all": {"vars": [1]}}`, ErrShape, `inventory: group "all": vars: expected an object, got list`, 0, 0},
		{"empty group name", `{"": {}}`, ErrShape, `inventory: top level: empty group name`, 0, 0},
		{"meta not object", `{"_meta": 1}`, ErrShape, `inventory: _meta: expected an object, got number`, 0, 0},
		{"hostvars not object", `{"_meta": {"hostvars": "x"}}`, ErrShape,
			`inventory: _meta: hostvars: expected an object, got string`, 0, 0},
		{"hostvars entry not object", `{"_meta": {"hostvars": {"a": "x"}}}`, ErrShape,
			`inventory: _meta: hostvars: host "a": expected an object, got string`, 0, 0},
		{"self cycle", `{"a": {"children": ["a"]}}`, ErrCycle, `inventory: group "a": children form a cycle: a -> a`, 0, 0},
		{"long cycle", `{"a": {"children": ["b"]}, "b": {"children": ["c"]}, "c": {"children": ["a"]}}`, ErrCycle,
			`inventory: group "a": children form a cycle: a -> b -> c -> a`, 0, 0},
		{"all as child", `{"a": {"children": ["all"]}}`, ErrCycle,
			`inventory: group "a": children: "all" cannot be a child group`, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Parse([]byte(tt.in))
			require.Error(t, err)
			assert.Nil(t, inv)
			assert.EqualError(t, err, tt.msg)
			assert.ErrorIs(t, err, tt.kind)
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.line, e.Line, "line")
			assert.Equal(t, tt.col, e.Column, "column")
		})
	}
}

func TestParseSyntaxErrorWrapsJSONError(t *testing.T) {
	_, err := Parse([]byte(`{"a": tru}`))
	var se *json.SyntaxError
	require.ErrorAs(t, err, &se, "the encoding/json cause stays reachable")
	assert.False(t, errors.Is(err, ErrShape))
}

func TestParseAWXRules(t *testing.T) {
	inv, err := Parse([]byte(`{
		"_meta": {"hostvars": {"ghost": {"a": 1}, "h1:2200": {"v": 1}, "h2": {"ansible_port": 9}}},
		"all": {"vars": {"x": 1}, "hosts": ["loose"], "children": ["ungrouped", "g"]},
		"ungrouped": {"vars": {"y": 2}, "hosts": ["h2:2300"]},
		"g": {"hosts": {"h1:2200": {"w": 2}}, "children": ["ungrouped", "sub"]},
		"legacy": ["h1", "h3"]
	}`))
	require.NoError(t, err)

	assert.Equal(t, map[string]any{"x": json.Number("1"), "y": json.Number("2")}, inv.Vars,
		"vars on all and on ungrouped both land on the inventory")
	assert.NotContains(t, inv.Hosts, "ghost", "hosts only in _meta.hostvars are dropped")
	assert.ElementsMatch(t, []string{"g", "legacy", "sub"}, slices.Sorted(maps.Keys(inv.Groups)), "all/ungrouped are not groups; children are created")
	assert.Equal(t, []string{"sub"}, inv.Groups["g"].Children, "a child named ungrouped is ignored")
	assert.Equal(t, map[string]any{"ansible_port": json.Number("2200"), "v": json.Number("1"), "w": json.Number("2")},
		inv.Hosts["h1"].Vars, "host:port split; hostvars keyed host:port reach the same host")
	assert.Equal(t, json.Number("9"), inv.Hosts["h2"].Vars["ansible_port"], "explicit hostvars beat the port in the name")
	assert.Equal(t, []string{"g", "legacy"}, inv.Hosts["h1"].Groups)
	assert.Equal(t, []string{"h2", "loose"}, inv.GroupHosts(Ungrouped))
	assert.Equal(t, []string{"h1", "h3"}, inv.Groups["legacy"].Hosts, "a bare list is the group's hosts")
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct{ in, name, port string }{
		{"web1", "web1", ""},
		{"web1:2222", "web1", "2222"},
		{"web1:02222", "web1", "2222"},
		{"10.0.0.1:22", "10.0.0.1", "22"},
		{"[::1]:2222", "::1", "2222"},
		{"[2001:db8::1]:65535", "2001:db8::1", "65535"},
		{"::1", "::1", ""},
		{"2001:db8::10", "2001:db8::10", ""},
		{"web1:0", "web1:0", ""},
		{"web1:65536", "web1:65536", ""},
		{"web1:+22", "web1:+22", ""},
		{"web1:abc", "web1:abc", ""},
		{":22", ":22", ""},
		{"[::1]", "[::1]", ""},
		{"[0:1]:1", "[0:1]:1", ""},
		{"[1.2.3.4]:22", "1.2.3.4", "22"},
		{"[web1]:22", "web1", "22"},
		{"[fe80::1%eth0]:22", "fe80::1%eth0", "22"},
		{"[a]b]:22", "[a]b]", "22"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			name, port := splitHostPort(tt.in)
			assert.Equal(t, tt.name, name)
			assert.Equal(t, tt.port, port)
		})
	}
}

func TestParseBigNumbersKeepTheirText(t *testing.T) {
	inv, err := Parse([]byte(`{"all": {"vars": {"id": 123456789012345678901234567890, "f": 1e400}}}`))
	require.NoError(t, err)
	assert.Equal(t, json.Number("123456789012345678901234567890"), inv.Vars["id"])
	assert.Equal(t, json.Number("1e400"), inv.Vars["f"])
}
