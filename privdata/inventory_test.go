package privdata

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One resolver for inventory sources: a name in <pdd>/inventory first, then
// the caller's working directory, made absolute because ansible runs in
// the project dir; host lists as they are; a missing source is named.
func TestResolveInventory(t *testing.T) {
	pdd, cwd := t.TempDir(), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(pdd, "inventory"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "inventory", "hosts"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(cwd, "hosts"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(cwd, "local"), nil, 0o600))
	t.Chdir(cwd)

	got, err := ResolveInventory(pdd, []string{"hosts", "local", "a,b,", filepath.Join(cwd, "hosts")})
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(pdd, "inventory", "hosts"), filepath.Join(cwd, "local"), "a,b,", filepath.Join(cwd, "hosts")}, got)

	_, err = ResolveInventory(pdd, []string{"nope"})
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "inventory source nope")
}
