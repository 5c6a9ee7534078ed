package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/testee"
)

// `arunner run --process-isolation --container-image IMAGE` runs the
// playbook with real ansible-core in a podman container (the default
// engine) from a locally built image, and leaves no container behind.
func TestContainerRunFromCLI(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook is not installed")
	}
	image := testee.Image(t)
	pdd := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(pdd, "project"), 0o700))
	require.NoError(t, os.MkdirAll(filepath.Join(pdd, "inventory"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "inventory", "hosts"),
		[]byte("localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"), 0o600))
	// podman makes /run/.containerenv in every container; the host has none.
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte(`- hosts: all
  gather_facts: false
  tasks:
    - stat: {path: /run/.containerenv}
      register: c
    - debug: {msg: "in a container: {{ c.stat.exists }}"}
`), 0o600))
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"run", pdd, "-p", "site.yml", "--ident", "cli-podman",
		"--process-isolation", "--container-image", image}, &stdout, &stderr)
	assert.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	assert.Contains(t, stdout.String(), "in a container: True")
	status, err := os.ReadFile(filepath.Join(pdd, "artifacts", "cli-podman", "status"))
	require.NoError(t, err)
	assert.Equal(t, "successful", string(status))
	assert.Empty(t, testee.Left(t, "cli-podman"), "containers left")
}
