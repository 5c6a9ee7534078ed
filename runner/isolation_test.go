package runner

import (
	"context"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A private data dir that asks for process isolation is refused before
// anything starts: ansible never runs on the host for it.
func TestIsolationRefused(t *testing.T) {
	for value, refused := range map[string]bool{
		"true": true, "yes": true, "1": true, `"False"`: true, "[bwrap]": true,
		"false": false, "0": false, "null": false, `""`: false,
	} {
		t.Run(value, func(t *testing.T) {
			cfg := fakeConfig(t, "env")
			started := filepath.Join(t.TempDir(), "started")
			cfg.EnvVars["FAKE_OUT"] = started
			must(t, os.MkdirAll(filepath.Join(cfg.PrivateDataDir, "env"), 0o700))
			must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "env", "settings"),
				[]byte("process_isolation_executable: bwrap\nprocess_isolation: "+value+"\n"), 0o600))
			res, err := Run(context.Background(), cfg)
			require.NotNil(t, res)
			_, statErr := os.Stat(started)
			if !refused {
				require.NoError(t, err)
				assert.NoError(t, statErr, "ansible ran")
				return
			}
			require.ErrorIs(t, err, ErrIsolationUnsupported)
			var cerr *ConfigError
			require.ErrorAs(t, err, &cerr)
			assert.Equal(t, filepath.Join(cfg.PrivateDataDir, "env", "settings")+": process_isolation", cerr.Field)
			assert.Equal(t, StatusError, res.Status)
			assert.True(t, errors.Is(statErr, fs.ErrNotExist), "ansible was started: %v", statErr)
			assert.NoFileExists(t, filepath.Join(res.ArtifactDir, "command"))
			assert.Equal(t, "error", readArtifact(t, res, "status"))
			assert.Contains(t, readArtifact(t, res, "stdout"), "process_isolation: process isolation is not supported yet")
		})
	}
}

func TestPyTruthy(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want bool
	}{
		{nil, false}, {false, false}, {true, true}, {"", false}, {"no", true}, {0, false}, {2, true},
		{0.0, false}, {0.5, true}, {new(big.Int), false}, {big.NewInt(1), true},
		{[]any{}, false}, {[]any{1}, true}, {map[string]any{}, false}, {map[string]any{"a": 1}, true},
		{struct{}{}, true},
	} {
		assert.Equal(t, tt.want, pyTruthy(tt.v), "%#v", tt.v)
	}
}
