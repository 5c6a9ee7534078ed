package osdep

import (
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	ioctlGetTermios = unix.TCGETS
	ioctlSetTermios = unix.TCSETS
)

// DieWithParent has the kernel send the child SIGKILL when the thread that
// started it exits, so that a runner killed from outside does not orphan
// what it started.
func DieWithParent(attr *syscall.SysProcAttr) {
	attr.Pdeathsig = syscall.SIGKILL
}
