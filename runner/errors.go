package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"

	"github.com/arunner/arunner/privdata"
)

// ErrCanceled is matched (errors.Is) by the error of a run that was canceled,
// whichever way: CancelCallback, Job.Cancel or the context. A run canceled
// through its context also matches the context's error.
var ErrCanceled = errors.New("run canceled")

// ErrTimeout is matched by the error of a run ended by a job, idle or prompt
// timeout; errors.As with *TimeoutError tells which.
var ErrTimeout = errors.New("run timed out")

// ErrBinaryNotFound is matched by the error of a run whose command could not
// be found or executed.
var ErrBinaryNotFound = errors.New("command not found or not executable")

// ExitError is returned when ansible ran and exited with a non-zero code,
// or was killed by a signal that the runner did not send. Its message alone
// tells a user what happened: what the rc means, which hosts failed or were
// unreachable, and the last failure's message, e.g.
//
//	ansible exited with rc 2 (status failed): one or more hosts failed; failed: web2; last failure: web2, task "install nginx": No package matching 'ngix' is available
type ExitError struct {
	RC     int
	Status Status
	// Signal is the signal that killed ansible, 0 when it exited. RC is
	// then 128+Signal, as ansible-runner reports it.
	Signal syscall.Signal
	// Reason says what RC means to ansible-playbook, ansible and the other
	// ansible-core CLIs (their exit codes, from ansible's cli and task
	// queue manager); "" when the run was another command or ansible does
	// not use the rc.
	Reason string
	// Failed and Unreachable are the hosts that ended failed or
	// unreachable, sorted: those of the recap (playbook_on_stats), or for a
	// run without one (an ad hoc command) those of its events. Ignored and
	// rescued failures do not count.
	Failed      []string
	Unreachable []string
	// LastFailure is the last failed or unreachable result of one of those
	// hosts, nil when there was none (a syntax error, a bad option).
	LastFailure *Failure
}

// Failure is one host's failed or unreachable task result.
type Failure struct {
	Host        string
	Task        string // the task's name; an ad hoc command's is the module's
	Unreachable bool
	// Msg is the result's msg, with the first line of its stderr when it
	// has one, on one line and cut to a few hundred bytes. Secrets the run
	// knew of are redacted.
	Msg string
}

// maxHostsNamed bounds the hosts an ExitError's message lists.
const maxHostsNamed = 10

func (e *ExitError) Error() string {
	var b strings.Builder
	if e.Signal != 0 {
		fmt.Fprintf(&b, "ansible was killed by signal %d (%v), rc %d (status %s)", int(e.Signal), e.Signal, e.RC, e.Status)
	} else {
		fmt.Fprintf(&b, "ansible exited with rc %d (status %s)", e.RC, e.Status)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	for _, hosts := range []struct {
		what  string
		names []string
	}{{"failed", e.Failed}, {"unreachable", e.Unreachable}} {
		if len(hosts.names) == 0 {
			continue
		}
		fmt.Fprintf(&b, "; %s: %s", hosts.what, strings.Join(hosts.names[:min(len(hosts.names), maxHostsNamed)], ", "))
		if n := len(hosts.names) - maxHostsNamed; n > 0 {
			fmt.Fprintf(&b, " and %d more", n)
		}
	}
	if f := e.LastFailure; f != nil {
		b.WriteString("; last failure: " + f.Host)
		if f.Task != "" {
			fmt.Fprintf(&b, ", task %q", f.Task)
		}
		if f.Unreachable {
			b.WriteString(", unreachable")
		}
		if f.Msg != "" {
			b.WriteString(": " + f.Msg)
		}
	}
	return b.String()
}

// HookPanic is what Run, Job.Wait and Stream panic with, on the caller's
// goroutine, when one of Config's hooks (EventHandler, StatusHandler,
// CancelCallback, FinishedCallback, Wrap) panicked on one of the run's own.
// The runner recovers such a panic and stops the run first: ansible's process
// group is killed and reaped, the run's private files (credentials, extra
// vars) are removed, and the artifacts are completed with status "error". No
// hook is called after the one that panicked. A caller that recovers it gets
// the hook's name, its panic value and the stack where it panicked.
type HookPanic struct {
	Hook  string // the Config field, e.g. "EventHandler"
	Value any    // what the hook panicked with
	Stack []byte // the panicking goroutine's stack (runtime/debug.Stack)
}

func (p *HookPanic) Error() string {
	return fmt.Sprintf("runner: %s panicked: %v\n\n%s", p.Hook, p.Value, p.Stack)
}

// Unwrap returns the panic value when it is an error.
func (p *HookPanic) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// TimeoutError says which limit ended the run. It matches ErrTimeout.
type TimeoutError struct {
	Kind  TimeoutKind
	Limit string // the limit as configured, e.g. "30s"
	// Prompt is the unanswered prompt text when Kind is PromptTimeout.
	Prompt string
}

func (e *TimeoutError) Error() string {
	if e.Kind == PromptTimeout {
		return fmt.Sprintf("run timed out: no answer for prompt %q within %s", e.Prompt, e.Limit)
	}
	return fmt.Sprintf("run timed out: %s timeout of %s reached", e.Kind, e.Limit)
}

// notice is the line the run's output ends with when e stopped it: ansible's
// own last words ("User interrupted execution", or nothing after SIGKILL)
// do not say why. It names the limit, never the prompt's text.
func (e *TimeoutError) notice() string {
	switch e.Kind {
	case IdleTimeout:
		return fmt.Sprintf("The idle timeout of %s was reached (no output for %s): the run was stopped.", e.Limit, e.Limit)
	case PromptTimeout:
		return fmt.Sprintf("The prompt timeout of %s was reached (a prompt went unanswered): the run was stopped.", e.Limit)
	}
	return fmt.Sprintf("The job timeout of %s was reached: the run was stopped.", e.Limit)
}

// Is makes a *TimeoutError match ErrTimeout.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// cancelError is the error of a canceled run; it matches ErrCanceled and,
// when the context was the cause, the context's error.
type cancelError struct{ cause error }

func (e *cancelError) Error() string {
	if e.cause != nil {
		return "run canceled: " + e.cause.Error()
	}
	return "run canceled"
}

func (e *cancelError) Is(target error) bool { return target == ErrCanceled }
func (e *cancelError) Unwrap() error        { return e.cause }

// ManagedEnvError is returned when a caller tries to set an environment
// variable that arunner manages itself (the callback plugin, fact cache and
// event settings); such a value would silently break the run.
type ManagedEnvError struct {
	Name   string // the variable
	Source string // where the attempt came from: "Config.EnvVars" or the env/envvars path
}

func (e *ManagedEnvError) Error() string {
	return fmt.Sprintf("%s sets %s, which arunner manages", e.Source, e.Name)
}

// ConfigError is returned before anything is started when the run cannot be
// prepared: a missing playbook, project dir or inventory, a malformed
// private data dir, conflicting settings.
type ConfigError struct {
	Field string // the Config field or private data dir path at fault
	Err   error
}

func (e *ConfigError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// ArtifactError is part of the error of a run whose artifacts could not all
// be written (a full disk, a read-only or vanished artifacts dir): the run
// ends with StatusError whatever ansible did, and Result.RC is still
// ansible's rc. Path is the file that failed first (a job_events file, the
// stdout, rc or status file) and Err the cause, a syscall.Errno such as
// ENOSPC when the system gave one (errors.Is(err, syscall.ENOSPC) works).
type ArtifactError struct {
	Path string
	Err  error
}

func (e *ArtifactError) Error() string {
	return "artifact " + e.Path + " not written: " + e.Err.Error()
}

func (e *ArtifactError) Unwrap() error { return e.Err }

// artifactError is err as an *ArtifactError naming the file that failed, or
// path when err names none; nil when err is nil.
func artifactError(path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &ArtifactError{Path: pe.Path, Err: pe.Err}
	}
	var fe *privdata.FileError
	if errors.As(err, &fe) {
		return &ArtifactError{Path: fe.Path, Err: fe.Err}
	}
	return &ArtifactError{Path: path, Err: err}
}

// ErrOutputStalled is the cause in an *OutputError when Config.Output took
// nothing for too long: it fell too far behind during the run, or did not
// take the rest within a few seconds of the end.
var ErrOutputStalled = errors.New("Config.Output stalled")

// OutputError is Result.OutputErr: Config.Output failed or stalled and did
// not get all of ansible's text. It does not change the run's status or
// error: Output is a view of the run, the artifacts are its record, and
// they are complete.
type OutputError struct {
	Err  error // what Output's Write (or Flush) returned, or ErrOutputStalled
	Lost int64 // bytes Output did not get, from the first one lost to the end
}

func (e *OutputError) Error() string {
	return fmt.Sprintf("output: %v; its last %d bytes were not delivered", e.Err, e.Lost)
}

func (e *OutputError) Unwrap() error { return e.Err }
