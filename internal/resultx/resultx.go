// Package resultx lets arunner's own packages (stream's Process) do what a
// local run does with the parts of package runner that have no exported
// API, without widening runner's public API: package runner sets the
// functions below when it is loaded.
package resultx

import (
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/privdata"
)

// SeeEvent shows res (a *runner.Result) one of its run's events, as a local
// run's own are shown to it: for its recap (Stats) and the failures an
// ExitError names.
var SeeEvent func(res any, ev *events.Event)

// ExitError is the *runner.ExitError of res's failed run, exited with rc,
// as a local run makes it from the events res has seen.
var ExitError func(res any, rc int) error

// EventSink writes a run's job_events files in the background, as a local
// run's are written: bounded memory (a full queue makes Write wait), every
// file tried after a failure, a failed file removed.
type EventSink interface {
	// Write hands one event's JSON over; the sink owns data afterwards.
	Write(counter int, uuid string, data []byte)
	// Close waits for every file handed over and returns the first
	// failure, as an *runner.ArtifactError, or nil.
	Close() error
}

// NewEventSink is the local run's sink for art's job_events dir.
var NewEventSink func(art *privdata.Artifacts) EventSink

// CleanAbandoned removes what runs killed hard left under an artifacts
// root (their runtime dirs, and the scratch dirs and ssh control masters
// those name), as the next local run in that root does.
var CleanAbandoned func(artifactsRoot string)
