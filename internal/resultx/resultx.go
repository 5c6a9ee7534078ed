// Package resultx lets arunner's own packages fill the parts of a
// runner.Result that have no exported setter, without widening runner's
// public API: package runner sets the functions below when it is loaded.
package resultx

import "github.com/arunner/arunner/events"

// SetStats sets what res.Stats() returns; res is a *runner.Result.
var SetStats func(res any, s *events.Stats)
