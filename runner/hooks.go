package runner

import (
	"runtime/debug"
)

// call runs one of the caller's hooks on one of the run's goroutines and
// reports whether it returned. A panic in it is recovered and recorded: the
// first one closes r.abort, which stops the run (monitor), and goes on from
// Job.Wait once the run has cleaned up. After a panic no hook runs again.
func (r *run) call(hook string, f func()) (ok bool) {
	if r.hookPanic.Load() != nil {
		return false
	}
	defer func() {
		if v := recover(); v != nil {
			p := &HookPanic{Hook: hook, Value: v, Stack: debug.Stack()}
			if r.hookPanic.CompareAndSwap(nil, p) {
				close(r.abort)
			}
			ok = false
		}
	}()
	f()
	return true
}
