package runner

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// commandArtifact reads an artifacts dir's command file, with the private
// data dir in cwd replaced by "PDD".
func commandArtifact(t *testing.T, art, pdd string) (argv []string, cwd string) {
	t.Helper()
	var cmd struct {
		Command []string `json:"command"`
		Cwd     string   `json:"cwd"`
	}
	data, err := os.ReadFile(filepath.Join(art, "command"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &cmd))
	rel, err := filepath.Rel(pdd, cmd.Cwd)
	require.NoError(t, err)
	return cmd.Command, filepath.Join("PDD", rel)
}

// The args file runs, whatever -p/-m says, in the dir ansible-runner
// chooses: the project dir, or the private data dir when -m makes the run
// ad hoc. The file marker.txt exists in both dirs with different text, so
// the stdout shows where the command ran.
func TestArgsFileMatchesAnsibleRunner(t *testing.T) {
	needAnsible(t)
	t.Parallel()
	files := map[string]string{
		"inventory/hosts":    twoLocalHosts,
		"project/site.yml":   "- hosts: all\n  tasks:\n  - debug: msg=the-playbook-ran\n",
		"marker.txt":         "in-the-private-data-dir\n",
		"project/marker.txt": "in-the-project-dir\n",
	}
	for _, tt := range []struct {
		name    string
		refArgs []string
		cfg     Config
		want    string // the marker the command printed
		cwd     string // where it runs; the args file's -i is relative to it
	}{
		{name: "playbook", refArgs: []string{"-p", "site.yml"}, cfg: Config{Target: Playbook{Path: "site.yml"}}, want: "in-the-project-dir", cwd: "PDD/project"},
		{name: "missing playbook", refArgs: []string{"-p", "nope.yml"}, cfg: Config{Target: Playbook{Path: "nope.yml"}}, want: "in-the-project-dir", cwd: "PDD/project"},
		{name: "module", refArgs: []string{"-m", "ping"}, cfg: Config{Target: AdHoc{Module: "ping"}}, want: "in-the-private-data-dir", cwd: "PDD"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv, err := filepath.Rel(tt.cwd, "PDD/inventory/hosts")
			require.NoError(t, err)
			files := maps.Clone(files)
			files["args"] = "ansible all -i " + inv + " -m command -a 'cat marker.txt'\n"
			ref := startRef(t, files, tt.refArgs...)
			pdd := t.TempDir()
			writeTree(t, pdd, files)
			cfg := tt.cfg
			cfg.PrivateDataDir, cfg.Ident = pdd, "ours"
			res, err := Run(context.Background(), cfg)
			require.NoError(t, err)
			refArt := ref.wait(t)
			compareArtifacts(t, res, refArt, false)

			refArgv, refCwd := commandArtifact(t, refArt, ref.pdd)
			ourArgv, ourCwd := commandArtifact(t, res.ArtifactDir, pdd)
			assert.Equal(t, tt.cwd, refCwd, "the reference's cwd")
			assert.Equal(t, refCwd, ourCwd, "cwd")
			assert.Equal(t, []string{"ansible", "all", "-i", inv, "-m", "command", "-a", "cat marker.txt"}, refArgv, "the reference ran the args file")
			assert.Equal(t, refArgv, ourArgv, "argv")
			for _, art := range []string{refArt, res.ArtifactDir} {
				out, err := os.ReadFile(filepath.Join(art, "stdout"))
				require.NoError(t, err)
				assert.Contains(t, string(out), tt.want, art)
				assert.NotContains(t, string(out), "the-playbook-ran", art)
			}
		})
	}
}

// An ad hoc module's relative paths resolve in the private data dir, as in
// ansible-runner, not in project/.
func TestAdHocWorkDirMatchesAnsibleRunner(t *testing.T) {
	needAnsible(t)
	t.Parallel()
	files := map[string]string{
		"inventory/hosts":    twoLocalHosts,
		"marker.txt":         "in-the-private-data-dir\n",
		"project/marker.txt": "in-the-project-dir\n",
	}
	ref := startRef(t, files, "-m", "command", "-a", "cat marker.txt", "--hosts", "all")
	pdd := t.TempDir()
	writeTree(t, pdd, files)
	res, err := Run(context.Background(), Config{
		PrivateDataDir: pdd, Ident: "ours", Target: AdHoc{Module: "command", Args: "cat marker.txt", Hosts: "all"},
	})
	require.NoError(t, err)
	refArt := ref.wait(t)
	compareArtifacts(t, res, refArt, true)
	_, refCwd := commandArtifact(t, refArt, ref.pdd)
	_, ourCwd := commandArtifact(t, res.ArtifactDir, pdd)
	assert.Equal(t, "PDD", refCwd)
	assert.Equal(t, refCwd, ourCwd)
	out, err := os.ReadFile(res.StdoutPath())
	require.NoError(t, err)
	assert.Contains(t, string(out), "in-the-private-data-dir")
}
