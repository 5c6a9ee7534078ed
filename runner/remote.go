package runner

import (
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/resultx"
)

// A run whose events came from elsewhere (package stream's Process) keeps
// its recap and failures in the Result as a local run does.
func init() {
	resultx.SeeEvent = func(res any, ev *events.Event) { res.(*Result).fails.see(ev) }
	resultx.ExitError = func(res any, rc int) error {
		r := res.(*Result)
		ansible := len(r.Command) > 0 && isAnsibleRC(r.Command[0])
		return r.fails.exitError(rc, 0, ansible, nil)
	}
}
