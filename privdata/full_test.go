package privdata

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallTmpfs mounts a tmpfs of size (e.g. "64k") on a new directory and
// unmounts it when the test ends. It skips the test unless run as root.
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fill writes into dir until its file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	require.NoError(t, err)
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			require.ErrorIs(t, err, syscall.ENOSPC)
			return
		}
	}
}

// With ReserveFinal done first, status and rc are written even when the
// run filled the disk; their reserves are gone after.
func TestReserveFinalOnFullDisk(t *testing.T) {
	a, err := NewArtifacts(smallTmpfs(t, "64k"), "x")
	require.NoError(t, err)
	require.NoError(t, a.ReserveFinal())
	fill(t, a.Dir)
	require.ErrorIs(t, writePrivate(filepath.Join(a.Dir, "other"), []byte("x")), syscall.ENOSPC, "the disk is full")

	require.NoError(t, a.WriteRC(2))
	require.NoError(t, a.WriteStatus("error"))
	for name, want := range map[string]string{"rc": "2", "status": "error"} {
		got, err := os.ReadFile(filepath.Join(a.Dir, name))
		require.NoError(t, err)
		assert.Equal(t, want, string(got), name)
		assert.Equal(t, os.FileMode(0o600), mode(t, filepath.Join(a.Dir, name)), name)
	}
	entries, err := os.ReadDir(a.Dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".reserve"), "%s left behind", e.Name())
	}

	// A job_events file that does not fit names itself and the errno, and
	// is not left half written.
	err = a.WriteEvent(1, "u1", make([]byte, 8192))
	var pe *os.PathError
	require.True(t, errors.As(err, &pe), "%v", err)
	assert.Equal(t, filepath.Join(a.JobEventsDir(), "1-u1.json"), pe.Path)
	assert.ErrorIs(t, err, syscall.ENOSPC)
	assert.NoFileExists(t, pe.Path)
}
