package runnertest

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/privdata"
)

// Events are a run's events in counter order, to search and summarize.
type Events []events.Event

// ReadEvents reads the events of the run whose artifacts are in
// artifactDir (Result.ArtifactDir).
func ReadEvents(artifactDir string) (Events, error) {
	var evs Events
	dir := filepath.Join(artifactDir, "job_events")
	for data, err := range privdata.ReadEvents(dir) {
		if err != nil {
			return nil, fmt.Errorf("runnertest: %w", err)
		}
		var ev events.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, fmt.Errorf("runnertest: %s: %w", dir, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// Match selects events: each non-empty field must equal the event's.
type Match struct {
	Event string // "runner_on_failed", ...
	Host  string
	Task  string
	Play  string
}

// Find returns the events that m selects, in order.
func (e Events) Find(m Match) Events {
	var out Events
	for i := range e {
		ev := &e[i]
		if (m.Event == "" || m.Event == ev.Event) && (m.Host == "" || m.Host == ev.Host()) &&
			(m.Task == "" || m.Task == ev.Task()) && (m.Play == "" || m.Play == ev.Play()) {
			out = append(out, *ev)
		}
	}
	return out
}

// Names returns the events' names (event), in order.
func (e Events) Names() []string {
	out := make([]string, len(e))
	for i := range e {
		out[i] = e[i].Event
	}
	return out
}

// Summary is what a run did, per host and per failed task: plain values to
// compare with ==, reflect.DeepEqual or a test library's Equal.
type Summary struct {
	// Hosts holds the counters of the run's playbook_on_stats, per host.
	Hosts map[string]HostStats
	// Failed lists the tasks that failed (not ignored) and the hosts that
	// were unreachable, in order.
	Failed []Failure
}

// HostStats is one host's line of the play recap.
type HostStats struct {
	OK, Changed, Unreachable, Failed, Skipped, Rescued, Ignored int
}

// Failure is a task that failed on a host, or found it unreachable.
type Failure struct {
	Host, Task string
	// Unreachable tells an unreachable host from a failed task.
	Unreachable bool
	// Msg is the result's msg.
	Msg string
}

// Summary summarizes the events: the last playbook_on_stats's counters,
// and every runner_on_failed (not ignored) and runner_on_unreachable.
func (e Events) Summary() Summary {
	s := Summary{Hosts: map[string]HostStats{}}
	for i := range e {
		ev := &e[i]
		switch ev.Event {
		case "runner_on_failed", "runner_on_unreachable":
			if ev.IgnoreErrors() {
				continue
			}
			var res struct {
				Msg string `json:"msg"`
			}
			json.Unmarshal(ev.Res(), &res)
			s.Failed = append(s.Failed, Failure{Host: ev.Host(), Task: ev.Task(),
				Unreachable: ev.Event == "runner_on_unreachable", Msg: res.Msg})
		case "playbook_on_stats":
			st, ok := ev.Stats()
			if !ok {
				continue
			}
			s.Hosts = map[string]HostStats{}
			for _, m := range []map[string]int{st.OK, st.Changed, st.Dark, st.Failures, st.Skipped, st.Rescued, st.Ignored, st.Processed} {
				for h := range m {
					s.Hosts[h] = HostStats{OK: st.OK[h], Changed: st.Changed[h], Unreachable: st.Dark[h],
						Failed: st.Failures[h], Skipped: st.Skipped[h], Rescued: st.Rescued[h], Ignored: st.Ignored[h]}
				}
			}
		}
	}
	return s
}
