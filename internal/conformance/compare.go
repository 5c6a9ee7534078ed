package conformance

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
)

// Options declares the known, deliberate differences of one comparison.
// The zero value compares everything.
type Options struct {
	// StripTerminal removes ANSI escape sequences and carriage returns from
	// both stdout artifacts before comparing them: for a run that one side
	// never handed to ansible (arunner's missing playbook), whose text was
	// written without a terminal in between.
	StripTerminal bool
	// UnorderedStdout compares the stdout artifacts as multisets of lines:
	// with several forks or the free strategy, hosts report in whatever
	// order they finish, in either implementation.
	UnorderedStdout bool
	// StdoutPrefix only requires the shorter stdout artifact to be a prefix
	// of the longer, line by line: for runs cut short at a moment that
	// depends on timing (timeouts, cancels), where the two sides stop at
	// different points of the same output.
	StdoutPrefix bool
	// AnyCount names event types whose number depends on timing (how
	// often an async job was polled before it ended): they are left out
	// of the multiset check, and IgnoreLines should then drop their text.
	AnyCount []string
	// IgnoreLines, when set, drops the stdout lines it matches from both
	// artifacts (after normalizing) before they are compared.
	IgnoreLines *regexp.Regexp
	// NoEvents skips every event check: neither side ran the callback
	// plugin, or only one side started ansible.
	NoEvents bool
	// NoCommand skips the command artifact check: one side never built a
	// command (arunner's missing playbook is refused before anything runs).
	NoCommand bool
	// EnvOnlyOurs and EnvOnlyRef name environment variables of the command
	// artifact that only our side, or only the reference, records, on top
	// of the always-allowed DeliberateEnvDifferences.
	EnvOnlyOurs, EnvOnlyRef []string
	// Argv, when set, rewrites each side's normalized argv before they are
	// compared, for flags that differ on purpose.
	Argv func(argv []string) []string
	// Fixup edits both runs before anything is compared, for differences
	// that need more than the switches above. Document each use.
	Fixup func(t testing.TB, ours, ref *Run)
}

// DeliberateEnvDifferences are command artifact env keys that differ
// between arunner and ansible-runner by design (README, "Compatibility"):
// arunner gives each run its own ssh control path dir, and passes its
// callback plugin the user's stdout callback (ORIGINAL_STDOUT_CALLBACK, so
// that the human text can follow it) and its event size bound explicitly
// (MAX_EVENT_RES), where ansible-runner's plugin relies on its defaults,
// and names the pipe that carries event JSON beside the terminal
// (ARUNNER_EVENT_FD, eventproto.SideBandEnv).
var DeliberateEnvDifferences = struct{ OnlyOurs, OnlyRef []string }{
	OnlyOurs: []string{"ANSIBLE_SSH_CONTROL_PATH_DIR", "ORIGINAL_STDOUT_CALLBACK", "MAX_EVENT_RES", eventproto.SideBandEnv},
}

// Compare asserts that ours agrees with the reference run ref, as the
// package doc lists, modulo opts. Failures are reported through t and do
// not stop the comparison, so one run shows every difference at once.
func Compare(t testing.TB, ours, ref Run, opts Options) {
	t.Helper()
	if opts.Fixup != nil {
		opts.Fixup(t, &ours, &ref)
	}
	assert.Equal(t, ref.Status, ours.Status, "status artifact")
	assert.Equal(t, ref.RC, ours.RC, "rc artifact")
	if !opts.NoCommand {
		compareCommand(t, ours, ref, opts)
	}
	if !opts.NoEvents {
		compareEvents(t, ours, ref, opts)
	}
	o, r := pathless(ours.Stdout, ours.PrivateDataDir), pathless(ref.Stdout, ref.PrivateDataDir)
	if opts.StripTerminal {
		o, r = StripTerminal(o), StripTerminal(r)
	}
	// Line slices make testify's diff show only the lines that differ.
	ol, rl := strings.Split(Normalize(o), "\n"), strings.Split(Normalize(r), "\n")
	if opts.IgnoreLines != nil {
		ol = slices.DeleteFunc(ol, opts.IgnoreLines.MatchString)
		rl = slices.DeleteFunc(rl, opts.IgnoreLines.MatchString)
	}
	if opts.UnorderedStdout {
		slices.Sort(ol)
		slices.Sort(rl)
	}
	if opts.StdoutPrefix {
		// The last common line may itself be cut short on one side.
		n := min(len(ol), len(rl)) - 1
		ol, rl = ol[:max(n, 0)], rl[:max(n, 0)]
	}
	assert.Equal(t, rl, ol, "stdout artifact")
}

// pathless replaces the private data dir in s by "PDD".
func pathless(s, pdd string) string {
	if pdd == "" || pdd == "." || pdd == "/" {
		return s
	}
	return strings.ReplaceAll(s, pdd, "PDD")
}

// compareCommand checks the command artifact: the same keys, the same argv
// modulo the private data dir, the same cwd relative to it, the same env
// variable names modulo the declared differences.
func compareCommand(t testing.TB, ours, ref Run, opts Options) {
	t.Helper()
	assert.Equal(t, ref.CommandKeys, ours.CommandKeys, "command artifact keys")
	argv := func(r Run) []string {
		out := make([]string, len(r.Command.Command))
		for i, a := range r.Command.Command {
			if i == 0 {
				a = filepath.Base(a) // ansible-runner records a bare name, or a path
			}
			out[i] = pathless(a, r.PrivateDataDir)
		}
		if opts.Argv != nil {
			out = opts.Argv(out)
		}
		return out
	}
	assert.Equal(t, argv(ref), argv(ours), "command argv")
	rel := func(r Run) string {
		p, err := filepath.Rel(r.PrivateDataDir, r.Command.Cwd)
		if err != nil {
			return r.Command.Cwd
		}
		return p
	}
	assert.Equal(t, rel(ref), rel(ours), "command cwd relative to the private data dir")
	onlyOurs := append(slices.Clone(DeliberateEnvDifferences.OnlyOurs), opts.EnvOnlyOurs...)
	onlyRef := append(slices.Clone(DeliberateEnvDifferences.OnlyRef), opts.EnvOnlyRef...)
	keys := func(env map[string]string, drop []string) []string {
		var out []string
		for _, k := range slices.Sorted(maps.Keys(env)) {
			if !slices.Contains(drop, k) {
				out = append(out, k)
			}
		}
		return out
	}
	// The whole inherited environment is recorded by both; what matters
	// is what each adds, so compare only the names that are not the test
	// process's own.
	inherited := map[string]bool{}
	for _, kv := range CleanEnv(nil) {
		k, _, _ := strings.Cut(kv, "=")
		inherited[k] = true
	}
	inherited["TMPDIR"] = true // RunReferenceEnv's, for ansible-runner alone
	added := func(ks []string) []string {
		var out []string
		for _, k := range ks {
			if !inherited[k] {
				out = append(out, k)
			}
		}
		return out
	}
	assert.Equal(t, added(keys(ref.Command.Env, onlyRef)), added(keys(ours.Command.Env, onlyOurs)), "command env names")
}

// evKey identifies an event across two runs of one playbook.
type evKey struct{ Event, Host, Task string }

func (k evKey) String() string { return fmt.Sprintf("(%s %q %q)", k.Event, k.Host, k.Task) }

func keyOf(e *events.Event) evKey { return evKey{e.Event, e.Host(), e.Task()} }

// comparableEvents drops the events that legitimately differ between
// runs: the empty verbose events ansible-runner's plugin emits from forked
// workers (their text arrives through the parent, which frames it again).
func comparableEvents(evs []events.Event) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if e.Event == events.Verbose && e.Stdout == "" && e.PID != 0 {
			continue
		}
		out = append(out, e)
	}
	return out
}

// uuidFields are the event_data fields a parent_uuid may point at.
var uuidFields = []string{"playbook_uuid", "play_uuid", "task_uuid"}

// compareEvents checks counters, the (event, host, task) multiset, field
// names, the parent hierarchy and playbook_on_stats.
func compareEvents(t testing.TB, ours, ref Run, opts Options) {
	t.Helper()
	for i, e := range ours.Events {
		if !assert.Equal(t, i+1, e.Counter, "our counters must be 1..N without gaps") {
			break
		}
	}
	o, r := comparableEvents(ours.Events), comparableEvents(ref.Events)
	count := func(evs []events.Event) map[string]int {
		m := map[string]int{}
		for i := range evs {
			if !slices.Contains(opts.AnyCount, evs[i].Event) {
				m[keyOf(&evs[i]).String()]++
			}
		}
		return m
	}
	assert.Equal(t, count(r), count(o), "multiset of (event, host, task)")

	// Pair events by key and occurrence to compare their shapes.
	pairs, _ := pairByKey(o, r, keyOf)
	for _, p := range pairs {
		if p.our == nil {
			continue // reported by the multiset check
		}
		re, oe, k, n := p.ref, p.our, p.key, p.n
		rd, od := dataOf(re), dataOf(oe)
		assert.Subset(t, topKeys(oe), topKeys(re), "top-level keys of %v #%d", k, n)
		assert.Subset(t, slices.Sorted(maps.Keys(od)), slices.Sorted(maps.Keys(rd)), "event_data keys of %v #%d", k, n)
		// The same parent: where the reference's parent is its own
		// playbook, play or task uuid, ours must be the same field.
		assert.Equal(t, re.ParentUUID != "", oe.ParentUUID != "", "parent_uuid presence of %v #%d", k, n)
		// Each event's text is what ansible printed for it; verbose
		// events from workers are framed differently by the two plugins,
		// and when hosts race (UnorderedStdout) which event carries a
		// shared banner depends on who came first.
		if re.Event != events.Verbose && !opts.UnorderedStdout && !slices.Contains(opts.AnyCount, re.Event) {
			assert.Equal(t, Normalize(pathless(re.Stdout, ref.PrivateDataDir)), Normalize(pathless(oe.Stdout, ours.PrivateDataDir)),
				"stdout of %v #%d", k, n)
		}
		for _, f := range uuidFields {
			if s := strOf(rd[f]); s != "" && s == re.ParentUUID {
				assert.Equal(t, strOf(od[f]), oe.ParentUUID, "parent_uuid of %v #%d is its %s", k, n, f)
			}
		}
	}

	// Every parent must be an event of the run or one of its uuids.
	known := map[string]bool{}
	for i := range ours.Events {
		e := &ours.Events[i]
		known[e.UUID] = true
		d := dataOf(e)
		for _, f := range uuidFields {
			if s := strOf(d[f]); s != "" {
				known[s] = true
			}
		}
	}
	for _, e := range ours.Events {
		if e.ParentUUID != "" {
			assert.True(t, known[e.ParentUUID], "parent %s of %s #%d unknown", e.ParentUUID, e.Event, e.Counter)
		}
	}

	rs, rok := findStats(ref.Events)
	os, ook := findStats(ours.Events)
	assert.Equal(t, rok, ook, "playbook_on_stats present")
	if rok && ook {
		assert.Equal(t, rs, os, "playbook_on_stats")
	}
}

func dataOf(e *events.Event) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(e.EventData, &m) // absent or not an object: no keys
	return m
}

func strOf(v json.RawMessage) string {
	var s string
	_ = json.Unmarshal(v, &s) // not a string: ""
	return s
}

func topKeys(e *events.Event) []string {
	b, _ := e.MarshalJSON()
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return slices.Sorted(maps.Keys(m))
}

func findStats(evs []events.Event) (*events.Stats, bool) {
	for i := range evs {
		if s, ok := evs[i].Stats(); ok {
			return s, true
		}
	}
	return nil, false
}

var normalizers = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?`), "TIMESTAMP"},
	{regexp.MustCompile(`"delta": "[^"]*"`), `"delta": "DELTA"`},
	{regexp.MustCompile(`delta: '[^']*'`), `delta: 'DELTA'`},
	{regexp.MustCompile(`j\d+\.\d+`), "JID"},
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(_\d+)?`), "UUID"},
	{regexp.MustCompile(`ansible-tmp-[0-9.\-]+`), "ansible-tmp-X"},
	{regexp.MustCompile(`ansible-local-\w+/tmp\w+`), "ansible-local-X"},
	{regexp.MustCompile(`'(awx_display|arunner)'`), "'STDOUT_CALLBACK'"},
	{regexp.MustCompile(`"(ansible_facts|ansible_local)": \{.*`), `"$1": FACTS`},
}

// Normalize removes from ansible output what differs between two runs of
// one playbook: timestamps, command deltas, async job ids, uuids,
// ansible's temp dir names and the stdout callback's name.
func Normalize(s string) string {
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return s
}

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// StripTerminal removes ANSI escape sequences and carriage returns.
func StripTerminal(s string) string {
	return strings.ReplaceAll(ansiEscape.ReplaceAllString(s, ""), "\r", "")
}
