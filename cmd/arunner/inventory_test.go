package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const iniInventory = `lonely

[web]
web1 ansible_host=127.0.0.1 http_port=80
web2:2222

[db]
db1

[prod:children]
web
db

[prod:vars]
env=prod
`

// arunner inventory -i SRC prints the typed model of what real
// ansible-inventory reads, for each kind of source: `all` holds the
// top-level groups and the hosts of no group; every group has hosts,
// children and vars; every host its vars.
func TestInventoryCommand(t *testing.T) {
	if _, err := exec.LookPath("ansible-inventory"); err != nil {
		t.Skip("ansible-inventory is not installed")
	}
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		require.NoError(t, os.WriteFile(p, []byte(text), mode))
		return p
	}
	inventory := func(t *testing.T, src string) map[string]any {
		var stdout, stderr bytes.Buffer
		require.Equal(t, 0, realMain([]string{"inventory", "-i", src}, &stdout, &stderr), stderr.String())
		var m map[string]any
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &m), stdout.String())
		return m
	}

	t.Run("ini", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		require.Equal(t, 0, realMain([]string{"inventory", "-i", write("hosts.ini", iniInventory, 0o600)}, &stdout, &stderr), stderr.String())
		assert.JSONEq(t, `{
  "groups": {
    "all": {"hosts": ["lonely"], "children": ["prod"], "vars": {}},
    "db": {"hosts": ["db1"], "children": [], "vars": {}},
    "prod": {"hosts": [], "children": ["web", "db"], "vars": {"env": "prod"}},
    "web": {"hosts": ["web1", "web2"], "children": [], "vars": {}}
  },
  "hosts": {
    "db1": {"vars": {}},
    "lonely": {"vars": {}},
    "web1": {"vars": {"ansible_host": "127.0.0.1", "http_port": 80}},
    "web2": {"vars": {"ansible_port": 2222}}
  }
}`, stdout.String())
	})

	t.Run("yaml", func(t *testing.T) {
		m := inventory(t, write("hosts.yml", `all:
  vars: {region: eu}
  hosts:
    solo: {}
  children:
    app:
      hosts:
        app1: {port: 8080}
`, 0o600))
		assert.Equal(t, map[string]any{"hosts": []any{"solo"}, "children": []any{"app"}, "vars": map[string]any{"region": "eu"}}, m["groups"].(map[string]any)["all"])
		assert.Equal(t, map[string]any{"hosts": []any{"app1"}, "children": []any{}, "vars": map[string]any{}}, m["groups"].(map[string]any)["app"])
		assert.Equal(t, map[string]any{"vars": map[string]any{"port": float64(8080)}}, m["hosts"].(map[string]any)["app1"])
	})

	t.Run("dir with constructed", func(t *testing.T) {
		// A dir of sources: an INI file, a YAML file, and a constructed
		// plugin config that groups what the others made (sources are
		// read in name order).
		write("inv/01-hosts", iniInventory, 0o600) // .ini files in a dir are ignored
		write("inv/02-more.yml", "all:\n  children:\n    cache:\n      hosts:\n        redis1: {http_port: 6379}\n", 0o600)
		write("inv/03-constructed.yml", "plugin: ansible.builtin.constructed\nstrict: true\ngroups:\n  listens_high: http_port | default(0) | int > 100\n", 0o600)
		m := inventory(t, filepath.Join(dir, "inv"))
		groups := m["groups"].(map[string]any)
		assert.Equal(t, []any{"redis1"}, groups["listens_high"].(map[string]any)["hosts"], "constructed")
		assert.Equal(t, []any{"web1", "web2"}, groups["web"].(map[string]any)["hosts"], "INI")
		assert.Equal(t, []any{"redis1"}, groups["cache"].(map[string]any)["hosts"], "YAML")
		assert.ElementsMatch(t, []any{"cache", "listens_high", "prod"}, groups["all"].(map[string]any)["children"])
	})

	t.Run("script", func(t *testing.T) {
		m := inventory(t, write("inv.sh", `#!/bin/sh
if [ "$1" = --list ]; then
  echo '{"edge": {"hosts": ["e1", "e2"], "vars": {"tier": 1}}, "_meta": {"hostvars": {"e1": {"zone": "a"}}}}'
else
  echo '{}'
fi
`, 0o700))
		assert.Equal(t, map[string]any{"hosts": []any{"e1", "e2"}, "children": []any{}, "vars": map[string]any{"tier": float64(1)}}, m["groups"].(map[string]any)["edge"])
		assert.Equal(t, map[string]any{"vars": map[string]any{"zone": "a"}}, m["hosts"].(map[string]any)["e1"])
		assert.Equal(t, map[string]any{"vars": map[string]any{}}, m["hosts"].(map[string]any)["e2"])
	})

	// A broken source is an error, not an empty inventory.
	for name, src := range map[string]string{
		"broken ini": write("bad.ini", "[web\nweb1\n", 0o600),
		"bad script": write("bad.sh", "#!/bin/sh\necho not json\n", 0o700),
		"missing":    filepath.Join(dir, "nope.ini"),
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			assert.Equal(t, 1, realMain([]string{"inventory", "-i", src}, &stdout, &stderr))
			assert.Empty(t, stdout.String())
			assert.Contains(t, stderr.String(), "arunner: inventory ")
			assert.Contains(t, stderr.String(), filepath.Base(src))
		})
	}

	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, realMain([]string{"inventory"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "-i SOURCE is required")
}
