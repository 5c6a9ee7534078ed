package osdep

import (
	"syscall"
	"testing"
)

// TestDieWithParent checks that a child started with it gets SIGKILL as
// its parent death signal.
func TestDieWithParent(t *testing.T) {
	var attr syscall.SysProcAttr
	DieWithParent(&attr)
	if attr.Pdeathsig != syscall.SIGKILL {
		t.Errorf("Pdeathsig = %v, want SIGKILL", attr.Pdeathsig)
	}
}
