package runner

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/inventory"
)

var update = flag.Bool("update", false, "rewrite testdata/plan/*.golden")

// The plan of each kind of target, as Prepare returns it and `arunner run
// --dry-run` prints it, is golden: testdata/plan/<name>.golden (-update
// rewrites them). Paths that change from run to run are replaced by names.
func TestPlanGolden(t *testing.T) {
	// The plan prints the environment the run adds to this process's: the
	// same for everyone with a fixed one.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		t.Setenv(k, "") // restored at the end
		os.Unsetenv(k)
	}
	t.Setenv("PATH", "/usr/bin:/bin")
	t.Setenv("TMPDIR", "/tmp")
	model := inventory.New()
	model.AddHost("web1", "web").Vars = map[string]any{"ansible_connection": "local"}
	for name, tt := range map[string]struct {
		target Target
		set    func(*Config)
	}{
		"playbook": {target: Playbook{Path: "site.yml", Switches: Switches{Limit: "web", Forks: 3, Check: true}, Tags: []string{"deploy"}},
			set: func(c *Config) { c.ExtraVars = map[string]any{"release": "2.4.1"} }},
		"playbook-inline": {target: Playbook{Content: []byte("- hosts: all\n  tasks: []\n")},
			set: func(c *Config) { c.Inventory = Inventory{Text: "localhost ansible_connection=local\n"} }},
		"playbook-credentials": {target: Playbook{Path: "site.yml", Switches: Switches{Become: true}},
			set: func(c *Config) {
				c.Credentials = []credentials.Credential{
					credentials.Machine{Username: "deploy", BecomeMethod: "sudo", BecomePassword: "s3cret-become"},
					credentials.Vault{VaultID: "prod", VaultPassword: "s3cret-vault"},
				}
				c.EnvVars["API_TOKEN"] = "s3cret-vault"
			}},
		"adhoc": {target: AdHoc{Module: "shell", Args: "uptime", Hosts: "web", Switches: Switches{Become: true, Verbosity: 2}},
			set: func(c *Config) { c.Inventory = Inventory{Model: model} }},
		"role": {target: Role{Name: "greet", Vars: map[string]any{"greeting": "hi"}, Hosts: "web", SkipFacts: true, RolesPath: []string{"/srv/roles"}}},
		"command": {target: RawCommand{Argv: []string{"ansible-inventory", "--list", "-i", "hosts, with space"}},
			set: func(c *Config) { c.Binary = "" }},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fakeConfig(t, "env")
			cfg.Binary = ""
			cfg.Ident = "golden"
			cfg.EnvVars = map[string]string{"GREETING": "hello"}
			cfg.Target = tt.target
			if tt.set != nil {
				tt.set(&cfg)
			}
			plan, err := Prepare(context.Background(), cfg)
			require.NoError(t, err)
			got := plan.String()
			assert.NotContains(t, got, "s3cret")
			got = strings.ReplaceAll(got, plan.scratch, "$SCRATCH")
			got = strings.ReplaceAll(got, cfg.PrivateDataDir, "$PDD")
			got = regexp.MustCompile(`arunner-(role|playbook)-[0-9a-f]{32}`).ReplaceAllString(got, "arunner-$1-ID")

			path := filepath.Join("testdata", "plan", name+".golden")
			if *update {
				must(t, os.MkdirAll(filepath.Dir(path), 0o755))
				must(t, os.WriteFile(path, []byte(got), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run with -update to create it")
			assert.Equal(t, string(want), got)

			// Preparing wrote nothing: no artifacts dir, no scratch dir,
			// no generated playbook.
			assert.NoDirExists(t, plan.ArtifactDir)
			assert.NoDirExists(t, plan.scratch)
			generated, _ := filepath.Glob(filepath.Join(cfg.PrivateDataDir, "project", "arunner-*"))
			assert.Empty(t, generated)
		})
	}
}

// A target that contradicts itself or the fields beside it is refused with
// a *ConfigError before anything starts, and nothing is written.
func TestContradictoryTargets(t *testing.T) {
	for name, tt := range map[string]struct {
		set   func(*Config)
		field string
		want  string
	}{
		"playbook path and content": {func(c *Config) { c.Target = Playbook{Path: "site.yml", Content: []byte("[]")} }, "Target", "Path or Content, not both"},
		"playbook with neither":     {func(c *Config) { c.Target = Playbook{} }, "Target", "needs Path or Content"},
		"adhoc without module":      {func(c *Config) { c.Target = AdHoc{Hosts: "all"} }, "Target", "needs a Module"},
		"role without name":         {func(c *Config) { c.Target = Role{Hosts: "all"} }, "Target", "needs a Name"},
		"empty command":             {func(c *Config) { c.Target, c.Binary = RawCommand{}, "" }, "Target", "needs a command line"},
		"pointer target":            {func(c *Config) { c.Target = &Playbook{Path: "site.yml"} }, "Target", "not a pointer"},
		"command and binary":        {func(c *Config) { c.Target = RawCommand{Argv: []string{"true"}} }, "Binary", "does not apply to a RawCommand"},
		"command and inventory": {func(c *Config) {
			c.Target, c.Binary, c.Inventory = RawCommand{Argv: []string{"true"}}, "", Inventory{Sources: []string{"hosts"}}
		}, "Inventory", "does not apply to a RawCommand"},
		"command and extra vars": {func(c *Config) {
			c.Target, c.Binary, c.ExtraVars = RawCommand{Argv: []string{"true"}}, "", map[string]any{"a": 1}
		}, "ExtraVars", "does not apply to a RawCommand"},
		"two inventories": {func(c *Config) { c.Inventory = Inventory{Sources: []string{"hosts"}, Text: "localhost"} }, "Inventory", "at most one"},
		"project dir and fs": {func(c *Config) {
			c.ProjectDir, c.ProjectFS = c.PrivateDataDir, os.DirFS(c.PrivateDataDir)
		}, "ProjectFS", "at most one"},
		"no target": {func(c *Config) { c.Target = nil }, "Target", "required"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fakeConfig(t, "env")
			tt.set(&cfg)
			_, err := Prepare(context.Background(), cfg)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.field, ce.Field)
			assert.Contains(t, ce.Error(), tt.want)

			res, err := Run(context.Background(), cfg)
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, StatusError, res.Status)
			assert.NoDirExists(t, filepath.Join(res.ArtifactDir, runtimeName))
		})
	}
}

// Inline content runs without a privdata.Write: the playbook is written in
// the project dir and the inventory in the runtime dir for the run, and
// both are gone after it; the private data dir's own inventory is left as
// it is.
func TestInlineContentFake(t *testing.T) {
	cfg := fakeConfig(t, "env")
	cfg.Target = Playbook{Content: []byte("- hosts: all\n  tasks: []\n")}
	cfg.Inventory = Inventory{Text: "inline-host\n"}
	res, rep := runEnvFake(t, cfg)
	require.Equal(t, StatusSuccessful, res.Status)
	require.GreaterOrEqual(t, len(rep.Args), 3)
	assert.Equal(t, "-i", rep.Args[0])
	assert.Equal(t, filepath.Join(res.ArtifactDir, runtimeName, "inventory"), rep.Args[1])
	playbook := rep.Args[len(rep.Args)-1]
	assert.Regexp(t, `^arunner-playbook-[0-9a-f]{32}\.yml$`, playbook)
	assert.Equal(t, "inline-host\n", rep.Inputs[rep.Args[1]])
	assert.Equal(t, "- hosts: all\n  tasks: []\n", rep.Inputs[playbook])
	assert.NoFileExists(t, rep.Args[1])
	left, _ := filepath.Glob(filepath.Join(cfg.PrivateDataDir, "project", "arunner-*"))
	assert.Empty(t, left)
	hosts, err := os.ReadFile(filepath.Join(cfg.PrivateDataDir, "inventory", "hosts"))
	require.NoError(t, err)
	assert.Contains(t, string(hosts), "localhost")
}
