package runner

import (
	"errors"
	"math/big"

	"github.com/arunner/arunner/privdata"
)

// ErrIsolationUnsupported is matched by the error of a run whose private
// data dir asks for process isolation (env/settings process_isolation, which
// ansible-runner honours with bubblewrap or a container engine). arunner
// cannot isolate a run yet, and running unsandboxed what asked for a
// sandbox would break that promise silently, so such a run is refused
// before anything starts, with status error.
var ErrIsolationUnsupported = errors.New("process isolation is not supported yet: arunner would run ansible on the host, unsandboxed")

// checkIsolation refuses a run whose env/settings asks for process
// isolation. It is the one place that decides; isolation, once it exists,
// replaces the refusal here.
func (r *run) checkIsolation(d *privdata.Dir) error {
	v, ok := d.Settings.Raw["process_isolation"]
	if !ok || !pyTruthy(v) {
		return nil
	}
	return &ConfigError{
		Field: r.paths().Env(privdata.SettingsFile) + ": process_isolation",
		Err:   ErrIsolationUnsupported,
	}
}

// pyTruthy is Python's truth value of a parsed settings value, which is how
// ansible-runner reads process_isolation ("yes", 1 and a quoted "false"
// all turn it on). A value of a type it does not know counts as true: a
// sandbox asked for in an unexpected way is still a sandbox asked for.
func pyTruthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case int:
		return t != 0
	case float64:
		return t != 0
	case *big.Int:
		return t.Sign() != 0
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return true
}
