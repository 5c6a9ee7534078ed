package factcache

import (
	"bytes"
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Playbooks for the real ansible-core test. Run 2 fails (assert) unless both
// gathered and set_fact facts come back through the restored cache.
const (
	inventoryINI = `h1 ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"
h2 ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"
`
	gatherPlay = `- hosts: all
  gather_facts: true
  gather_subset: [min]
  tasks:
    - set_fact:
        marker: "m-{{ inventory_hostname }}"
        cacheable: true
`
	readPlay = `- hosts: all
  gather_facts: false
  tasks:
    - assert:
        that:
          - marker == "m-" ~ inventory_hostname
          - ansible_facts.system is defined
          - ansible_system == ansible_facts.system
`
	clearPlay = `- hosts: h1
  gather_facts: false
  tasks:
    - meta: clear_facts
`
)

func requireAnsible(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	}
}

// ansibleEnv is the test process environment without any ANSIBLE_* variable
// that could change the outcome, plus env.
func ansibleEnv(home string, env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !bytes.HasPrefix([]byte(kv), []byte("ANSIBLE_")) {
			out = append(out, kv)
		}
	}
	out = append(out, "ANSIBLE_HOME="+home, "ANSIBLE_NOCOLOR=1", "ANSIBLE_RETRY_FILES_ENABLED=0",
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(home, "tmp"))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func TestAnsibleRoundTrip(t *testing.T) {
	requireAnsible(t)
	ctx := context.Background()
	base := t.TempDir()
	writeFiles(t, base, map[string]string{
		"inventory": inventoryINI, "gather.yml": gatherPlay, "read.yml": readPlay, "clear.yml": clearPlay,
	})
	store, err := NewDirStore(filepath.Join(base, "store"))
	require.NoError(t, err)

	// run restores the Store into a fresh artifacts dir, runs the playbook and collects.
	run := func(ident, playbook string) *Report {
		t.Helper()
		dir := filepath.Join(base, "pdd", "artifacts", ident, "fact_cache")
		snap, err := Restore(ctx, store, dir, Options{})
		require.NoError(t, err)
		cmd := exec.CommandContext(ctx, "ansible-playbook", "-i", filepath.Join(base, "inventory"), filepath.Join(base, playbook))
		cmd.Dir = base
		cmd.Env = ansibleEnv(base, Env(dir, Options{}))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		rep, err := snap.Collect(ctx, store)
		require.NoError(t, err)
		assert.Empty(t, rep.Errors)
		return rep
	}
	marker := func(host string) any {
		t.Helper()
		got, err := store.Load(ctx, []string{host})
		require.NoError(t, err)
		return got[host].Facts["marker"]
	}

	rep := run("1", "gather.yml")
	assert.Equal(t, map[string]Outcome{"h1": Added, "h2": Added}, rep.Hosts)
	assert.Equal(t, "m-h1", marker("h1"))
	assert.Equal(t, "m-h2", marker("h2"))

	rep = run("2", "read.yml")
	assert.Equal(t, map[string]Outcome{"h1": Untouched, "h2": Untouched}, rep.Hosts)

	rep = run("3", "clear.yml")
	assert.Equal(t, map[string]Outcome{"h1": Cleared, "h2": Untouched}, rep.Hosts)
	assert.NoFileExists(t, filepath.Join(base, "pdd", "artifacts", "3", "fact_cache", "h1"))
	got, err := store.Load(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"h2"}, slices.Sorted(maps.Keys(got)))
	assert.Equal(t, "m-h2", marker("h2"))
	assert.Contains(t, got["h2"].Facts, "ansible_system")
}

// TestAnsibleRunnerLayout runs the same playbook through the reference
// ansible-runner and checks that its fact_cache holds the same file names and
// JSON shape as ours, and that Set writes ansible's bytes back byte for byte.
func TestAnsibleRunnerLayout(t *testing.T) {
	requireAnsible(t)
	if _, err := exec.LookPath("ansible-runner"); err != nil {
		t.Skip("ansible-runner not on PATH")
	}
	ctx := context.Background()
	base := t.TempDir()
	pdd := filepath.Join(base, "pdd")
	writeFiles(t, pdd, map[string]string{"inventory/hosts": inventoryINI, "project/gather.yml": gatherPlay})
	cmd := exec.CommandContext(ctx, "ansible-runner", "run", pdd, "-p", "gather.yml", "--ident", "ref")
	cmd.Env = ansibleEnv(base, nil)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	refDir := filepath.Join(pdd, "artifacts", "ref", "fact_cache")

	ours := filepath.Join(base, "ours", "fact_cache")
	snap, err := Restore(ctx, NewMemoryStore(), ours, Options{})
	require.NoError(t, err)
	cmd = exec.CommandContext(ctx, "ansible-playbook", "-i", filepath.Join(pdd, "inventory", "hosts"), filepath.Join(pdd, "project", "gather.yml"))
	cmd.Env = ansibleEnv(base, Env(ours, Options{}))
	out, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	_, err = snap.Collect(ctx, NewMemoryStore())
	require.NoError(t, err)

	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var n []string
		for _, e := range entries {
			n = append(n, e.Name())
		}
		return n
	}
	require.Equal(t, []string{"h1", "h2"}, names(refDir))
	assert.Equal(t, names(refDir), names(ours))

	for _, h := range []string{"h1", "h2"} {
		ref, err := Get(refDir, h)
		require.NoError(t, err)
		mine, err := Get(ours, h)
		require.NoError(t, err)
		assert.Equal(t, slices.Sorted(maps.Keys(ref)), slices.Sorted(maps.Keys(mine)), "same top-level facts for %s", h)
		assert.Equal(t, "m-"+h, ref["marker"])
		assert.True(t, slices.Contains(slices.Sorted(maps.Keys(ref)), "ansible_system"))

		// Restoring what ansible-runner's ansible wrote gives back the same bytes.
		raw, err := os.ReadFile(filepath.Join(refDir, h))
		require.NoError(t, err)
		again := filepath.Join(base, "again")
		require.NoError(t, Set(again, h, ref))
		rewritten, err := os.ReadFile(filepath.Join(again, h))
		require.NoError(t, err)
		assert.Equal(t, string(raw), string(rewritten))
	}
}
