package eventproto_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/conformance"
	"github.com/arunner/arunner/internal/eventproto"
)

// The plugin's conformance: ansible-playbook run with arunner's callback
// plugin alone (no runner), against ansible-runner 2.3.1 on the same
// private data dir, compared with internal/conformance. The runner's own
// suite (runner/conformance_test.go) does the same through runner.Run.

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

// runOurs runs ansible-playbook on pdd's playbook with our plugin.
func runOurs(t *testing.T, pdd, playbook string, args []string, opts eventproto.EnvOptions, env map[string]string) conformance.Run {
	t.Helper()
	argv := append([]string{"-i", filepath.Join(pdd, "inventory"), playbook}, args...)
	return runOursCmd(t, pdd, "ansible-playbook", argv, opts, env)
}

// runOursCmd runs an ansible command line with our plugin under a 24x80
// pty (as pexpect does for ansible-runner), decodes its output with a
// Filter and returns what a runner would have written: the events, the
// stdout artifact, and status and rc from the exit code.
func runOursCmd(t *testing.T, pdd, bin string, argv []string, opts eventproto.EnvOptions, env map[string]string) conformance.Run {
	t.Helper()
	dir, err := eventproto.InstallPlugin(filepath.Join(t.TempDir(), "callback"))
	require.NoError(t, err)
	opts.PluginDir = dir
	if opts.Key == "" {
		opts.Key, err = eventproto.NewKey()
		require.NoError(t, err)
	}
	all := map[string]string{"ANSIBLE_RETRY_FILES_ENABLED": "False", "ANSIBLE_HOST_KEY_CHECKING": "False"}
	for k, v := range env {
		all[k] = v
	}
	for k, v := range eventproto.Env(opts) {
		all[k] = v
	}
	cmd := exec.Command(bin, argv...)
	cmd.Dir = filepath.Join(pdd, "project")
	cmd.Env = conformance.CleanEnv(all)
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	require.NoError(t, err)
	defer ptmx.Close()

	run := conformance.Run{PrivateDataDir: pdd}
	var text bytes.Buffer
	f := eventproto.NewFilter(eventproto.FilterConfig{
		RunnerIdent: "ours",
		Handle:      func(e *events.Event) error { run.Events = append(run.Events, *e); return nil },
		Text:        &text,
		Key:         opts.Key,
		OnError:     func(err error) { t.Errorf("frame error: %v", err) },
	})
	_, _ = io.Copy(f, ptmx) // EIO at the end of a pty is EOF
	require.NoError(t, f.Close())
	run.Stdout = text.String()
	rc := 0
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "%s: %v", bin, err)
		rc = exit.ExitCode()
	}
	run.RC, run.Status = strconv.Itoa(rc), "successful"
	if rc != 0 {
		run.Status = "failed"
	}
	return run
}

// runRef runs ansible-runner on pdd's playbook; args go through --cmdline.
func runRef(t *testing.T, pdd string, args, flags []string, env map[string]string) conformance.Run {
	t.Helper()
	if len(args) > 0 {
		flags = append(flags, "--cmdline="+strings.Join(args, " "))
	}
	return conformance.RunReferenceEnv(t, pdd, "ref", env, flags...)
}

// plugin is the comparison for plugin-level runs: there is no command
// artifact on our side.
var plugin = conformance.Options{NoCommand: true}

func TestConformance(t *testing.T) {
	conformance.RequireTools(t, "ansible-playbook", "ansible-runner")
	tests := []struct {
		name     string
		playbook string
		args     []string
		refFlags []string // ansible-runner flags for what env alone does not set
		env      map[string]string
		fixup    func(t testing.TB, ours, ref *conformance.Run) // known, deliberate differences
		// noValues skips conformance.CompareEventData: gathered facts
		// (load, free memory, the time) differ between any two runs.
		noValues bool
	}{
		{name: "basic with job id", playbook: "basic.yml", env: map[string]string{"JOB_ID": "17"}},
		{name: "vvv", playbook: "basic.yml", args: []string{"-vvv"}},
		{name: "syntax error", playbook: "syntax.yml"},
		{name: "facts unreachable failed items", playbook: "failed.yml", noValues: true},
		{name: "minimal callback", playbook: "include.yml", env: map[string]string{"ANSIBLE_STDOUT_CALLBACK": "minimal"}},
		{
			name: "only failed event data", playbook: "failed.yml", noValues: true,
			refFlags: []string{"--only-failed-event-data"}, env: map[string]string{"RUNNER_ONLY_FAILED_EVENTS": "True"},
			// ansible-runner 2.3 drops runner_item_on_failed's data (it
			// checks for a misspelt name); we keep it.
			fixup: func(t testing.TB, ours, _ *conformance.Run) {
				n := 0
				for i := range ours.Events {
					switch e := &ours.Events[i]; e.Event {
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
			ref := runRef(t, pdd, tt.args, append([]string{"-p", tt.playbook}, tt.refFlags...), tt.env)
			// The runner turns the caller's settings into EnvOptions.
			opts := eventproto.EnvOptions{
				UserStdoutCallback:  tt.env["ANSIBLE_STDOUT_CALLBACK"],
				OnlyFailedEventData: tt.env["RUNNER_ONLY_FAILED_EVENTS"] == "True",
			}
			ours := runOurs(t, pdd, tt.playbook, tt.args, opts, tt.env)
			if !tt.noValues {
				conformance.CompareEventData(t, ours, ref, conformance.Options{})
			}
			o := plugin
			o.Fixup = tt.fixup
			conformance.Compare(t, ours, ref, o)
			if t.Failed() {
				for name, r := range map[string]conformance.Run{"ref": ref, "ours": ours} {
					var sb strings.Builder
					for _, e := range r.Events {
						fmt.Fprintf(&sb, "%d %s %q %q %q\n", e.Counter, e.Event, e.Host(), e.Task(), e.Stdout)
					}
					t.Logf("%s:\n%s", name, sb.String())
				}
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
	cmd.Env = conformance.CleanEnv(all)
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
	conformance.RequireTools(t, "ansible-playbook")
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
			ours := runOurs(t, pdd, "basic.yml", nil, eventproto.EnvOptions{UserStdoutCallback: tt.env["ANSIBLE_STDOUT_CALLBACK"]}, tt.env)
			require.NotEmpty(t, ours.Events)
			// The stdout artifact keeps each event's text minus its
			// trailing newlines, plus one: only the final blank line of
			// PLAY RECAP is lost, as in ansible-runner's artifact.
			norm := func(s string) []string {
				s = strings.TrimRight(strings.ReplaceAll(s, "\r", ""), "\n")
				return strings.Split(conformance.Normalize(s), "\n")
			}
			assert.Equal(t, norm(bare), norm(ours.Stdout))
		})
	}
}

// TestConformanceAdHoc compares an ad-hoc command (no play or task start
// events, ad_hoc_command_id on every event, minimal callback).
func TestConformanceAdHoc(t *testing.T) {
	conformance.RequireTools(t, "ansible", "ansible-runner")
	pdd := newPDD(t)
	ref := runRef(t, pdd, nil, []string{"-m", "ping", "--hosts", "localhost"}, nil)
	// The runner sets these for ad-hoc runs, as ansible-runner does.
	env := map[string]string{"ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "AD_HOC_COMMAND_ID": "1"}
	ours := runOursCmd(t, pdd, "ansible", []string{"-i", filepath.Join(pdd, "inventory"), "localhost", "-m", "ping"}, eventproto.EnvOptions{}, env)
	require.NotEmpty(t, ref.Events)
	conformance.Compare(t, ours, ref, plugin)
	for _, e := range ours.Events {
		if e.PID == 0 {
			continue // runner-side text: no callback fields
		}
		v, ok := e.ExtraField("ad_hoc_command_id")
		assert.True(t, ok && string(v) == "1", "%s has ad_hoc_command_id", e.Event)
	}
}
