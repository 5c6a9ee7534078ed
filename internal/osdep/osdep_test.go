package osdep

import (
	"os"
	"testing"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// TestTermios checks that the flags set on a pty are read back, and that a
// pipe is not a terminal.
func TestTermios(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pty here: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	fd := int(tty.Fd())
	if !IsTerminal(fd) {
		t.Fatal("a pty's slave is not seen as a terminal")
	}
	tio, err := GetTermios(fd)
	if err != nil {
		t.Fatal(err)
	}
	tio.Lflag &^= unix.ECHO
	if err := SetTermios(fd, tio); err != nil {
		t.Fatal(err)
	}
	back, err := GetTermios(fd)
	if err != nil {
		t.Fatal(err)
	}
	if back.Lflag&unix.ECHO != 0 {
		t.Error("ECHO still set after SetTermios cleared it")
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if IsTerminal(int(r.Fd())) {
		t.Error("a pipe is seen as a terminal")
	}
}
