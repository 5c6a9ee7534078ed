package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// requireAnsible skips t when ansible-playbook (or, for the reference side,
// ansible-runner) is not installed.
func requireAnsible(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range append([]string{"ansible-playbook"}, tools...) {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
}

// newPDD lays out a private data dir with testdata/playbooks as its
// project and testdata/inventory as its inventory, and returns it.
func newPDD(t *testing.T) string {
	t.Helper()
	pdd := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(pdd, "project"), os.DirFS(filepath.Join("testdata", "playbooks"))))
	require.NoError(t, os.MkdirAll(filepath.Join(pdd, "inventory"), 0o700))
	inv, err := os.ReadFile(filepath.Join("testdata", "inventory"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "inventory", "hosts"), inv, 0o600))
	return pdd
}

// cleanEnv returns the environment without the variables that would change
// ansible's behaviour between our run and the reference run.
func cleanEnv(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ANSIBLE_") || k == "ORIGINAL_STDOUT_CALLBACK" || strings.HasPrefix(k, "RUNNER_") ||
			k == "MAX_EVENT_RES" || k == "JOB_ID" || k == "AD_HOC_COMMAND_ID" || k == "PROJECT_UPDATE_ID" {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k])
	}
	return env
}

// runOurs runs ansible-playbook on pdd's playbook with our plugin under a
// 24x80 pty (as pexpect does for ansible-runner) and returns the events and
// the stdout artifact text.
func runOurs(t *testing.T, pdd, playbook string, args []string, opts EnvOptions, env map[string]string) ([]Event, string) {
	t.Helper()
	argv := append([]string{"-i", filepath.Join(pdd, "inventory"), playbook}, args...)
	return runOursCmd(t, pdd, "ansible-playbook", argv, opts, env)
}

// runOursCmd is runOurs for any ansible command line.
func runOursCmd(t *testing.T, pdd, bin string, argv []string, opts EnvOptions, env map[string]string) ([]Event, string) {
	t.Helper()
	dir, err := InstallPlugin(filepath.Join(t.TempDir(), "callback"))
	require.NoError(t, err)
	opts.PluginDir = dir
	all := map[string]string{"ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_HOST_KEY_CHECKING": "False"}
	for k, v := range env {
		all[k] = v
	}
	for k, v := range Env(opts) {
		all[k] = v
	}
	cmd := exec.Command(bin, argv...)
	cmd.Dir = filepath.Join(pdd, "project")
	cmd.Env = cleanEnv(all)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	require.NoError(t, err)
	defer ptmx.Close()

	var evs []Event
	var text bytes.Buffer
	f := NewFilter(FilterConfig{
		RunnerIdent: "ours",
		Handle:      func(e *Event) error { evs = append(evs, *e); return nil },
		Text:        &text,
		OnError:     func(err error) { t.Errorf("frame error: %v", err) },
	})
	_, _ = io.Copy(f, ptmx) // EIO at the end of a pty is EOF
	require.NoError(t, f.Close())
	_ = cmd.Wait()
	return evs, text.String()
}

// runRef runs ansible-runner 2.x on pdd and returns its job events in
// counter order and its stdout artifact.
func runRef(t *testing.T, pdd, playbook string, args, flags []string, env map[string]string) ([]Event, string) {
	t.Helper()
	return runRefFlags(t, pdd, args, append([]string{"-p", playbook}, flags...), env)
}

// runRefFlags runs ansible-runner with any flags after "run <pdd>".
func runRefFlags(t *testing.T, pdd string, args, flags []string, env map[string]string) ([]Event, string) {
	t.Helper()
	argv := append([]string{"run", pdd, "--ident", "ref"}, flags...)
	if len(args) > 0 {
		argv = append(argv, "--cmdline="+strings.Join(args, " "))
	}
	cmd := exec.Command("ansible-runner", argv...)
	cmd.Env = cleanEnv(env)
	out, err := cmd.CombinedOutput()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("ansible-runner: %v\n%s", err, out)
	}
	art := filepath.Join(pdd, "artifacts", "ref")
	files, err := filepath.Glob(filepath.Join(art, "job_events", "*.json"))
	require.NoError(t, err)
	var evs []Event
	for _, fn := range files {
		data, err := os.ReadFile(fn)
		require.NoError(t, err)
		var e Event
		require.NoError(t, json.Unmarshal(data, &e), fn)
		evs = append(evs, e)
	}
	sort.Slice(evs, func(i, j int) bool { return evs[i].Counter < evs[j].Counter })
	stdout, err := os.ReadFile(filepath.Join(art, "stdout"))
	require.NoError(t, err)
	return evs, string(stdout)
}

// evKey identifies an event across runs.
type evKey struct{ Event, Host, Task string }

func keyOf(e *Event) evKey { return evKey{e.Event, e.Host(), e.Task()} }

// comparable drops the events that legitimately differ between runs: empty
// verbose events that ansible-runner's plugin emits from forked workers
// (their text arrives through the parent, which frames it again).
func comparableEvents(evs []Event) []Event {
	var out []Event
	for _, e := range evs {
		if e.Event == "verbose" && e.Stdout == "" && e.PID != 0 {
			continue
		}
		out = append(out, e)
	}
	return out
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

// normalizeText removes what differs between two runs of one playbook.
func normalizeText(s string) string {
	for _, n := range normalizers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return s
}

// compareRuns is the conformance check between our events and
// ansible-runner's for the same playbook: the same multiset of
// (event, host, task), every top-level and event_data key the reference
// sets present in ours, equal playbook_on_stats, counters 1..N, parents that
// exist, and the same stdout text modulo timing and uuids.
func compareRuns(t *testing.T, ours, ref []Event, ourStdout, refStdout string) {
	t.Helper()
	for i, e := range ours {
		require.Equal(t, i+1, e.Counter, "our counters must be 1..N without gaps")
	}
	ours, ref = comparableEvents(ours), comparableEvents(ref)

	count := func(evs []Event) map[evKey]int {
		m := map[evKey]int{}
		for i := range evs {
			m[keyOf(&evs[i])]++
		}
		return m
	}
	assert.Equal(t, count(ref), count(ours), "multiset of (event, host, task)")

	// Pair events by key and occurrence to compare field names.
	byKey := map[evKey][]*Event{}
	for i := range ours {
		k := keyOf(&ours[i])
		byKey[k] = append(byKey[k], &ours[i])
	}
	seen := map[evKey]int{}
	for i := range ref {
		r := &ref[i]
		k := keyOf(r)
		n := seen[k]
		seen[k]++
		if n >= len(byKey[k]) {
			continue // reported by the multiset check
		}
		o := byKey[k][n]
		assert.Subset(t, topKeys(o), topKeys(r), "top-level keys of %v #%d", k, n)
		assert.Subset(t, dataKeys(t, o), dataKeys(t, r), "event_data keys of %v #%d", k, n)
		assert.Equal(t, r.ParentUUID != "", o.ParentUUID != "", "parent_uuid presence of %v", k)
		if r.Event != "verbose" {
			assert.Equal(t, normalizeText(r.Stdout), normalizeText(o.Stdout), "stdout of %v #%d", k, n)
		}
	}

	// Parents must be events of the run (or the playbook/play/task uuids).
	uuids := map[string]bool{}
	for _, e := range ours {
		uuids[e.UUID] = true
		for _, key := range []string{"playbook_uuid", "play_uuid", "task_uuid"} {
			if v, ok := lookup(e.EventData, key); ok {
				s, _ := decodeStr(v)
				uuids[s] = true
			}
		}
	}
	for _, e := range ours {
		if e.ParentUUID != "" {
			assert.True(t, uuids[e.ParentUUID], "parent %s of %s #%d unknown", e.ParentUUID, e.Event, e.Counter)
		}
	}

	rs, rok := findStats(ref)
	os, ook := findStats(ours)
	assert.Equal(t, rok, ook, "playbook_on_stats present")
	if rok && ook {
		assert.Equal(t, rs, os, "playbook_on_stats")
	}
	// Line slices make testify's diff show only the lines that differ.
	assert.Equal(t, strings.Split(normalizeText(refStdout), "\n"), strings.Split(normalizeText(ourStdout), "\n"), "stdout artifact")
}

func topKeys(e *Event) []string {
	b, _ := e.MarshalJSON()
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	return sortedKeys(m)
}

func dataKeys(t *testing.T, e *Event) []string {
	if e.EventData == nil {
		return nil
	}
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(e.EventData, &m))
	return sortedKeys(m)
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func findStats(evs []Event) (*Stats, bool) {
	for i := range evs {
		if s, ok := evs[i].Stats(); ok {
			return s, true
		}
	}
	return nil, false
}

func TestConformance(t *testing.T) {
	requireAnsible(t, "ansible-runner")
	tests := []struct {
		name     string
		playbook string
		args     []string
		refFlags []string // ansible-runner flags for what env alone does not set
		env      map[string]string
		fixup    func(t *testing.T, ours []Event) // known, deliberate differences
	}{
		{name: "basic with job id", playbook: "basic.yml", env: map[string]string{"JOB_ID": "17"}},
		{name: "vvv", playbook: "basic.yml", args: []string{"-vvv"}},
		{name: "syntax error", playbook: "syntax.yml"},
		{name: "facts unreachable failed items", playbook: "failed.yml"},
		{name: "minimal callback", playbook: "include.yml", env: map[string]string{"ANSIBLE_STDOUT_CALLBACK": "minimal"}},
		{
			name: "only failed event data", playbook: "failed.yml",
			refFlags: []string{"--only-failed-event-data"}, env: map[string]string{"RUNNER_ONLY_FAILED_EVENTS": "True"},
			// ansible-runner 2.3 drops runner_item_on_failed's data (it
			// checks for a misspelt name); we keep it.
			fixup: func(t *testing.T, ours []Event) {
				n := 0
				for i := range ours {
					switch e := &ours[i]; e.Event {
					case "runner_item_on_failed":
						assert.Equal(t, "localhost", e.Host())
						e.EventData = json.RawMessage("{}")
						n++
					case "runner_on_failed":
						assert.Equal(t, "localhost", e.Host())
					default:
						assert.JSONEq(t, "{}", string(e.EventData), "%s keeps event_data", e.Event)
					}
				}
				assert.Equal(t, 1, n)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each case has its own private data dir
			pdd := newPDD(t)
			ref, refOut := runRef(t, pdd, tt.playbook, tt.args, tt.refFlags, tt.env)
			// The runner turns the caller's settings into EnvOptions.
			opts := EnvOptions{
				UserStdoutCallback:  tt.env["ANSIBLE_STDOUT_CALLBACK"],
				OnlyFailedEventData: tt.env["RUNNER_ONLY_FAILED_EVENTS"] == "True",
			}
			ours, ourOut := runOurs(t, pdd, tt.playbook, tt.args, opts, tt.env)
			if tt.fixup != nil {
				tt.fixup(t, ours)
			}
			compareRuns(t, ours, ref, ourOut, refOut)
			if t.Failed() {
				dump := func(name string, evs []Event) {
					var sb strings.Builder
					for _, e := range evs {
						fmt.Fprintf(&sb, "%d %s %q %q %q\n", e.Counter, e.Event, e.Host(), e.Task(), e.Stdout)
					}
					t.Logf("%s:\n%s", name, sb.String())
				}
				dump("ref", ref)
				dump("ours", ours)
			}
		})
	}
}

// runBare runs ansible-playbook with its own stdout callback under a pty
// and returns what it printed.
func runBare(t *testing.T, pdd, playbook string, env map[string]string) string {
	t.Helper()
	all := map[string]string{"ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_HOST_KEY_CHECKING": "False"}
	for k, v := range env {
		all[k] = v
	}
	cmd := exec.Command("ansible-playbook", "-i", filepath.Join(pdd, "inventory"), playbook)
	cmd.Dir = filepath.Join(pdd, "project")
	cmd.Env = cleanEnv(all)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	require.NoError(t, err)
	defer ptmx.Close()
	var out bytes.Buffer
	_, _ = io.Copy(&out, ptmx)
	_ = cmd.Wait()
	return out.String()
}

// TestUserCallbackMatchesBare checks that the human text follows the
// stdout callback the user chose, wherever it was chosen, exactly as bare
// ansible-playbook prints it (ansible-runner ignores some of these).
func TestUserCallbackMatchesBare(t *testing.T) {
	requireAnsible(t)
	tests := []struct {
		name string
		cfg  string // ansible.cfg in the project dir
		env  map[string]string
	}{
		{name: "callback_result_format yaml", env: map[string]string{"ANSIBLE_CALLBACK_RESULT_FORMAT": "yaml"}},
		{name: "ansible.cfg stdout_callback", cfg: "[defaults]\nstdout_callback = minimal\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each case has its own private data dir
			pdd := newPDD(t)
			if tt.cfg != "" {
				require.NoError(t, os.WriteFile(filepath.Join(pdd, "project", "ansible.cfg"), []byte(tt.cfg), 0o600))
			}
			bare := runBare(t, pdd, "basic.yml", tt.env)
			evs, ours := runOurs(t, pdd, "basic.yml", nil, EnvOptions{UserStdoutCallback: tt.env["ANSIBLE_STDOUT_CALLBACK"]}, tt.env)
			require.NotEmpty(t, evs)
			// The stdout artifact keeps each event's text minus its
			// trailing newlines, plus one: only the final blank line of
			// PLAY RECAP is lost, as in ansible-runner's artifact.
			norm := func(s string) []string {
				s = strings.TrimRight(strings.ReplaceAll(s, "\r", ""), "\n")
				return strings.Split(normalizeText(s), "\n")
			}
			assert.Equal(t, norm(bare), norm(ours))
		})
	}
}

// TestConformanceAdHoc compares an ad-hoc command (no play or task start
// events, ad_hoc_command_id on every event, minimal callback).
func TestConformanceAdHoc(t *testing.T) {
	requireAnsible(t, "ansible", "ansible-runner")
	pdd := newPDD(t)
	ref, refOut := runRefFlags(t, pdd, nil, []string{"-m", "ping", "--hosts", "localhost"}, nil)
	// The runner sets these for ad-hoc runs, as ansible-runner does.
	env := map[string]string{"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "AD_HOC_COMMAND_ID": "1"}
	ours, ourOut := runOursCmd(t, pdd, "ansible", []string{"-i", filepath.Join(pdd, "inventory"), "localhost", "-m", "ping"}, EnvOptions{}, env)
	require.NotEmpty(t, ref)
	compareRuns(t, ours, ref, ourOut, refOut)
	for _, e := range ours {
		if e.PID == 0 {
			continue // runner-side text: no callback fields
		}
		v, ok := e.ExtraField("ad_hoc_command_id")
		assert.True(t, ok && string(v) == "1", "%s has ad_hoc_command_id", e.Event)
	}
}
