package runner

import (
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/resultx"
)

// A run whose events came from elsewhere (package stream's Process) keeps
// its recap in the Result as a local run does.
func init() {
	resultx.SetStats = func(res any, s *events.Stats) { res.(*Result).stats = s }
}
