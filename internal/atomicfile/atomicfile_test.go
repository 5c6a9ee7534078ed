package atomicfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Write replaces a symlink and a named pipe rather than writing through
// them, sets the mode whatever the umask, and leaves no temporary file
// behind, also when reading fails.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	require.NoError(t, os.WriteFile(target, []byte("keep"), 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(target, link))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)

	for _, sync := range []bool{false, true} {
		for _, p := range []string{link, fifo, filepath.Join(dir, "new")} {
			require.NoError(t, Write(p, bytes.NewReader([]byte("data")), 0o644, sync))
			st, err := os.Lstat(p)
			require.NoError(t, err)
			assert.True(t, st.Mode().IsRegular(), p)
			assert.Equal(t, os.FileMode(0o644), st.Mode().Perm(), p)
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.Equal(t, "data", string(data))
		}
	}
	data, err := os.ReadFile(target)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(data))

	boom := errors.New("boom")
	assert.ErrorIs(t, Write(filepath.Join(dir, "failed"), iotest.ErrReader(boom), 0o600, false), boom)
	assert.NoFileExists(t, filepath.Join(dir, "failed"))
	require.Error(t, Write(filepath.Join(dir, "missing", "x"), bytes.NewReader(nil), 0o600, false))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), ".tmp-")
	}
}
