package runnertest

import (
	"encoding/json"
	"syscall"
	"time"
)

// Script is what a fake ansible does, step by step. Build one from the
// functions below (Play, Text, Prompt, Sleep, Exit, Die, Hang), or from a
// recorded run (Load).
type Script []Step

// Step is one thing a fake ansible does. Its zero value does nothing.
type Step struct{ w stepWire }

// stepWire is a Step as the test process hands it to the fake process.
type stepWire struct {
	Kind     string          `json:"kind"`
	Play     *PlayStep       `json:"play,omitempty"`
	Text     string          `json:"text,omitempty"`
	Answer   string          `json:"answer,omitempty"`
	Duration time.Duration   `json:"duration,omitempty"`
	RC       int             `json:"rc,omitempty"`
	Signal   syscall.Signal  `json:"signal,omitempty"`
	Event    json.RawMessage `json:"event,omitempty"`
}

// MarshalJSON and UnmarshalJSON let a Script travel to the fake process.
func (s Step) MarshalJSON() ([]byte, error) { return json.Marshal(s.w) }

// UnmarshalJSON reads what MarshalJSON wrote.
func (s *Step) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &s.w) }

// PlayStep is a play: its name, its hosts pattern and its tasks, run with
// the linear strategy (every host starts a task, then each reports).
type PlayStep struct {
	Name    string
	Pattern string
	Tasks   []TaskStep
}

// TaskStep is one task of a play and what it did on each host.
type TaskStep struct {
	Name string
	// Action is the module, as the task names it ("debug" by default);
	// events carry it as task_action, and as resolved_action with
	// "ansible.builtin." in front when it has no namespace.
	Action string
	Hosts  []HostResult
}

// HostResult is what a task did on one host.
type HostResult struct {
	Host string
	// Status is "ok", "changed", "failed", "unreachable" or "skipped".
	Status string
	// Msg is the result's msg (failed, unreachable).
	Msg string
	// Res is merged into the result (event_data.res): a module's return
	// values.
	Res map[string]any
	// Items makes the task a loop over them: one runner_item_on_* event
	// per item, then the task's result holding them as "results".
	Items []any
	// IgnoreErrors is ignore_errors: a failure counted as ignored, not
	// failed.
	IgnoreErrors bool
}

// WithRes returns r with res merged into its result.
func (r HostResult) WithRes(res map[string]any) HostResult {
	m := make(map[string]any, len(r.Res)+len(res))
	for k, v := range r.Res {
		m[k] = v
	}
	for k, v := range res {
		m[k] = v
	}
	r.Res = m
	return r
}

// WithItems returns r as a loop over items.
func (r HostResult) WithItems(items ...any) HostResult {
	r.Items = items
	return r
}

// Ignored returns r with ignore_errors set.
func (r HostResult) Ignored() HostResult {
	r.IgnoreErrors = true
	return r
}

// OK is a task's result on host that changed nothing.
func OK(host string) HostResult { return HostResult{Host: host, Status: "ok"} }

// Changed is a task's result on host that changed something.
func Changed(host string) HostResult { return HostResult{Host: host, Status: "changed"} }

// Failed is a task that failed on host with msg.
func Failed(host, msg string) HostResult { return HostResult{Host: host, Status: "failed", Msg: msg} }

// Unreachable is a host that could not be reached, with ansible's msg.
func Unreachable(host, msg string) HostResult {
	return HostResult{Host: host, Status: "unreachable", Msg: msg}
}

// Skipped is a task skipped on host (its when: was false).
func Skipped(host string) HostResult { return HostResult{Host: host, Status: "skipped"} }

// Task is a task named name and its results, one per host.
func Task(name string, results ...HostResult) TaskStep {
	return TaskStep{Name: name, Hosts: results}
}

// Play is a play named name against pattern, running tasks. The first play
// of a script starts the playbook (playbook_on_start); the script's end
// closes it with playbook_on_stats, counted from the results.
func Play(name, pattern string, tasks ...TaskStep) Step {
	return Step{stepWire{Kind: "play", Play: &PlayStep{Name: name, Pattern: pattern, Tasks: tasks}}}
}

// Text prints text on stdout outside any event, as ansible's warnings and
// errors before the playbook starts are printed.
func Text(text string) Step { return Step{stepWire{Kind: "text", Text: text}} }

// Stderr prints text on stderr: on the terminal with it, in the stderr
// artifact with Config.NoPTY.
func Stderr(text string) Step { return Step{stepWire{Kind: "stderr", Text: text}} }

// Prompt prints prompt and reads a line from the terminal without echoing
// it, as ansible asks for a vault or become password. An answer other
// than want (any answer, when want is empty), or none (stdin ends, as it
// does with Config.NoPTY), fails the run as ansible does: "ERROR! ..." and
// rc 1. A prompt nobody answers waits, until Config.PromptTimeout or a
// cancel ends the run.
func Prompt(prompt, want string) Step {
	return Step{stepWire{Kind: "prompt", Text: prompt, Answer: want}}
}

// Sleep waits for d.
func Sleep(d time.Duration) Step { return Step{stepWire{Kind: "sleep", Duration: d}} }

// Exit ends the script with rc, after playbook_on_stats if a play ran.
// Without it, the script ends with ansible's rc for its results: 4 when a
// host was unreachable, else 2 when a task failed, else 0.
func Exit(rc int) Step { return Step{stepWire{Kind: "exit", RC: rc}} }

// Die ends the script by signal sig, at once, as a crash does: no stats.
func Die(sig syscall.Signal) Step { return Step{stepWire{Kind: "die", Signal: sig}} }

// Hang waits until the run is canceled or times out: SIGINT makes it print
// ansible's "User interrupted execution" and exit 99, as ansible does. It
// gives up after ten minutes, so that no fake outlives a lost test.
func Hang() Step { return Step{stepWire{Kind: "hang"}} }
