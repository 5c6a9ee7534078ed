package runner

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/factcache"
)

// realPDD lays out a private data dir with two local hosts and the given
// playbooks.
func realPDD(t *testing.T, playbooks map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "project"), 0o700))
	must(t, os.MkdirAll(filepath.Join(dir, "inventory"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "inventory", "hosts"), []byte(
		"[all:vars]\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3\n[web]\nh1\nh2\n"), 0o600))
	for name, body := range playbooks {
		must(t, os.WriteFile(filepath.Join(dir, "project", name), []byte(body), 0o600))
	}
	return dir
}

// Facts survive across runs through a Store, by content, and a host keeps its
// facts unless it clears them.
func TestFactCacheAcrossRuns(t *testing.T) {
	needBinaries(t)
	pdd := realPDD(t, map[string]string{
		"gather.yml": `
- hosts: all
  gather_facts: true
  gather_subset: [min]
  tasks:
    - set_fact:
        color: "blue-{{ inventory_hostname }}"
        cacheable: true
`,
		"use.yml": `
- hosts: all
  gather_facts: false
  tasks:
    - assert:
        that:
          - color == "blue-" + inventory_hostname
          - ansible_facts.system is defined
`,
		"clear.yml": `
- hosts: h1
  gather_facts: false
  tasks:
    - meta: clear_facts
`,
	})
	store, err := factcache.NewDirStore(t.TempDir())
	require.NoError(t, err)
	run := func(playbook string) *Result {
		t.Helper()
		res, err := Run(context.Background(), Config{
			PrivateDataDir: pdd, Target: Playbook{Path: playbook},
			FactCache: &FactCache{Store: store},
		})
		require.NoError(t, err, "%s: %s", playbook, stdoutOf(t, res))
		require.NoError(t, res.FactsErr)
		return res
	}

	res := run("gather.yml")
	assert.Equal(t, factcache.Added, res.Facts.Hosts["h1"])
	assert.Equal(t, factcache.Added, res.Facts.Hosts["h2"])
	facts, err := res.GetFactCache("h1")
	require.NoError(t, err)
	assert.Equal(t, "blue-h1", facts["color"])

	// A fresh artifacts dir: the facts come from the Store alone.
	res = run("use.yml")
	assert.Equal(t, factcache.Untouched, res.Facts.Hosts["h1"])
	assert.Equal(t, factcache.Untouched, res.Facts.Hosts["h2"])

	res = run("clear.yml")
	assert.Equal(t, factcache.Cleared, res.Facts.Hosts["h1"])
	assert.Equal(t, factcache.Untouched, res.Facts.Hosts["h2"])
	got, err := store.Load(context.Background(), nil)
	require.NoError(t, err)
	assert.NotContains(t, got, "h1")
	require.Contains(t, got, "h2")
	assert.Equal(t, "blue-h2", got["h2"].Facts["color"])
}

func stdoutOf(t *testing.T, res *Result) string {
	if res == nil {
		return ""
	}
	data, _ := os.ReadFile(res.StdoutPath())
	return string(data)
}
