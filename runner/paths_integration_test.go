package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/factcache"
)

// pathSpecials is in every path of the tests below: ':' (ansible splits
// ANSIBLE_CALLBACK_PLUGINS and ANSIBLE_ROLES_PATH on it), non-ASCII letters
// and a space.
const pathSpecials = ":10:00 ü ж"

// Real ansible runs with ':' and unicode in the ident, the private data dir,
// the artifacts dir, the project dir and the roles path: the callback plugin
// is found, the role is found, facts are cached, and nothing is left. The
// extra vars, whose file is gone by then, hold in a second play.
func TestSpecialCharactersInPaths(t *testing.T) {
	needBinaries(t)
	base := filepath.Join(t.TempDir(), "base"+pathSpecials)
	pdd := filepath.Join(base, "pdd"+pathSpecials)
	project := filepath.Join(base, "project"+pathSpecials)
	roles := filepath.Join(base, "roles"+pathSpecials)
	artifacts := filepath.Join(base, "artifacts"+pathSpecials)
	for _, d := range []string{filepath.Join(pdd, "inventory"), filepath.Join(pdd, "roles", "pddrole", "tasks"),
		project, filepath.Join(roles, "greet", "tasks")} {
		must(t, os.MkdirAll(d, 0o700))
	}
	must(t, os.WriteFile(filepath.Join(pdd, "inventory", "hosts"), []byte(
		"localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(roles, "greet", "tasks", "main.yml"), []byte(`
- set_fact:
    greeting: "hello {{ who }}"
    cacheable: true
- include_role:
    name: pddrole
`), 0o600))
	must(t, os.WriteFile(filepath.Join(pdd, "roles", "pddrole", "tasks", "main.yml"), []byte(`
- debug:
    msg: "{{ greeting }} from pddrole"
`), 0o600))
	must(t, os.WriteFile(filepath.Join(project, "site.yml"), []byte(`
- hosts: all
  gather_facts: false
  tasks:
    - assert:
        that: who == "world"
- hosts: all
  gather_facts: false
  tasks:
    - pause:
        seconds: 1
    - assert:
        that:
          - who == "world"
          - xvpath is not exists
`), 0o600))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run := func(t *testing.T, cfg Config) *Result {
		t.Helper()
		cfg.PrivateDataDir = pdd
		root := cfg.ArtifactDir
		if root == "" {
			root = filepath.Join(pdd, "artifacts")
		}
		cfg.ExtraVars = map[string]any{"who": "world", "xvpath": filepath.Join(root, cfg.Ident, runtimeName, "extravars.json")}
		trackLeaks(t, &cfg)
		res, err := Run(ctx, cfg)
		require.NoError(t, err, "stdout: %s", readArtifact(t, res, "stdout"))
		assert.Equal(t, StatusSuccessful, res.Status)
		n := 0
		for ev, err := range res.Events() {
			require.NoError(t, err)
			if ev.Event == "runner_on_ok" {
				n++
			}
		}
		assert.Positive(t, n, "the callback plugin's events reach job_events")
		assertNoSecrets(t, res, nil, "hello world")
		return res
	}

	t.Run("role", func(t *testing.T) {
		store, err := factcache.NewDirStore(t.TempDir())
		require.NoError(t, err)
		res := run(t, Config{
			Ident: "job-2024-01-01T10:00:00-ü", ArtifactDir: artifacts, ProjectDir: project,
			Target:    Role{Name: "greet", RolesPath: []string{roles}, SkipFacts: true},
			FactCache: &FactCache{Store: store},
		})
		assert.Equal(t, filepath.Join(artifacts, "job-2024-01-01T10:00:00-ü"), res.ArtifactDir)
		assert.Contains(t, readArtifact(t, res, "stdout"), "hello world from pddrole")
		facts, err := res.GetFactCache("localhost")
		require.NoError(t, err)
		assert.Equal(t, "hello world", facts["greeting"], "ansible wrote the fact cache in the artifacts")
	})
	for _, noPTY := range []bool{false, true} {
		t.Run(fmt.Sprintf("playbook noPTY=%v", noPTY), func(t *testing.T) {
			ident := fmt.Sprintf("pb%v:%s", noPTY, pathSpecials)
			res := run(t, Config{Ident: ident, ProjectDir: project, Target: Playbook{Path: "site.yml"}, NoPTY: noPTY})
			assert.Equal(t, filepath.Join(pdd, "artifacts", ident), res.ArtifactDir)
		})
	}
	// ansible expands $VAR in the path of -e @file: the runner's own go
	// where it does not.
	t.Run("artifacts dir with $HOME", func(t *testing.T) {
		res := run(t, Config{Ident: "dollar", ArtifactDir: filepath.Join(base, "art $HOME,%C{"), ProjectDir: project, Target: Playbook{Path: "site.yml"}})
		assert.Equal(t, filepath.Join(base, "art $HOME,%C{", "dollar"), res.ArtifactDir)
	})
	t.Run("ad hoc", func(t *testing.T) {
		res := run(t, Config{Ident: "adhoc:" + pathSpecials, Target: AdHoc{Module: "debug", Args: "msg='who={{ who | upper }}'"}})
		assert.Contains(t, readArtifact(t, res, "stdout"), "who=WORLD")
	})
}
