package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An args file in the private data dir is what runs, as in ansible-runner:
// it wins over Playbook (even a missing one), Module, Role and Binary.
// Config.Command alone goes before it.
func TestArgsFileWinsOverEverything(t *testing.T) {
	for name, set := range map[string]func(*Config){
		"playbook":         func(c *Config) {},
		"missing playbook": func(c *Config) { c.Target = Playbook{Path: "nope.yml"} },
		"module":           func(c *Config) { c.Target = AdHoc{Module: "ping"} },
		"role":             func(c *Config) { c.Target = Role{Name: "web"} },
		"nothing":          func(c *Config) { c.Target = nil },
		"binary":           func(c *Config) { c.Binary = "/nonexistent/ansible-playbook" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fakeConfig(t, "env")
			must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "args"), []byte(os.Args[0]+" 'from args' --flag\n"), 0o600))
			set(&cfg)
			res, rep := runEnvFake(t, cfg)
			assert.Equal(t, []string{"from args", "--flag"}, rep.Args)
			assert.Equal(t, []string{os.Args[0], "from args", "--flag"}, res.Command)
			assert.Equal(t, StatusSuccessful, res.Status)
		})
	}

	cfg := fakeConfig(t, "env")
	must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "args"), []byte("/nonexistent/from-args\n"), 0o600))
	cfg.Target, cfg.Binary = RawCommand{Argv: []string{os.Args[0], "from Command"}}, ""
	_, rep := runEnvFake(t, cfg)
	assert.Equal(t, []string{"from Command"}, rep.Args)
}

// Where the command runs is chosen as ansible-runner chooses it: the
// project dir, except for ad hoc runs (Module, or AD_HOC_COMMAND_ID in the
// run's environment), which work in the private data dir.
func TestWorkDir(t *testing.T) {
	for name, tt := range map[string]struct {
		set  func(*Config)
		args bool // an args file runs
		want string
	}{
		"playbook":            {set: func(c *Config) {}, want: "project"},
		"module":              {set: func(c *Config) { c.Target = AdHoc{Module: "ping"} }, want: "."},
		"module, project dir": {set: func(c *Config) { c.Target, c.ProjectDir = AdHoc{Module: "ping"}, "/nonexistent" }, want: "."},
		// The playbook is then looked for relative to the private data dir.
		"AD_HOC_COMMAND_ID": {set: func(c *Config) { c.EnvVars["AD_HOC_COMMAND_ID"], c.Target = "7", Playbook{Path: "project/site.yml"} }, want: "."},
		"args file":         {set: func(c *Config) {}, args: true, want: "project"},
		"args file, module": {set: func(c *Config) { c.Target = AdHoc{Module: "ping"} }, args: true, want: "."},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fakeConfig(t, "env")
			if tt.args {
				must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "args"), []byte(os.Args[0]+"\n"), 0o600))
			}
			tt.set(&cfg)
			res, _ := runEnvFake(t, cfg)
			want := filepath.Join(cfg.PrivateDataDir, tt.want)
			assert.Equal(t, want, res.Cwd)
			var cmd struct {
				Cwd string `json:"cwd"`
			}
			readJSON(t, filepath.Join(res.ArtifactDir, "command"), &cmd)
			assert.Equal(t, want, cmd.Cwd, "command artifact")
		})
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v), path)
}
