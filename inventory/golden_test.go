package inventory

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files and captured ansible-inventory output under testdata/")

// ansibleInventory runs the real `ansible-inventory --list --export` on src,
// skipping the test when ansible is not installed.
func ansibleInventory(t *testing.T, src string) []byte {
	t.Helper()
	bin, err := exec.LookPath("ansible-inventory")
	if err != nil {
		t.Skip("ansible-inventory not on PATH")
	}
	abs, err := filepath.Abs(src)
	require.NoError(t, err)
	cmd := exec.Command(bin, "-i", abs, "--list", "--export")
	cmd.Dir = t.TempDir() // keep any ansible.cfg in the package dir out of play
	cmd.Env = append(os.Environ(),
		"ANSIBLE_INVENTORY_UNPARSED_FAILED=True", // a source ansible cannot read must fail, not warn
		"ANSIBLE_INVENTORY_ENABLED=ini,yaml,script",
		"ANSIBLE_LOCAL_TEMP="+t.TempDir(),
	)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "ansible-inventory -i %s: %s", src, stderr.String())
	return out
}

// sources are the inventories ansible-inventory turns into the captured
// *.ansible.json inputs.
func sources(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{"testdata/*.ini", "testdata/*.yaml"} {
		m, err := filepath.Glob(pat)
		require.NoError(t, err)
		for _, f := range m {
			if !strings.HasSuffix(f, ".written.yaml") {
				out = append(out, f)
			}
		}
	}
	require.NotEmpty(t, out)
	return out
}

func stem(src string) string {
	return strings.TrimSuffix(src, filepath.Ext(src))
}

// checkGolden compares got with the golden file, or rewrites it under -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./inventory -update to create it")
	require.Equal(t, string(want), string(got), "%s differs; rerun with -update if the change is intended", path)
}

func dump(t *testing.T, inv *Inventory) []byte {
	t.Helper()
	b, err := json.MarshalIndent(inv, "", "  ")
	require.NoError(t, err)
	return append(b, '\n')
}

func mustParse(t *testing.T, data []byte) *Inventory {
	t.Helper()
	inv, err := Parse(data)
	require.NoError(t, err)
	return inv
}

// TestCapturedMatchesAnsible regenerates each captured input with the real
// ansible-inventory, so a drift between the committed copy and ansible shows.
func TestCapturedMatchesAnsible(t *testing.T) {
	for _, src := range sources(t) {
		t.Run(filepath.Base(src), func(t *testing.T) {
			t.Parallel()
			gen := ansibleInventory(t, src)
			captured := stem(src) + ".ansible.json"
			if *update {
				require.NoError(t, os.WriteFile(captured, gen, 0o644))
				return
			}
			want, err := os.ReadFile(captured)
			require.NoError(t, err)
			require.Equal(t, mustParse(t, want), mustParse(t, gen))
		})
	}
}

// TestGolden parses the captured ansible output and the hand-written
// AWX-style inputs, comparing the model and the YAML writer with golden files.
// It needs no ansible.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.input.json")
	require.NoError(t, err)
	for _, src := range sources(t) {
		inputs = append(inputs, stem(src)+".ansible.json")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(in, ".json"), ".input"), ".ansible")
		t.Run(filepath.Base(name), func(t *testing.T) {
			data, err := os.ReadFile(in)
			require.NoError(t, err)
			inv := mustParse(t, data)
			checkGolden(t, name+".golden.json", dump(t, inv))

			y, err := inv.YAML()
			require.NoError(t, err)
			checkGolden(t, name+".written.yaml", y)

			j, err := inv.JSON()
			require.NoError(t, err)
			require.Equal(t, inv, mustParse(t, j), "Parse(JSON()) must give the inventory back")
		})
	}
}

// TestRoundTripAnsible writes each parsed inventory with JSON (served by an
// inventory script) and with YAML (a yaml plugin file), has the real
// ansible-inventory read it, and requires the same model back.
func TestRoundTripAnsible(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.input.json")
	require.NoError(t, err)
	for _, src := range sources(t) {
		inputs = append(inputs, stem(src)+".ansible.json")
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(in)
			require.NoError(t, err)
			inv := mustParse(t, data)
			dir := t.TempDir()

			t.Run("json-script", func(t *testing.T) {
				j, err := inv.JSON()
				require.NoError(t, err)
				script := filepath.Join(dir, "inventory.sh")
				body := "#!/bin/sh\ncat <<'ARUNNER_EOF'\n" + string(j) + "ARUNNER_EOF\n"
				require.NoError(t, os.WriteFile(script, []byte(body), 0o755))
				require.Equal(t, inv, mustParse(t, ansibleInventory(t, script)))
			})
			t.Run("yaml-file", func(t *testing.T) {
				y, err := inv.YAML()
				require.NoError(t, err)
				file := filepath.Join(dir, "inventory.yml")
				require.NoError(t, os.WriteFile(file, y, 0o644))
				require.Equal(t, inv, mustParse(t, ansibleInventory(t, file)))
			})
		})
	}
}
