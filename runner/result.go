package runner

import (
	"iter"
	"time"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/factcache"
	"github.com/arunner/arunner/privdata"
)

// Result is what a run left: its final status and rc, its artifacts, and
// access to its events.
type Result struct {
	Ident       string
	Status      Status
	RC          int
	ArtifactDir string // artifacts/<ident>
	// Command and Cwd are what was run, secrets redacted.
	Command []string
	Cwd     string
	// Timeout tells which limit ended a run with StatusTimeout.
	Timeout TimeoutKind
	Started time.Time
	Ended   time.Time
	// FinalCounter is the counter of the last event delivered: AWX's EOF
	// final_counter.
	FinalCounter int
	// FrameErrors are garbled event frames met in ansible's output (at most
	// 100); their text was kept in stdout.
	FrameErrors []error
	// ArtifactErr is the first artifact that could not be written, an
	// *ArtifactError: the stdout artifact or, when it was written, the
	// first job_events file, then the rc and status files. A run with one
	// ends with StatusError, and Err wraps it.
	ArtifactErr error
	// OutputErr is an *OutputError when Config.Output failed or stalled
	// and did not get all of the text. It does not change Status or Err.
	OutputErr error
	// Facts is what Config.FactCache saw after the run, per host; FactsErr
	// is an error saving them.
	Facts    *factcache.Report
	FactsErr error
	// Err is the error Run returned; for LoadResult, that error as far as
	// the artifacts tell it.
	Err error

	// fails has the recap and the failures seen, for Stats and ExitError.
	fails    failures
	redactor *credentials.Redactor
	// sideRecords counts the events side band's records (tests check that
	// the plugin used it).
	sideRecords int
}

// Redact hides in s every secret the run knew of: prompt answers (Config
// and env/passwords), key passphrases and credential values. Use it on
// ansible's text before it goes into a log line or an error.
func (r *Result) Redact(s string) string {
	if r == nil || r.redactor == nil {
		return s
	}
	return r.redactor.String(s)
}

// Stats is the recap of the run's playbook_on_stats event. It is never nil:
// a run that had none (an ad hoc command, a syntax error, a canceled run)
// has empty stats, which name no host; Processed tells whether a host was
// recapped.
func (r *Result) Stats() *events.Stats {
	if r == nil || r.fails.stats == nil {
		return &events.Stats{}
	}
	return r.fails.stats
}

// StdoutPath is the stdout artifact.
func (r *Result) StdoutPath() string { return r.artifacts().StdoutPath() }

// artifacts is the run's artifacts dir, to build the paths inside it.
func (r *Result) artifacts() *privdata.Artifacts { return &privdata.Artifacts{Dir: r.ArtifactDir} }

// Events yields the run's events in counter order, read back from the
// job_events artifacts (events an EventHandler dropped are not there). A
// file that cannot be read or decoded yields a *privdata.FileError naming
// it, and the iteration goes on with the next.
func (r *Result) Events() iter.Seq2[*events.Event, error] {
	return func(yield func(*events.Event, error) bool) {
		for f, err := range privdata.ReadEventFiles(r.artifacts().JobEventsDir()) {
			if err != nil {
				if !yield(nil, err) || f.Path == "" {
					return
				}
				continue
			}
			ev := new(events.Event)
			if err := ev.UnmarshalJSON(f.Data); err != nil {
				if !yield(nil, &privdata.FileError{Path: f.Path, Err: err}) {
					return
				}
				continue
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// HostEvents yields the events whose event_data.host is host.
func (r *Result) HostEvents(host string) iter.Seq2[*events.Event, error] {
	return func(yield func(*events.Event, error) bool) {
		for ev, err := range r.Events() {
			if err != nil || ev.Host() == host {
				if !yield(ev, err) {
					return
				}
			}
		}
	}
}
