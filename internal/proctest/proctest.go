// Package proctest holds what tests of several packages ask of /proc about
// a process.
package proctest

import (
	"os"
	"path/filepath"
	"strconv"
)

// HoldsOpen reports whether process pid holds path open.
func HoldsOpen(pid int, path string) bool {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	fds, _ := os.ReadDir(dir)
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && l == path {
			return true
		}
	}
	return false
}
