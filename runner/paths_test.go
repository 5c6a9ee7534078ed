package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Whatever the private data dir, the artifacts dir, the roles path and the
// temp dir are called, every path the runner hands ansible in a path-list
// variable, the fact cache dir and the control path dir hold nothing ansible
// or ssh would split or expand, nor do the runner's own -e @files.
func TestAnsiblePathsAreSafe(t *testing.T) {
	cfg := fakeConfig(t, "env")
	base := filepath.Join(t.TempDir(), "b$HOME,%C{{CWD}}")
	pdd, roles := filepath.Join(base, "pdd"), filepath.Join(base, "roles")
	must(t, os.MkdirAll(base, 0o700))
	must(t, os.Rename(cfg.PrivateDataDir, pdd))
	must(t, os.MkdirAll(roles, 0o700))
	cfg.PrivateDataDir, cfg.Target = pdd, Role{Name: "r", RolesPath: []string{roles}}
	cfg.Ident = "t:10:00"
	cfg.ExtraVars = map[string]any{"v": 1}
	t.Setenv("TMPDIR", base)

	res, got := runEnvFake(t, cfg)
	require.Len(t, got.Files, 1, "one -e @file")
	for p, content := range got.Files {
		assert.True(t, ansibleSafe(p), "-e @%s", p)
		assert.JSONEq(t, `{"v": 1}`, content)
	}
	assert.Equal(t, filepath.Join(pdd, "artifacts", "t:10:00"), res.ArtifactDir)
	for _, k := range []string{"ANSIBLE_CALLBACK_PLUGINS", "ANSIBLE_ROLES_PATH", "ANSIBLE_CACHE_PLUGIN_CONNECTION", "ANSIBLE_SSH_CONTROL_PATH_DIR"} {
		v := got.Env[k]
		require.NotEmpty(t, v, k)
		if k == "ANSIBLE_ROLES_PATH" {
			parts := strings.Split(v, ":")
			require.Len(t, parts, 2, "%s=%q", k, v)
			assert.Equal(t, []string{"roles-0", "roles-1"}, []string{filepath.Base(parts[0]), filepath.Base(parts[1])})
			v = strings.Join(parts, "")
		}
		assert.True(t, ansibleSafe(v), "%s=%q", k, v)
		assert.True(t, strings.HasPrefix(v, "/tmp/"+scratchPrefix), "%s=%q is in a scratch dir under /tmp", k, v)
	}
}
