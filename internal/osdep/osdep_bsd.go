//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package osdep

import (
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)

// DieWithParent does nothing here: the BSDs have no parent-death signal.
// A child outlives a runner killed with SIGKILL; a runner that exits any
// other way still stops its children itself.
func DieWithParent(attr *syscall.SysProcAttr) {}
