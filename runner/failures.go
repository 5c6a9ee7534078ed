package runner

import (
	"maps"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
)

// rcReason is what rc means to ansible-playbook and ansible, from
// ansible/cli/__init__.py (cli_executor) and the task queue manager's RUN_*
// codes (ansible 2.14). Two codes have two meanings, which the run tells
// apart: 2 is failed hosts and argparse's usage error, which comes before
// the callback plugin has sent any event (started); 4 is unreachable hosts
// and a parser error. "" for an rc ansible does not give.
func rcReason(rc int, started, failed, unreachable bool) string {
	switch rc {
	case 1:
		return "ansible reported an error (a bad playbook, inventory, variable or option value, a missing file)"
	case 2:
		if failed || started {
			return "one or more hosts failed"
		}
		return "ansible rejected its command line (a usage error)"
	case 4:
		if unreachable {
			return "one or more hosts were unreachable"
		}
		return "ansible could not parse its input (a playbook, inventory or vars file)"
	case 5:
		return "bad command-line options"
	case 6:
		return "the command line is not valid UTF-8"
	case 8:
		return "a failure ended the play (any_errors_fatal or max_fail_percentage)"
	case 99:
		return "ansible was interrupted (SIGINT)"
	case 250:
		return "ansible failed with an unexpected exception, probably a bug in ansible or a plugin"
	case 255:
		return "ansible's strategy failed with an unexpected error"
	}
	return ""
}

// isAnsibleRC reports whether argv0 is one of ansible-core's CLIs, whose
// exit codes rcReason knows: they all end through the same cli_executor,
// and ansible and ansible-playbook add the task queue manager's.
func isAnsibleRC(argv0 string) bool {
	switch filepath.Base(argv0) {
	case "ansible", "ansible-playbook", "ansible-inventory", "ansible-doc", "ansible-config",
		"ansible-galaxy", "ansible-vault", "ansible-console", "ansible-pull":
		return true
	}
	return false
}

// failures follows a run's failed and unreachable results, so that its
// *ExitError can name hosts and the last failure. see is called for every
// event; it only compares the event's name unless the event is a failure.
type failures struct {
	failed, unreachable map[string]struct{}
	last                map[string]*events.Event // per host, its last failure
	stats               *events.Stats            // the first recap
	started             bool                     // the callback plugin sent an event
}

func (f *failures) see(ev *events.Event) {
	if ev.PID != 0 { // not a verbose event the runner made of a line
		f.started = true
	}
	var into *map[string]struct{}
	switch ev.Event {
	case events.PlaybookOnStats:
		if f.stats == nil {
			if s, ok := ev.Stats(); ok {
				f.stats = s
			}
		}
		return
	case events.RunnerOnFailed, events.RunnerOnAsyncFailed:
		if ev.IgnoreErrors() {
			return
		}
		into = &f.failed
	case events.RunnerOnUnreachable:
		into = &f.unreachable
	default:
		return
	}
	host := ev.Host()
	if host == "" {
		return
	}
	if *into == nil {
		*into = map[string]struct{}{}
	}
	(*into)[host] = struct{}{}
	if f.last == nil {
		f.last = map[string]*events.Event{}
	}
	f.last[host] = ev
}

// exitError is the error of a run that ended with rc; ansible tells whether
// rc means what ansible's exit codes do. Hosts come from the recap when
// there was one: a rescued failure is not a failed host.
func (f *failures) exitError(rc int, sig syscall.Signal, ansible bool, red *credentials.Redactor) *ExitError {
	e := &ExitError{RC: rc, Status: StatusFailed, Signal: sig}
	failed, unreachable := f.failed, f.unreachable
	if f.stats != nil {
		failed, unreachable = counted(f.stats.Failures), counted(f.stats.Dark)
	}
	e.Failed, e.Unreachable = sortedHosts(failed), sortedHosts(unreachable)
	if ansible && sig == 0 {
		e.Reason = rcReason(rc, f.started, len(e.Failed) > 0, len(e.Unreachable) > 0)
	}
	var last *events.Event
	for _, h := range append(slices.Clone(e.Failed), e.Unreachable...) {
		if ev := f.last[h]; ev != nil && (last == nil || ev.Counter > last.Counter) {
			last = ev
		}
	}
	if last != nil {
		e.LastFailure = &Failure{
			Host:        red.String(last.Host()),
			Task:        red.String(last.Task()),
			Unreachable: last.Event == "runner_on_unreachable",
			Msg:         red.String(events.ShortResultMessage(last.Res(), maxFailureMsg)),
		}
	}
	return e
}

func counted(m map[string]int) map[string]struct{} {
	hosts := map[string]struct{}{}
	for h, n := range m {
		if n > 0 {
			hosts[h] = struct{}{}
		}
	}
	return hosts
}

func sortedHosts(m map[string]struct{}) []string {
	if len(m) == 0 {
		return nil
	}
	return slices.Sorted(maps.Keys(m))
}

// maxFailureMsg bounds Failure.Msg, in bytes.
const maxFailureMsg = 300
