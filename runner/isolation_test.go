package runner

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/isolation"
)

// A private data dir that asks for process isolation in env/settings
// gets it (as with ansible-runner, whatever Config says): the command
// starts under bubblewrap, and still runs. A false value runs on the host.
func TestIsolationFromSettings(t *testing.T) {
	needBwrap(t)
	for value, isolated := range map[string]bool{
		"true": true, "yes": true, `"False"`: true,
		"false": false, "null": false,
	} {
		t.Run(value, func(t *testing.T) {
			cfg := fakeConfig(t, "env")
			// In the private data dir: the sandbox has a /tmp of its own.
			started := filepath.Join(cfg.PrivateDataDir, "started")
			cfg.EnvVars["FAKE_OUT"] = started
			must(t, os.MkdirAll(filepath.Join(cfg.PrivateDataDir, "env"), 0o700))
			must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "env", "settings"),
				[]byte("process_isolation_executable: bwrap\nprocess_isolation: "+value+"\n"), 0o600))
			res, err := Run(context.Background(), cfg)
			require.NoError(t, err)
			assert.Equal(t, isolated, res.Command[0] == "bwrap", "%q", res.Command)
			_, statErr := os.Stat(started)
			assert.False(t, errors.Is(statErr, fs.ErrNotExist), "ansible ran")
		})
	}
}

// A setting of the wrong type, or one arunner does not support, is an
// error naming the env/settings key: never a run without it.
func TestIsolationSettingsRefused(t *testing.T) {
	for settings, want := range map[string]string{
		"process_isolation: true\nprocess_isolation_hide_paths: /root\n":         "process_isolation_hide_paths: want a list of strings",
		"process_isolation: true\ndirectory_isolation_base_path: /tmp\n":         "directory_isolation_base_path: a copy of the project for the run is not supported",
		"process_isolation: true\ncontainer_auth_data: {host: q, password: p}\n": "container_auth_data: registry credentials are not supported",
		"process_isolation: true\ncontainer_image: ''\n":                         "container_image: required",
	} {
		cfg := fakeConfig(t, "env")
		started := filepath.Join(t.TempDir(), "started")
		cfg.EnvVars["FAKE_OUT"] = started
		must(t, os.MkdirAll(filepath.Join(cfg.PrivateDataDir, "env"), 0o700))
		must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "env", "settings"), []byte(settings), 0o600))
		res, err := Run(context.Background(), cfg)
		require.Error(t, err, settings)
		assert.Contains(t, err.Error(), filepath.Join(cfg.PrivateDataDir, "env", "settings")+": "+want)
		assert.Equal(t, StatusError, res.Status)
		assert.NoFileExists(t, started)
	}
}

// Prepare shows the isolated command without starting or making anything:
// the run's dirs, planned, are bound as they will be.
func TestPrepareIsolated(t *testing.T) {
	for _, iso := range []isolation.Options{
		{Enabled: true, Executable: "bwrap"},
		{Enabled: true, Image: "localhost/ee:1"},
	} {
		cfg := fakeConfig(t, "env")
		cfg.Ident = "planned"
		cfg.EnvVars["FOO_VAR"] = "x"
		cfg.Isolation = &iso
		p, err := Prepare(context.Background(), cfg)
		require.NoError(t, err)
		require.NotNil(t, p.Isolated)
		argv := strings.Join(p.Isolated.Argv, " ")
		assert.Equal(t, iso.Engine(), p.Isolated.Argv[0])
		require.NotEmpty(t, p.scratch)
		bind := "--bind " + p.scratch + " " + p.scratch
		if iso.Mode() == isolation.Container {
			bind = "-v " + p.scratch + ":" + p.scratch
		}
		assert.Contains(t, argv, bind, "the scratch dir, planned, is bound")
		assert.True(t, strings.HasSuffix(argv, strings.Join(p.Command.Argv, " ")), "%s", argv)
		assert.Contains(t, p.String(), "isolated: "+iso.Engine()+" ")
		assert.NoDirExists(t, p.ArtifactDir, "nothing was made")
		assert.NoDirExists(t, p.scratch, "nothing was made")
		if iso.Mode() == isolation.Container {
			assert.Equal(t, "x", p.Isolated.Env["FOO_VAR"])
			assert.NotContains(t, p.Isolated.Env, "PATH", "the container's environment, not the engine's")
		}
	}
	cfg := fakeConfig(t, "env")
	p, err := Prepare(context.Background(), cfg)
	require.NoError(t, err)
	assert.Nil(t, p.Isolated)
}
