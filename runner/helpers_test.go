package runner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/inventory"
)

// shellWrap replaces whatever command a helper builds with a shell script,
// so that parsing and error paths are tested without ansible.
func shellWrap(script string) func(*Command) error {
	return func(c *Command) error {
		c.Argv = []string{"/bin/sh", "-c", script}
		return nil
	}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]any
		wantErr bool
	}{
		{name: "plain", in: `{"a": "b"}`, want: map[string]any{"a": "b"}},
		{name: "warning before", in: "[WARNING]: something\n{\"a\": \"b\"}\n", want: map[string]any{"a": "b"}},
		{name: "empty object", in: "{}", want: map[string]any{}},
		{name: "empty", in: "", wantErr: true},
		{name: "text only", in: "ERROR! nope\n", wantErr: true},
		{name: "truncated", in: `{"a": `, wantErr: true},
		{name: "array", in: `[1, 2]`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeJSON[map[string]any]([]byte(tt.in))
			if tt.wantErr {
				assert.ErrorIs(t, err, ErrNotJSON)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestTail(t *testing.T) {
	assert.Equal(t, "a\nb", tail([]byte("\n a\nb \n")))
	long := strings.Repeat("x", 100) + "\n" + strings.Repeat("line\n", maxMessage/5+10) + "ERROR! last"
	got := tail([]byte(long))
	assert.LessOrEqual(t, len(got), maxMessage)
	assert.True(t, strings.HasPrefix(got, "line\n"), "cut at a line start")
	assert.True(t, strings.HasSuffix(got, "ERROR! last"))
}

// The helpers' plumbing, with the command replaced by a shell script: JSON
// after a warning is parsed, garbage is a CommandError naming the command,
// a failure carries its stderr and still matches *ExitError.
func TestHelpersWithFakeCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("docs after a warning", func(t *testing.T) {
		t.Parallel()
		got, res, err := GetPluginDocs(ctx, Config{Wrap: shellWrap(`echo '[WARNING]: x'; echo '{"ping": {"doc": {"module": "ping"}}}'`)}, "module", "ping")
		require.NoError(t, err)
		assert.Equal(t, map[string]any{"ping": map[string]any{"doc": map[string]any{"module": "ping"}}}, got)
		assert.Equal(t, []string{"/bin/sh", "-c"}, res.Command[:2])
		assert.Empty(t, res.ArtifactDir, "the temporary private data dir is gone")
	})
	t.Run("list with non-string description", func(t *testing.T) {
		t.Parallel()
		got, _, err := GetPluginList(ctx, Config{Wrap: shellWrap(`echo '{"a.b.c": "Does c", "a.b.d": ["x"]}'`)}, "module", "")
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"a.b.c": "Does c", "a.b.d": `["x"]`}, got)
	})
	t.Run("not JSON", func(t *testing.T) {
		t.Parallel()
		_, _, err := GetRoleList(ctx, Config{Wrap: shellWrap(`echo 'no roles here'; echo oops >&2`)}, "", "")
		var ce *CommandError
		require.ErrorAs(t, err, &ce)
		assert.ErrorIs(t, err, ErrNotJSON)
		assert.Equal(t, "oops", ce.Message)
		assert.Contains(t, err.Error(), "/bin/sh -c")
	})
	t.Run("failure carries stderr", func(t *testing.T) {
		t.Parallel()
		_, res, err := GetPluginDocs(ctx, Config{Wrap: shellWrap(`echo 'ERROR! module nope not found' >&2; exit 3`)}, "", "nope")
		var ce *CommandError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "ERROR! module nope not found", ce.Message)
		var exit *ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 3, exit.RC)
		assert.Equal(t, StatusFailed, res.Status)
		assert.Contains(t, err.Error(), "ERROR! module nope not found")
	})
	t.Run("secrets redacted from the message", func(t *testing.T) {
		t.Parallel()
		_, _, err := GetPluginDocs(ctx, Config{
			Passwords:   []Password{{Pattern: "Vault password:", Response: "s3cr3t-pw"}},
			Credentials: []credentials.Credential{credentials.Vault{VaultPassword: "vault-phrase"}},
			Wrap:        shellWrap(`echo 'ERROR! bad s3cr3t-pw and vault-phrase' >&2; exit 1`),
		}, "", "x")
		var ce *CommandError
		require.ErrorAs(t, err, &ce)
		assert.NotContains(t, err.Error(), "s3cr3t-pw")
		assert.NotContains(t, err.Error(), "vault-phrase")
		assert.Contains(t, ce.Message, "ERROR! bad ")
	})
	t.Run("env/passwords secrets redacted from the message", func(t *testing.T) {
		t.Parallel()
		pdd := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(pdd, "env"), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(pdd, "env", "passwords"), []byte(`{"Password:": "from-the-file-pw"}`), 0o600))
		_, _, err := GetPluginDocs(ctx, Config{
			PrivateDataDir: pdd,
			Wrap:           shellWrap(`echo 'ERROR! bad from-the-file-pw' >&2; exit 1`),
		}, "", "x")
		var ce *CommandError
		require.ErrorAs(t, err, &ce)
		assert.NotContains(t, err.Error(), "from-the-file-pw")
		assert.Contains(t, ce.Message, "ERROR! bad **********")
	})
	t.Run("failure on stdout only", func(t *testing.T) {
		t.Parallel()
		_, _, err := GetAnsibleConfig(ctx, Config{Wrap: shellWrap(`echo 'bad config'; exit 1`)}, "view", false)
		var ce *CommandError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "bad config", ce.Message)
	})
	t.Run("caller's private data dir is kept", func(t *testing.T) {
		t.Parallel()
		pdd := t.TempDir()
		out, errOut, res, err := RunCommand(ctx, Config{PrivateDataDir: pdd, Ident: "cmd", NoPTY: true,
			Wrap: shellWrap(`echo out; echo err >&2`)}, "anything")
		require.NoError(t, err)
		assert.Equal(t, "out\n", out)
		assert.Equal(t, "err\n", errOut)
		assert.Equal(t, filepath.Join(pdd, "artifacts", "cmd"), res.ArtifactDir)
		assert.FileExists(t, filepath.Join(res.ArtifactDir, "stdout"))
	})
	t.Run("inventory written to the artifacts", func(t *testing.T) {
		t.Parallel()
		// The fake plays ansible-inventory: it writes its JSON where
		// --output says, which is the last-but-one argument.
		script := `for a; do out=$prev; prev=$a; done; printf '{"web": {"hosts": ["w1"]}}' > "$out"`
		inv, res, err := GetInventory(ctx, Config{PrivateDataDir: t.TempDir(), Wrap: func(c *Command) error {
			c.Argv = append([]string{"/bin/sh", "-c", script, "sh"}, c.Argv...)
			return nil
		}}, "h1,h2,")
		require.NoError(t, err)
		assert.Equal(t, []string{"w1"}, inv.GroupHosts("web"))
		assert.Equal(t, []string{"ansible-inventory", "--list", "-i", "h1,h2,", "--output",
			filepath.Join(res.ArtifactDir, "inventory.json"), "--export"}, res.Command[4:])
	})
	t.Run("inventory garbage", func(t *testing.T) {
		t.Parallel()
		script := `for a; do out=$prev; prev=$a; done; printf '{"web": 3}' > "$out"`
		_, _, err := GetInventory(ctx, Config{Wrap: func(c *Command) error {
			c.Argv = append([]string{"/bin/sh", "-c", script, "sh"}, c.Argv...)
			return nil
		}}, "h1,")
		var ce *CommandError
		require.ErrorAs(t, err, &ce)
		assert.ErrorIs(t, err, inventory.ErrShape)
	})
}

func TestHelperBadInput(t *testing.T) {
	ctx := context.Background()
	var cfgErr *ConfigError
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"no argv", func() error { _, _, _, err := RunCommand(ctx, Config{}); return err }, "argv"},
		{"no plugin names", func() error { _, _, err := GetPluginDocs(ctx, Config{}, "module"); return err }, "names"},
		{"bad config action", func() error { _, _, err := GetAnsibleConfig(ctx, Config{}, "show", false); return err }, "action"},
		{"only changed with list", func() error { _, _, err := GetAnsibleConfig(ctx, Config{}, "list", true); return err }, "onlyChanged"},
		{"no role", func() error { _, _, err := GetRoleArgspec(ctx, Config{}, "", "", ""); return err }, "role"},
		{"missing source", func() error {
			_, _, err := GetInventory(ctx, Config{}, filepath.Join(t.TempDir(), "nope.ini"))
			return err
		}, "sources"},
		{"bad private data dir", func() error {
			file := filepath.Join(t.TempDir(), "file")
			must(t, os.WriteFile(file, nil, 0o600))
			_, _, _, err := RunCommand(ctx, Config{PrivateDataDir: filepath.Join(file, "pdd")}, "ansible", "--version")
			return err
		}, "PrivateDataDir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			require.ErrorAs(t, err, &cfgErr)
			assert.Equal(t, tt.field, cfgErr.Field)
		})
	}
}

// A helper's temporary private data dir is created 0700 under TMPDIR and
// removed afterwards.
func TestHelperTempDirRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	var seen string
	out, _, res, err := RunCommand(context.Background(), Config{NoPTY: true, Wrap: func(c *Command) error {
		seen = c.Env["AWX_ISOLATED_DATA_DIR"]
		c.Argv = []string{"/bin/sh", "-c", "stat -c %a ..; echo done"} // .. is the private data dir
		c.Dir = filepath.Dir(seen)                                     // the artifacts dir
		return nil
	}}, "ansible", "--version")
	require.NoError(t, err)
	assert.Equal(t, StatusSuccessful, res.Status)
	assert.Equal(t, "700\ndone\n", out)
	assert.True(t, strings.HasPrefix(seen, tmp+"/.arunner-"), seen)
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	assert.Empty(t, entries)
	assert.Empty(t, res.ArtifactDir)
}

// Real ansible-core.

func TestGetInventoryReal(t *testing.T) {
	needAnsible(t)
	t.Parallel()
	const ini = `[web]
w1 ansible_host=127.0.0.1
w2:2222

[db]
d1 os=debian

[prod:children]
web
db

[prod:vars]
tier=prod
`
	const yml = `all:
  vars:
    region: local
  children:
    cache:
      hosts:
        c1:
          os: alpine
        d1:
`
	const constructed = `plugin: ansible.builtin.constructed
strict: true
keyed_groups:
  - key: os
    prefix: os
`
	const script = "#!/bin/sh\nif [ \"$1\" = --list ]; then\n" +
		`echo '{"scripted": {"hosts": ["s1"], "vars": {"from": "script"}}, "_meta": {"hostvars": {"s1": {"n": 1}}}}'` +
		"\nelse echo '{}'; fi\n"

	// In a directory ansible skips *.ini (INVENTORY_IGNORE_EXTS), so the
	// INI files there have no extension.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"ini/hosts":              ini,
		"yaml/hosts.yml":         yml,
		"mixed/10-hosts":         ini,
		"mixed/20-more.yml":      yml,
		"constructed/hosts":      ini,
		"constructed/extra.yml":  yml,
		"constructed/zz-os.yml":  constructed,
		"private/inventory/main": "p1\n",
	})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "inv.sh"), []byte(script), 0o700))

	tests := []struct {
		name    string
		sources []string
		pdd     string
		check   func(t *testing.T, inv *inventory.Inventory)
	}{
		{name: "ini", sources: []string{filepath.Join(dir, "ini/hosts")}, check: func(t *testing.T, inv *inventory.Inventory) {
			assert.Equal(t, []string{"d1", "w1", "w2"}, inv.GroupHosts("prod"))
			assert.Equal(t, map[string]any{"tier": "prod"}, inv.Groups["prod"].Vars)
			assert.Equal(t, "127.0.0.1", inv.Hosts["w1"].Vars["ansible_host"])
			assert.EqualValues(t, "2222", jsonText(inv.Hosts["w2"].Vars["ansible_port"]))
		}},
		{name: "yaml", sources: []string{filepath.Join(dir, "yaml/hosts.yml")}, check: func(t *testing.T, inv *inventory.Inventory) {
			assert.Equal(t, []string{"c1", "d1"}, inv.GroupHosts("cache"))
			assert.Equal(t, map[string]any{"region": "local"}, inv.Vars)
			assert.Equal(t, "alpine", inv.Hosts["c1"].Vars["os"])
		}},
		{name: "directory mixing ini and yaml", sources: []string{filepath.Join(dir, "mixed")}, check: func(t *testing.T, inv *inventory.Inventory) {
			assert.Equal(t, []string{"d1", "w1", "w2"}, inv.GroupHosts("prod"))
			assert.Equal(t, []string{"c1", "d1"}, inv.GroupHosts("cache"))
			assert.Equal(t, []string{"cache", "db", "prod"}, inv.AllGroups("d1"))
		}},
		{name: "constructed keyed groups", sources: []string{filepath.Join(dir, "constructed")}, check: func(t *testing.T, inv *inventory.Inventory) {
			assert.Equal(t, []string{"d1"}, inv.GroupHosts("os_debian"))
			assert.Equal(t, []string{"c1"}, inv.GroupHosts("os_alpine"))
		}},
		{name: "script", sources: []string{filepath.Join(dir, "inv.sh")}, check: func(t *testing.T, inv *inventory.Inventory) {
			assert.Equal(t, []string{"s1"}, inv.GroupHosts("scripted"))
			assert.Equal(t, map[string]any{"from": "script"}, inv.Groups["scripted"].Vars)
			assert.Equal(t, "1", jsonText(inv.Hosts["s1"].Vars["n"]))
		}},
		{name: "private data dir inventory", pdd: filepath.Join(dir, "private"), check: func(t *testing.T, inv *inventory.Inventory) {
			assert.Equal(t, []string{"p1"}, inv.GroupHosts("all"))
		}},
		{name: "relative to the private data dir", sources: []string{"main"}, pdd: filepath.Join(dir, "private"), check: func(t *testing.T, inv *inventory.Inventory) {
			assert.Equal(t, []string{"p1"}, inv.GroupHosts("all"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pdd := tt.pdd
			if pdd == "" {
				pdd = t.TempDir()
			}
			inv, res, err := GetInventory(context.Background(), Config{PrivateDataDir: pdd}, tt.sources...)
			require.NoError(t, err)
			assert.Equal(t, StatusSuccessful, res.Status)
			assert.Equal(t, "ansible-inventory", res.Command[0])
			assert.FileExists(t, filepath.Join(res.ArtifactDir, "inventory.json"))
			tt.check(t, inv)
		})
	}
}

func jsonText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case interface{ String() string }:
		return v.String()
	}
	return ""
}

func TestGetInventoryFailureReal(t *testing.T) {
	needAnsible(t)
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "broken.yml")
	require.NoError(t, os.WriteFile(bad, []byte("plugin: constructed\nkeyed_groups: [\n"), 0o600))
	_, res, err := GetInventory(context.Background(), Config{
		EnvVars: map[string]string{"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True"},
	}, bad)
	var ce *CommandError
	require.ErrorAs(t, err, &ce)
	var exit *ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, StatusFailed, res.Status)
	assert.Contains(t, ce.Message, "ERROR!")
	assert.Contains(t, ce.Message, "broken.yml")
	assert.Contains(t, err.Error(), "ansible-inventory --list -i "+bad)

	// Without the setting ansible-inventory only warns; the env is what
	// made it fail, so it did reach the command.
	inv, _, err := GetInventory(context.Background(), Config{}, bad)
	require.NoError(t, err)
	assert.Empty(t, inv.Hosts)
}

func TestDocHelpersReal(t *testing.T) {
	needAnsible(t)
	t.Parallel()
	ctx := context.Background()

	t.Run("plugin docs", func(t *testing.T) {
		t.Parallel()
		docs, res, err := GetPluginDocs(ctx, Config{}, "module", "ansible.builtin.ping")
		require.NoError(t, err)
		assert.Equal(t, []string{"ansible-doc", "-j", "-t", "module", "ansible.builtin.ping"}, res.Command)
		ping, ok := docs["ansible.builtin.ping"].(map[string]any)
		require.True(t, ok, "%v", docs)
		doc, _ := ping["doc"].(map[string]any)
		assert.Equal(t, "ping", doc["module"])
		assert.Contains(t, ping, "examples")
	})
	t.Run("plugin list", func(t *testing.T) {
		t.Parallel()
		list, _, err := GetPluginList(ctx, Config{}, "module", "ansible.builtin")
		require.NoError(t, err)
		assert.Contains(t, list, "ansible.builtin.ping")
		assert.Contains(t, list["ansible.builtin.ping"], "pong")
	})
	t.Run("config dump", func(t *testing.T) {
		t.Parallel()
		all, _, err := GetAnsibleConfig(ctx, Config{}, "dump", false)
		require.NoError(t, err)
		assert.Contains(t, all, "DEFAULT_FORKS")
		changed, _, err := GetAnsibleConfig(ctx, Config{EnvVars: map[string]string{"ANSIBLE_FORKS": "17"}}, "dump", true)
		require.NoError(t, err)
		assert.Contains(t, changed, "DEFAULT_FORKS")
		assert.Contains(t, changed, "17")
		assert.Less(t, len(changed), len(all))
	})
	t.Run("role list and argspec", func(t *testing.T) {
		t.Parallel()
		pb := t.TempDir()
		writeTree(t, pb, map[string]string{
			"roles/webserver/tasks/main.yml": "- debug: {msg: hi}\n",
			"roles/webserver/meta/argument_specs.yml": `argument_specs:
  main:
    short_description: Sets up a web server
    options:
      port:
        type: int
        required: true
        description: Port to listen on
`,
		})
		roles, _, err := GetRoleList(ctx, Config{}, "", pb)
		require.NoError(t, err)
		web, ok := roles["webserver"].(map[string]any)
		require.True(t, ok, "webserver missing from %v", slices.Sorted(mapsKeys(roles)))
		assert.Equal(t, map[string]any{"main": "Sets up a web server"}, web["entry_points"])

		spec, _, err := GetRoleArgspec(ctx, Config{}, "webserver", "", pb)
		require.NoError(t, err)
		web, ok = spec["webserver"].(map[string]any)
		require.True(t, ok, "%v", spec)
		main := web["entry_points"].(map[string]any)["main"].(map[string]any)
		port := main["options"].(map[string]any)["port"].(map[string]any)
		assert.Equal(t, "int", port["type"])
	})
	t.Run("run command", func(t *testing.T) {
		t.Parallel()
		out, _, res, err := RunCommand(ctx, Config{}, "ansible", "--version")
		require.NoError(t, err)
		assert.Contains(t, out, "ansible [core ")
		assert.Equal(t, 0, res.RC)
		// ansible-doc runs without a pty, as in ansible-runner, so its
		// warning stays on stderr.
		out, errOut, _, err := RunCommand(ctx, Config{}, "ansible-doc", "-t", "module", "no.such.module_x")
		require.NoError(t, err)
		assert.Empty(t, strings.TrimSpace(out))
		assert.Contains(t, errOut, "no.such.module_x was not found")
	})
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
