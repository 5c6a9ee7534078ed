package runner

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/inventory"
)

// Inline content on real ansible: a playbook given as data next to the
// project's files, an inventory given as text or as the inventory model,
// a project given as an fs.FS, all in a private data dir that holds
// nothing, and nothing of it left after the run.
func TestInlineContentAnsible(t *testing.T) {
	needAnsible(t)
	const play = `- hosts: web
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ lookup('file', 'motd.txt') }} from {{ inventory_hostname }} as {{ role_of_host }}"
`
	model := inventory.New()
	model.AddHost("w1", "web").Vars = map[string]any{
		"ansible_connection": "local", "ansible_python_interpreter": "/usr/bin/python3", "role_of_host": "model",
	}
	project := fstest.MapFS{
		"motd.txt": {Data: []byte("hello from the fs")},
		"site.yml": {Data: []byte(play)},
	}
	const text = "[web]\nw2 ansible_connection=local ansible_python_interpreter=/usr/bin/python3 role_of_host=text\n"
	for name, tt := range map[string]struct {
		target Target
		inv    Inventory
		fsys   bool
		want   string
	}{
		"inline playbook, text inventory":  {target: Playbook{Content: []byte(play)}, inv: Inventory{Text: text}, want: "hello from disk from w2 as text"},
		"inline playbook, model inventory": {target: Playbook{Content: []byte(play)}, inv: Inventory{Model: model}, want: "hello from disk from w1 as model"},
		"project fs, text inventory":       {target: Playbook{Path: "site.yml"}, inv: Inventory{Text: text}, fsys: true, want: "hello from the fs from w2 as text"},
	} {
		t.Run(name, func(t *testing.T) {
			pdd := t.TempDir()
			cfg := Config{PrivateDataDir: pdd, Ident: "inline", Target: tt.target, Inventory: tt.inv}
			if tt.fsys {
				cfg.ProjectFS = project
			} else {
				writeTree(t, pdd, map[string]string{"project/motd.txt": "hello from disk"})
			}
			res, err := Run(context.Background(), cfg)
			require.NoError(t, err)
			assert.Equal(t, StatusSuccessful, res.Status)
			out, err := os.ReadFile(res.StdoutPath())
			require.NoError(t, err)
			assert.Contains(t, string(out), tt.want)
			assert.NoDirExists(t, filepath.Join(res.ArtifactDir, runtimeName))
			left, _ := filepath.Glob(filepath.Join(pdd, "project", "arunner-*"))
			assert.Empty(t, left)
			assert.NoDirExists(t, filepath.Join(pdd, "inventory"))
		})
	}
}
