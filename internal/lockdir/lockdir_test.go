package lockdir

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMakeAbandoned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	lock, err := Make(dir)
	require.NoError(t, err)
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	entries, _ := os.ReadDir(filepath.Dir(dir))
	assert.Len(t, entries, 1, "no temporary name is left")

	_, ok := Abandoned(dir)
	assert.False(t, ok, "its maker holds the lock")
	_, err = Make(dir)
	assert.Error(t, err, "a live dir is not made again")

	lock.Close() // as the maker's death does
	release, ok := Abandoned(dir)
	require.True(t, ok)
	_, ok2 := Abandoned(dir)
	assert.False(t, ok2, "the lock is held while the caller removes it")
	release()

	require.NoError(t, os.Remove(filepath.Join(dir, LockName)))
	_, ok = Abandoned(dir)
	assert.True(t, ok, "a dir without a lock file has no live maker")
	_, ok = Abandoned(filepath.Join(dir, "missing"))
	assert.False(t, ok)
}
