package runner

import (
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/resultx"
	"github.com/arunner/arunner/privdata"
)

// A run whose events came from elsewhere (package stream's Process) keeps
// its recap and failures in the Result, and its job_events files, as a
// local run does.
func init() {
	resultx.SeeEvent = func(res any, ev *events.Event) { res.(*Result).fails.see(ev) }
	resultx.ExitError = func(res any, rc int) error {
		r := res.(*Result)
		ansible := len(r.Command) > 0 && isAnsibleRC(r.Command[0])
		return r.fails.exitError(rc, 0, ansible, nil)
	}
	resultx.CleanAbandoned = cleanAbandoned
	resultx.NewEventSink = func(art *privdata.Artifacts) resultx.EventSink {
		return remoteSink{newEventSink(art), art}
	}
}

type remoteSink struct {
	s   *asyncSink
	art *privdata.Artifacts
}

func (s remoteSink) Write(counter int, uuid string, data []byte) { s.s.write(counter, uuid, data) }
func (s remoteSink) Close() error {
	return artifactError(s.art.JobEventsDir(), s.s.close())
}
