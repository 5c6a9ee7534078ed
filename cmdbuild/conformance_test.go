package cmdbuild

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// conformanceScript builds each case with the reference ansible-runner
// (RunnerConfig.prepare for playbook and ad hoc runs, InventoryConfig for
// ansible-inventory) and prints the resulting argv lists as JSON.
const conformanceScript = `
import json, sys
from ansible_runner.config.runner import RunnerConfig
from ansible_runner.config.inventory import InventoryConfig
cases = json.load(sys.stdin)
out = []
for c in cases:
    if c.pop("kind") == "inventory":
        ic = InventoryConfig(private_data_dir=c.pop("private_data_dir"))
        ic.prepare_inventory_command(**c)
        out.append(["ansible-inventory"] + ic.command[1:])
        continue
    rc = RunnerConfig(**c)
    rc.prepare()
    out.append(rc.command)
json.dump(out, sys.stdout)
`

type conformanceCase struct {
	name string
	py   map[string]any // RunnerConfig / prepare_inventory_command kwargs
	ours interface{ Args() ([]string, error) }
}

// TestMatchesAnsibleRunner runs the reference implementation on a real
// private data dir and requires our argv to be identical for the inputs
// ansible-runner understands.
func TestMatchesAnsibleRunner(t *testing.T) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import ansible_runner.config.runner").Run(); err != nil {
		t.Skipf("%s cannot import ansible_runner: %v", py, err)
	}
	pdd := t.TempDir()
	for _, d := range []string{"project", "env", "inventory"} {
		require.NoError(t, os.Mkdir(filepath.Join(pdd, d), 0o700))
	}
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte("- hosts: all\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "env", "extravars"), []byte("a: 1\n"), 0o600))
	inv := filepath.Join(pdd, "inventory")
	ev := filepath.Join(pdd, "env", "extravars")

	const cmdline = `--diff --flush-cache -e "@/tmp/x y.yml"`
	cmdTokens, err := Split(cmdline)
	require.NoError(t, err)

	cases := []conformanceCase{
		{"playbook minimal",
			map[string]any{"playbook": "site.yml"},
			Playbook{Inventory: []string{inv}, ExtraVarsFiles: []string{ev}, Playbook: "site.yml"}},
		{"playbook all runner options",
			map[string]any{"playbook": "site.yml", "cmdline": cmdline, "limit": "web:!db", "forks": 5,
				"verbosity": 3, "tags": "a,b", "skip_tags": "c"},
			Playbook{
				Cmdline:        cmdTokens,
				Inventory:      []string{inv},
				ExtraVarsFiles: []string{ev},
				Tags:           []string{"a", "b"},
				SkipTags:       []string{"c"},
				Playbook:       "site.yml",
				Switches:       Switches{Limit: "web:!db", Verbosity: 3, Forks: 5},
			}},
		// No "binary" here: ansible-runner then switches to raw mode and
		// drops the playbook, a quirk Playbook.Binary does not copy.
		{"playbook explicit inventories",
			map[string]any{"playbook": "site.yml", "inventory": []string{"/a", "h1,h2,"}, "verbosity": 5},
			Playbook{
				Inventory:      []string{"/a", "h1,h2,"},
				ExtraVarsFiles: []string{ev},
				Playbook:       "site.yml",
				Switches:       Switches{Verbosity: 5},
			}},
		{"ad hoc",
			map[string]any{"module": "shell", "module_args": "echo 'hi there'", "host_pattern": "all",
				"limit": "web", "forks": 2, "verbosity": 1},
			AdHoc{
				Inventory:      []string{inv},
				ExtraVarsFiles: []string{ev},
				Module:         "shell",
				ModuleArgs:     "echo 'hi there'",
				HostPattern:    "all",
				Switches:       Switches{Limit: "web", Verbosity: 1, Forks: 2},
			}},
		{"inventory host",
			map[string]any{"kind": "inventory", "action": "host", "host": "web1", "inventories": []string{inv, "/b"},
				"response_format": "yaml", "playbook_dir": "/pdd/project", "vault_ids": "dev@prompt",
				"output_file": "/tmp/out", "export": true},
			Inventory{Action: "host", Host: "web1", Inventory: []string{inv, "/b"}, Yaml: true,
				PlaybookDir: "/pdd/project", VaultIDs: []string{"dev"}, Output: "/tmp/out", Export: true}},
		{"inventory list toml",
			map[string]any{"kind": "inventory", "action": "list", "inventories": []string{inv}, "response_format": "toml"},
			Inventory{Inventory: []string{inv}, Toml: true}},
		{"inventory graph",
			map[string]any{"kind": "inventory", "action": "graph", "inventories": []string{inv}},
			Inventory{Action: "graph", Inventory: []string{inv}}},
	}
	var kwargs []map[string]any
	for _, c := range cases {
		if _, ok := c.py["kind"]; !ok {
			c.py["kind"] = "runner"
		}
		c.py["private_data_dir"] = pdd
		kwargs = append(kwargs, c.py)
	}
	in, err := json.Marshal(kwargs)
	require.NoError(t, err)
	cmd := exec.Command(py, "-c", conformanceScript)
	cmd.Stdin = strings.NewReader(string(in))
	cmd.Dir = pdd
	var stderr strings.Builder
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	require.NoError(t, err, "reference failed: %s", stderr.String())
	var want [][]string
	require.NoError(t, json.Unmarshal(raw, &want))
	require.Len(t, want, len(cases))
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.ours.Args()
			require.NoError(t, err)
			assert.Equal(t, want[i], got)
		})
	}
}
