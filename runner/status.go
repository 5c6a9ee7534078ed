package runner

// Status is the state of a run, with ansible-runner's names.
type Status string

// The statuses a run passes through. A run goes Starting, Running and then
// ends in exactly one of the final statuses.
const (
	StatusUnstarted  Status = "unstarted"
	StatusStarting   Status = "starting"
	StatusRunning    Status = "running"
	StatusSuccessful Status = "successful"
	StatusFailed     Status = "failed"
	StatusTimeout    Status = "timeout"
	StatusCanceled   Status = "canceled"
	StatusError      Status = "error"
)

// Final reports whether s ends a run.
func (s Status) Final() bool {
	switch s {
	case StatusSuccessful, StatusFailed, StatusTimeout, StatusCanceled, StatusError:
		return true
	}
	return false
}

// StatusUpdate is what StatusHandler receives. Command, Cwd and Env are set
// only for StatusStarting; Env has every secret redacted.
type StatusUpdate struct {
	Status      Status            `json:"status"`
	RunnerIdent string            `json:"runner_ident"`
	Command     []string          `json:"command,omitempty"`
	Cwd         string            `json:"cwd,omitempty"`
	Env         map[string]string `json:"env,omitempty"`
}

// TimeoutKind tells which limit ended a run with StatusTimeout.
type TimeoutKind string

// The limits that can end a run.
const (
	NoTimeout     TimeoutKind = ""
	JobTimeout    TimeoutKind = "job"
	IdleTimeout   TimeoutKind = "idle"
	PromptTimeout TimeoutKind = "prompt"
)
