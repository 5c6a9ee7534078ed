package runner

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ansible-runner honours env/settings' process_isolation: it runs ansible
// under bubblewrap, never on the host. arunner cannot isolate yet, so it
// refuses the run: status error, ansible not started, and the stdout
// artifact says why.
func TestIsolationRefusedWhereAnsibleRunnerIsolates(t *testing.T) {
	needAnsible(t)
	t.Parallel()
	files := map[string]string{
		"inventory/hosts":  twoLocalHosts,
		"project/site.yml": "- hosts: all\n  tasks:\n  - debug: msg=ran-on-the-host\n",
		"env/settings":     "process_isolation: true\nprocess_isolation_executable: bwrap\n",
	}
	ref := startRef(t, files, "-p", "site.yml")
	pdd := t.TempDir()
	writeTree(t, pdd, files)
	res, err := Run(context.Background(), Config{PrivateDataDir: pdd, Ident: "ours", Target: Playbook{Path: "site.yml"}})
	require.ErrorIs(t, err, ErrIsolationUnsupported)
	refArt := ref.wait(t)

	refArgv, _ := commandArtifact(t, refArt, ref.pdd)
	assert.Equal(t, "bwrap", refArgv[0], "the reference sandboxed the run")
	assert.Equal(t, StatusError, res.Status)
	assert.Equal(t, "error", readTrim(t, filepath.Join(res.ArtifactDir, "status")))
	assert.NoFileExists(t, filepath.Join(res.ArtifactDir, "command"), "nothing was started")
	out, err := os.ReadFile(res.StdoutPath())
	require.NoError(t, err)
	assert.Contains(t, string(out), "env/settings: process_isolation: process isolation is not supported yet")
	assert.NotContains(t, string(out), "ran-on-the-host")
}
