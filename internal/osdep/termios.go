//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package osdep

import "golang.org/x/sys/unix"

// GetTermios reads the terminal flags of fd; it fails when fd is not a
// terminal.
func GetTermios(fd int) (*unix.Termios, error) {
	return unix.IoctlGetTermios(fd, ioctlGetTermios)
}

// SetTermios sets the terminal flags of fd at once.
func SetTermios(fd int, t *unix.Termios) error {
	return unix.IoctlSetTermios(fd, ioctlSetTermios, t)
}

// IsTerminal reports whether fd is a terminal.
func IsTerminal(fd int) bool {
	_, err := GetTermios(fd)
	return err == nil
}
