package runner

import (
	"io"
	"io/fs"
	"time"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/isolation"
	"github.com/arunner/arunner/prompt"
)

// Config describes one run. Zero values mean "ansible's default" or "as the
// private data dir says"; fields that override the private data dir say so.
type Config struct {
	// PrivateDataDir is the ansible-runner private data dir (env/, project/,
	// inventory/, artifacts/). Required; created (0700) when it does not
	// exist, as ansible-runner does.
	PrivateDataDir string
	// Ident names the run's artifacts dir; default a random UUID.
	Ident string
	// ArtifactDir is where artifacts/<Ident> is created; default
	// <PrivateDataDir>/artifacts.
	ArtifactDir string
	// ProjectDir is the working directory of ansible-playbook; default
	// <PrivateDataDir>/project, or the private data dir when that is
	// absent. As in ansible-runner, an ad hoc run (an AdHoc target, or
	// AD_HOC_COMMAND_ID in the run's environment) works in the private
	// data dir instead, whatever ProjectDir says.
	ProjectDir string
	// ProjectFS, when set, is the project: copied for this run into its
	// runtime dir, which becomes the working directory, and removed when
	// the run ends (use fs.Sub to pick a subdirectory of an embed.FS).
	// Set at most one of ProjectDir and ProjectFS.
	ProjectFS fs.FS
	// RotateArtifacts keeps only the newest N runs' artifacts (0 = keep all).
	RotateArtifacts int

	// Target is what runs: a Playbook (by path or inline), an AdHoc
	// module, a Role or a RawCommand. As in ansible-runner, an args file
	// in the private data dir (a whole command line) wins over it: when
	// that file is present, it is what runs; Target may then be nil.
	Target Target
	// Binary, Cmdline, Inventory and ExtraVars build the command line of
	// a Playbook, AdHoc or Role target; a RawCommand, whose command line
	// is whole, refuses them.
	//
	// Binary replaces ansible-playbook (or ansible) as argv[0]; tests
	// point it at a fake.
	Binary string
	// Cmdline replaces env/cmdline: extra arguments, shell-quoted, placed
	// right after the binary.
	Cmdline string
	// Inventory says where the hosts come from: sources, or an inventory
	// given as data; the zero value uses <PrivateDataDir>/inventory.
	Inventory Inventory
	// ExtraVars are written to a 0600 file for the run and passed as
	// -e @file after env/extravars, so they win over it; they never reach
	// argv and the file is removed as soon as ansible has read it.
	ExtraVars map[string]any
	// EnvVars are added to the environment, over env/envvars.
	EnvVars map[string]string

	// Credentials are AWX-style credentials; what they inject (flags,
	// prompts, env, files, extra vars, SSH keys) applies to this run only,
	// and every secret in them is redacted from what the run records.
	Credentials []credentials.Credential
	// SSHKeys are served through an in-process ssh-agent, with env/ssh_key.
	SSHKeys []SSHKey

	// Passwords answer prompts on the terminal, in order: each Pattern is a
	// regular expression, answered with Response. Added after env/passwords.
	Passwords []Password
	// PromptTimeout ends a run that sits on a prompt nobody answers; 0 means
	// the default of 120 s, negative disables it.
	PromptTimeout time.Duration

	// FactCache, when set, restores facts before the run and saves what
	// changed after it; Result.Facts reports the outcome per host.
	FactCache *FactCache

	// JobTimeout and IdleTimeout end the run with StatusTimeout; zero takes
	// env/settings' job_timeout and idle_timeout. IdleTimeout counts time
	// without any output.
	JobTimeout, IdleTimeout time.Duration
	// CancelGrace is how long a canceled run gets between SIGINT and
	// SIGKILL; default 5 s.
	CancelGrace time.Duration

	// NoPTY runs the command without a pseudo-terminal, like ansible-runner's
	// subprocess runner mode: stdout and stderr go to their own artifacts,
	// stdin is empty and no prompt can be answered (Passwords and the
	// credentials' prompt rules go unused, and PromptTimeout does not
	// apply: nothing can wait on a prompt). Helpers whose output is parsed
	// (ansible-doc -j, ansible-config) use it.
	NoPTY bool

	// Output receives ansible's human output live, as the terminal would
	// show it (tokens stripped). With JSONOutput it receives one JSON event
	// per line instead. It is written from a goroutine of its own through a
	// bounded queue, in batches at most lazyio's delay late (a person
	// watching does not notice), so that it never holds ansible up and
	// costs no wake-up per event. After a Write error, or when it falls too
	// far behind, it gets nothing more and Result.OutputErr says so; the run
	// goes on. If it has a Flush() error method, that is called at the end.
	// Run waits for it to take the rest only while it makes progress
	// (README, Reliability). Of the runner's own errors it gets only those
	// that ansible or ansible-runner would have printed there: a missing
	// playbook, a missing binary.
	Output     io.Writer
	JSONOutput bool
	// EventWindow is how long the callback plugin may hold an event so
	// that it goes out with the ones after it, which spares writes and
	// wake-ups in long loops: 0 means 20 ms, negative sends each event at
	// once. Ansible killed outright loses at most a window's events.
	EventWindow time.Duration

	// OmitEventData and OnlyFailedEventData have ansible-runner's meaning.
	OmitEventData, OnlyFailedEventData bool

	// The hooks below are called from the run's own goroutines:
	// EventHandler from the one that reads ansible's output, one event at a
	// time, in counter order; CancelCallback from the one that watches the
	// process, every 200 ms; StatusHandler and FinishedCallback from the
	// one that drives the run. A slow EventHandler slows ansible down (its
	// output is not read meanwhile) rather than piling events up in memory.
	// A hook that panics stops the run, and the panic comes out of Run or
	// Job.Wait on the caller's goroutine (HookPanic).

	// EventHandler is called for every event, in order; returning false
	// keeps the event out of job_events/ (it still reaches stdout). A kept
	// event's file is written in the background, within 50 ms.
	EventHandler func(*events.Event) bool
	// StatusHandler is called on every status transition.
	StatusHandler func(StatusUpdate)
	// CancelCallback is polled while the run goes on; true cancels it.
	CancelCallback func() bool
	// FinishedCallback is called exactly once, after the artifacts are
	// complete and the last event was delivered.
	FinishedCallback func(*Result)

	// Isolation runs ansible in a bubblewrap sandbox or in a podman or
	// docker container (an execution environment), as ansible-runner's
	// process_isolation settings do; nil means as env/settings says, and
	// env/settings' keys win over these, as in ansible-runner.
	Isolation *isolation.Options

	// Wrap, when set, may rewrite the command before it starts (after
	// Isolation applied): a sandbox or container runtime of the caller's
	// puts its own argv in front.
	Wrap func(*Command) error
}

// Password is one prompt answer: when the terminal's text matches the
// regular expression Pattern, Response is typed. Printed with fmt, it shows
// the pattern and hides the response.
type Password = prompt.Pair

// Command is the process a run starts, as Wrap sees it. Under a pty, event
// JSON travels beside the terminal, on a pipe passed as file descriptor 3
// and asked for by Env["ARUNNER_EVENT_FD"] = "3" (the child gets
// "3:<inode of the pipe>", and the plugin uses descriptor 3 only if it is
// that pipe). A Wrap whose sandbox cannot pass descriptor 3
// through to ansible may delete the variable: events then travel in-band
// on the terminal (or stdout's pipe, with NoPTY).
//
// Env also holds the run's event key, ARUNNER_EVENT_KEY (never recorded with
// the environment): the plugin puts it in every token, so that a task
// printing event framing cannot make an event. A Wrap must pass it on
// unchanged, and should not put it in argv, where other users see it.
// Deleting it turns that check off for in-band tokens.
type Command struct {
	Argv []string
	Dir  string
	Env  map[string]string
}
