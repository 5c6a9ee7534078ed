package runner_test

import (
	"context"
	"maps"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/conformance"
	"github.com/arunner/arunner/runner"
)

// confFixtures is where the conformance suite's private data dirs live.
var confFixtures = filepath.Join("..", "testdata", "conformance")

// confSettings are the run settings a case passes to both sides, each
// mapped to its ansible-runner flag and its runner.Config field, so that
// one list of settings drives both.
type confSettings struct {
	Playbook  string
	Limit     string // --limit        <-> Config.Limit
	Cmdline   string // --cmdline      <-> Config.Cmdline
	Verbosity int    // -v...          <-> Config.Verbosity
	Forks     int    // --forks        <-> Config.Forks
	// Env is added to ansible-runner's environment and to Config.EnvVars
	// (for ANSIBLE_STDOUT_CALLBACK, which both honour there).
	Env map[string]string
}

// flags is the ansible-runner command line for s.
func (s confSettings) flags() []string {
	f := []string{"-p", s.Playbook}
	if s.Limit != "" {
		f = append(f, "--limit", s.Limit)
	}
	if s.Cmdline != "" {
		f = append(f, "--cmdline", s.Cmdline)
	}
	if s.Verbosity > 0 {
		f = append(f, "-"+strings.Repeat("v", s.Verbosity))
	}
	if s.Forks > 0 {
		f = append(f, "--forks", strconv.Itoa(s.Forks))
	}
	return f
}

// config is the runner.Config for s on the private data dir pdd.
func (s confSettings) config(pdd string) runner.Config {
	return runner.Config{
		PrivateDataDir: pdd,
		Ident:          "ours",
		Target: runner.Playbook{Path: s.Playbook, Switches: runner.Switches{
			Limit: s.Limit, Verbosity: s.Verbosity, Forks: s.Forks,
		}},
		Cmdline: s.Cmdline,
	}
}

// TestConformance runs each playbook of testdata/conformance through
// runner.Run and through ansible-runner 2.3.1, each on its own copy of the
// fixture and at the same time, and compares the artifacts both leave.
func TestConformance(t *testing.T) {
	conformance.RequireTools(t, "ansible-playbook", "ansible-runner")
	tests := []struct {
		name    string
		fixture string
		confSettings
		want string // "status rc" both sides must leave, so that a fixture broken alike on both sides shows
		// refHas proves the case exercises what it names: "event:NAME" is
		// an event type the reference must emit, anything else text of its
		// stdout artifact (or, for artifact_data, of its stats event).
		refHas []string
		opts   conformance.Options
	}{
		// Several hosts report in a fixed order only with one fork.
		{name: "outcomes", fixture: "plays", confSettings: confSettings{Playbook: "outcomes.yml", Forks: 1}, want: "failed 4", refHas: []string{"event:runner_on_unreachable", "event:runner_on_skipped", "event:runner_on_failed", "event:runner_on_ok", "...ignoring"}},
		{name: "loops", fixture: "plays", confSettings: confSettings{Playbook: "loops.yml"}, want: "failed 2", refHas: []string{"event:runner_item_on_failed", "event:runner_item_on_skipped", "event:runner_item_on_ok"}},
		{name: "handlers", fixture: "plays", confSettings: confSettings{Playbook: "handlers.yml"}, want: "successful 0", refHas: []string{"event:playbook_on_notify", "RUNNING HANDLER [reload]"}},
		{name: "roles and includes", fixture: "plays", confSettings: confSettings{Playbook: "roles.yml"}, want: "successful 0", refHas: []string{"event:playbook_on_include", "web : role task", "inside import"}},
		{name: "block rescue always", fixture: "plays", confSettings: confSettings{Playbook: "block.yml"}, want: "failed 2", refHas: []string{"rescued", "always after failure"}},
		{name: "serial", fixture: "plays", confSettings: confSettings{Playbook: "serial.yml"}, want: "successful 0", refHas: []string{"event:playbook_on_play_start"}},
		{
			name: "strategy free", fixture: "plays", confSettings: confSettings{Playbook: "free.yml"}, want: "successful 0", refHas: []string{"ok: [h2]"},
			opts: conformance.Options{UnorderedStdout: true},
		},
		{
			name: "async poll", fixture: "plays", confSettings: confSettings{Playbook: "async.yml"}, want: "successful 0", refHas: []string{"event:runner_on_async_ok", "event:runner_on_async_failed"},
			// How often a job is polled before it ends depends on timing.
			opts: conformance.Options{AnyCount: []string{"runner_on_async_poll"}, IgnoreLines: regexp.MustCompile(`ASYNC POLL on`)},
		},
		{name: "facts and retries", fixture: "plays", confSettings: confSettings{Playbook: "misc.yml"}, want: "failed 2", refHas: []string{"event:runner_retry", "ansible_facts"}},
		{name: "vvv", fixture: "plays", confSettings: confSettings{Playbook: "simple.yml", Verbosity: 3}, want: "successful 0", refHas: []string{"event:verbose", "Using "}},
		{name: "unicode and huge output", fixture: "plays", confSettings: confSettings{Playbook: "unicode.yml"}, want: "successful 0", refHas: []string{"Grüße, 世界! ✓ 🚀", "229999", strings.Repeat("x", 100000)}},
		{name: "no_log", fixture: "plays", confSettings: confSettings{Playbook: "nolog.yml"}, want: "successful 0", refHas: []string{"the output has been hidden"}},
		{name: "set_stats", fixture: "plays", confSettings: confSettings{Playbook: "set_stats.yml"}, want: "successful 0", refHas: []string{"artifact_data"}},
		{name: "warnings", fixture: "plays", confSettings: confSettings{Playbook: "warning.yml"}, want: "successful 0", refHas: []string{"event:playbook_on_no_hosts_matched", "event:warning", "this is a module warning", "DEPRECATION WARNING"}},
		{name: "syntax error", fixture: "plays", confSettings: confSettings{Playbook: "syntax.yml"}, want: "failed 4", refHas: []string{"bogus_keyword"}},
		{
			name: "missing playbook", fixture: "plays", confSettings: confSettings{Playbook: "nosuch.yml"}, want: "failed 1", refHas: []string{"nosuch.yml"},
			// README: arunner refuses a missing playbook before starting
			// ansible, with ansible-playbook's message, status and rc, the
			// command artifact and the message as one verbose event, as
			// ansible-runner leaves them; the text is written without a
			// terminal (no colors, no \r).
			opts: conformance.Options{StripTerminal: true},
		},
		{name: "env files", fixture: "envfiles", confSettings: confSettings{Playbook: "env.yml"}, want: "successful 0", refHas: []string{"hello from extravars 8", "from envvars"}},
		{name: "limit", fixture: "plays", confSettings: confSettings{Playbook: "outcomes.yml", Limit: "h1", Forks: 1}, want: "successful 0", refHas: []string{"ok: [h1]"}},
		{name: "cmdline check diff", fixture: "plays", confSettings: confSettings{Playbook: "check.yml", Cmdline: "--check --diff -e x=1"}, want: "successful 0", refHas: []string{"event:runner_on_file_diff", "x=1", "+x is 1"}},
		{
			name: "forks", fixture: "plays", confSettings: confSettings{Playbook: "outcomes.yml", Forks: 2, Limit: "pair"}, want: "failed 2", refHas: []string{"ok: [h2]"},
			opts: conformance.Options{UnorderedStdout: true},
		},
		{
			name: "job_timeout", fixture: "timeout", confSettings: confSettings{Playbook: "sleep.yml"}, want: "timeout 254",
			// Both sides end the run with status timeout and rc 254, but
			// where ansible was cut depends on timing (ansible-runner looks
			// every 5 s, arunner within 200 ms; on a loaded machine ansible
			// may still be starting), so the events differ and the stdout
			// texts need only agree as far as both got. README: arunner
			// sends SIGINT first, so ansible may print its interrupt
			// traceback or "User interrupted execution"; that tail is ours
			// alone and is dropped.
			opts: conformance.Options{NoEvents: true, StdoutPrefix: true, Fixup: dropInterruptTail},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each side of each case has its own copy of the fixture
			ours, ref, res := runBothSides(t, tt.fixture, tt.confSettings)
			assert.Equal(t, tt.want, ref.Status+" "+ref.RC, "the reference's status and rc")
			for _, h := range tt.refHas {
				assert.True(t, refContains(ref, h), "the reference run has %.80q", h)
			}
			conformance.Compare(t, ours, ref, tt.opts)
			if res != nil {
				assert.Equal(t, ours.Status, string(res.Status), "Result.Status matches the status artifact")
				assert.Equal(t, ours.RC, strconv.Itoa(res.RC), "Result.RC matches the rc artifact")
			}
		})
	}
}

// runBothSides runs s on the fixture through runner.Run and through
// ansible-runner, each on its own copy of it and at the same time, and
// returns the artifacts each left, and runner.Run's result (nil when it
// failed; the artifacts say how).
func runBothSides(t *testing.T, fixture string, s confSettings) (ours, ref conformance.Run, res *runner.Result) {
	t.Helper()
	fixture = filepath.Join(confFixtures, fixture)
	mine, theirs := conformance.CopyDir(t, fixture), conformance.CopyDir(t, fixture)

	// Ours runs in the background while the reference runs here:
	// RunReference may stop the test, which only this goroutine may.
	ctx, cancel := context.WithTimeout(context.Background(), conformance.ReferenceTimeout)
	var err error
	finished := make(chan struct{})
	cfg := s.config(mine)
	// ansible's temporary files go to the test's dir on both sides
	// (RunReference sets the reference's): a module that the job_timeout
	// case interrupts while it unpacks leaves its payload dir behind.
	cfg.EnvVars = maps.Clone(s.Env)
	if cfg.EnvVars == nil {
		cfg.EnvVars = map[string]string{}
	}
	cfg.EnvVars["TMPDIR"] = t.TempDir()
	go func() {
		defer close(finished)
		res, err = runner.Run(ctx, cfg)
	}()
	// A failing reference must not leave ours running while the temp dirs
	// are removed.
	defer func() { cancel(); <-finished }()
	ref = conformance.RunReferenceEnv(t, theirs, "ref", s.Env, s.flags()...)
	<-finished
	if err != nil {
		t.Logf("runner.Run: %v", err) // compared through the artifacts
	}
	return conformance.ReadArtifacts(t, filepath.Join(mine, "artifacts", "ours")), ref, res
}

// refContains tells whether the reference run has h: an event type for
// "event:NAME", else text of its stdout or of an event's data.
func refContains(ref conformance.Run, h string) bool {
	name, isEvent := strings.CutPrefix(h, "event:")
	if !isEvent && strings.Contains(ref.Stdout, h) {
		return true
	}
	for i := range ref.Events {
		if isEvent && ref.Events[i].Event == name || !isEvent && strings.Contains(string(ref.Events[i].EventData), h) {
			return true
		}
	}
	return false
}

// jobTimeoutNotice is the line arunner ends the job_timeout case's output
// with (README): ansible-runner's ends with whatever ansible printed last.
const jobTimeoutNotice = "The job timeout of 3s was reached: the run was stopped."

// dropInterruptTail checks that our output ends with the timeout notice,
// as its last line and its last event, then removes from our stdout what
// ansible prints when it gets SIGINT (a Python traceback ending in
// KeyboardInterrupt, or ansible's own "User interrupted execution" error)
// and the notice, with the newline that opens it.
func dropInterruptTail(t testing.TB, ours, _ *conformance.Run) {
	if assert.True(t, strings.HasSuffix(ours.Stdout, "\r\n"+jobTimeoutNotice+"\r\n"), "stdout ends with the notice: %q", ours.Stdout) {
		ours.Stdout = strings.TrimSuffix(ours.Stdout, jobTimeoutNotice+"\r\n")
		ours.Stdout = strings.TrimSuffix(ours.Stdout, "\r\n")
	}
	if assert.NotEmpty(t, ours.Events) {
		last := ours.Events[len(ours.Events)-1]
		assert.Equal(t, "verbose", last.Event)
		assert.Equal(t, jobTimeoutNotice, last.Stdout)
	}
	lines := strings.SplitAfter(ours.Stdout, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Traceback (most recent call last):") || strings.Contains(l, "User interrupted execution") ||
			strings.HasPrefix(l, "KeyboardInterrupt") {
			ours.Stdout = strings.Join(lines[:i], "")
			return
		}
	}
}

// denseDifferences takes out what differs with community.general.dense for
// reasons of ansible-runner's own. Its plugin makes an instance of the
// stdout callback at load time only to take its class, and dense's prints
// when it is made and when it is collected: one verbose event more before
// the first one, and text before the first play. And its close() leaves
// the trailing partial line (dense's last escapes, printed at exit) out of
// the stdout artifact, though its event has it; ours keeps it there too.
func denseDifferences(t *testing.T, ours, ref *conformance.Run) {
	if !assert.Equal(t, events.Verbose, ref.Events[0].Event, "the reference's load-time text") {
		return
	}
	ref.Events = ref.Events[1:]
	const play = "\x1b[1mPLAY 1:"
	_, ref.Stdout, _ = strings.Cut(ref.Stdout, play)
	_, ours.Stdout, _ = strings.Cut(ours.Stdout, play)
	last := ours.Events[len(ours.Events)-1]
	if assert.True(t, strings.HasSuffix(ours.Stdout, "\n"+last.Stdout), "our stdout ends with the partial line") {
		ours.Stdout = strings.TrimSuffix(ours.Stdout, last.Stdout)
	}
}

// TestConformanceValues compares the values of the job events, not only
// their shapes: the playbooks of testdata/conformance/values (loops over
// command and debug, changed_when, failed_when, ignore_errors, no_log
// loops, set_fact, include_tasks, handlers, async, registered results used
// later, an unreachable host, and --check --diff) run through runner.Run
// and ansible-runner 2.3.1, and each event's whole event_data must be the
// same once uuids, timestamps, durations, pids and paths are normalized
// (conformance.CompareEventData). Two runs, as async tasks fail under
// --check; the second prints its text with the minimal stdout callback,
// which edits results otherwise than the default one does.
func TestConformanceValues(t *testing.T) {
	conformance.RequireTools(t, "ansible-playbook", "ansible-runner")
	tests := []struct {
		name string
		confSettings
		want   string
		refHas []string // as in TestConformance
		// adjust, when set, takes out what differs for reasons of the
		// reference's own before the runs are compared.
		adjust func(t *testing.T, ours, ref *conformance.Run)
		opts   conformance.Options
	}{
		{
			name: "site", confSettings: confSettings{Playbook: "site.yml", Forks: 1}, want: "failed 4",
			refHas: []string{"event:runner_item_on_ok", "event:runner_item_on_skipped", "event:runner_on_failed",
				"event:playbook_on_include", "event:playbook_on_notify", "event:runner_on_async_ok",
				"event:runner_on_async_failed", "event:runner_on_unreachable", "event:runner_retry", "event:runner_item_on_failed",
				"event:playbook_on_no_hosts_matched", "this is a module warning", "the output has been hidden",
				`"ansible_loop_var": "item"`, `"msg": "forced change"`},
			// A loaded machine may poll an async job before it ends.
			opts: conformance.Options{AnyCount: []string{"runner_on_async_poll"}, IgnoreLines: regexp.MustCompile(`ASYNC POLL on`)},
		},
		{
			name: "check diff minimal", want: "successful 0",
			confSettings: confSettings{Playbook: "check.yml", Cmdline: "--check --diff", Env: map[string]string{"ANSIBLE_STDOUT_CALLBACK": "minimal"}},
			refHas:       []string{"event:runner_on_file_diff", `"before": "old\n"`, `"state": "absent"`, "event:runner_on_skipped"},
			// Ours always records ORIGINAL_STDOUT_CALLBACK (README), which
			// Compare leaves out on our side; ansible-runner records it
			// when it is given a stdout callback.
			opts: conformance.Options{EnvOnlyRef: []string{"ORIGINAL_STDOUT_CALLBACK"}},
		},
		{
			// dense writes to sys.stdout itself, not through Display: its
			// text belongs to the event whose hook printed it, as in
			// ansible-runner, not to verbose events of its own. It fails
			// on item failures in both runs, with a warning that names
			// the plugin's class at an address.
			name: "site dense", want: "failed 4",
			confSettings: confSettings{Playbook: "site.yml", Forks: 1, Env: map[string]string{"ANSIBLE_STDOUT_CALLBACK": "community.general.dense"}},
			refHas:       []string{"event:runner_on_failed", "event:runner_item_on_ok", "event:playbook_on_stats", "\x1b[2K"},
			adjust:       denseDifferences,
			opts: conformance.Options{AnyCount: []string{"runner_on_async_poll", "warning"},
				IgnoreLines: regexp.MustCompile(`ASYNC POLL on|\[WARNING\]: Failure using method|CallbackModule object|x not in tuple`),
				EnvOnlyRef:  []string{"ORIGINAL_STDOUT_CALLBACK"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ours, ref, _ := runBothSides(t, "values", tt.confSettings)
			assert.Equal(t, tt.want, ref.Status+" "+ref.RC, "the reference's status and rc")
			for _, h := range tt.refHas {
				assert.True(t, refContains(ref, h), "the reference run has %.80q", h)
			}
			if tt.adjust != nil {
				tt.adjust(t, &ours, &ref)
			}
			conformance.CompareEventData(t, ours, ref, tt.opts)
			conformance.Compare(t, ours, ref, tt.opts)
		})
	}
}
