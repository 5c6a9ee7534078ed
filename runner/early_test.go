package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A run that fails before ansible starts prints its message to Output as
// ansible's text would be, or as the JSON of its one verbose event with
// JSONOutput.
func TestEarlyFailureOutput(t *testing.T) {
	cfg := fakeConfig(t, "ok")
	cfg.Target = Playbook{Path: "nope.yml"}
	var out bytes.Buffer
	cfg.Output = &out
	res, err := Run(context.Background(), cfg)
	require.Error(t, err)
	assert.Equal(t, StatusFailed, res.Status)
	assert.Equal(t, "ERROR! the playbook: nope.yml could not be found\n", out.String())

	cfg = fakeConfig(t, "ok")
	cfg.Target = Playbook{Path: "nope.yml"}
	out.Reset()
	cfg.Output, cfg.JSONOutput = &out, true
	res, err = Run(context.Background(), cfg)
	require.Error(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &ev), "%q", out.String())
	assert.Equal(t, "verbose", ev["event"])
	assert.Equal(t, "ERROR! the playbook: nope.yml could not be found", ev["stdout"])
	stdout, err := os.ReadFile(filepath.Join(res.ArtifactDir, "stdout"))
	require.NoError(t, err)
	assert.Equal(t, out.String(), string(stdout), "the stdout artifact holds the same JSON")
}
