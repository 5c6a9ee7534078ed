// Package resultx lets arunner's own packages fill the parts of a
// runner.Result that have no exported setter, without widening runner's
// public API: package runner sets the functions below when it is loaded.
package resultx

import "github.com/arunner/arunner/events"

// SeeEvent shows res (a *runner.Result) one of its run's events, as a local
// run's own are shown to it: for its recap (Stats) and the failures an
// ExitError names.
var SeeEvent func(res any, ev *events.Event)

// ExitError is the *runner.ExitError of res's failed run, exited with rc,
// as a local run makes it from the events res has seen.
var ExitError func(res any, rc int) error
