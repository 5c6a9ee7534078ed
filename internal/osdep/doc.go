// Package osdep holds the few system calls whose form differs between Linux
// and the BSDs (macOS among them): reading and setting a terminal's flags,
// and asking the kernel to kill a child when its parent dies. Everything
// else arunner needs from the OS is the same on every Unix.
package osdep
