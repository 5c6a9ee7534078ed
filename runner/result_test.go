package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
)

// A run without a playbook_on_stats event (an ad hoc command, a canceled
// run) has empty stats, never nil ones: res.Stats().OK["h"] cannot panic.
func TestStatsNeverNil(t *testing.T) {
	res, err := Run(context.Background(), fakeConfig(t, "ok"))
	require.NoError(t, err)
	require.NotNil(t, res.Stats())
	assert.Empty(t, res.Stats().Processed)
	assert.Zero(t, res.Stats().OK["localhost"])

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err = Run(ctx, fakeConfig(t, "sleep"))
	require.ErrorIs(t, err, ErrCanceled)
	require.NotNil(t, res.Stats())
	assert.Empty(t, res.Stats().Failures)

	var none *Result
	require.NotNil(t, none.Stats())
}

func init() {
	// failhosts plays a playbook whose hosts fail in every way an
	// ExitError tells apart: h1 fails, h2 fails with ignore_errors, h3 is
	// unreachable, h4 fails in a block that rescues it, h5 fails twice.
	// FAKE_NOSTATS leaves the recap out, as an ad hoc command does;
	// FAKE_RC is the exit code.
	fakeModes["failhosts"] = func() int {
		n := 0
		emit := func(name, host, task string, data map[string]any) {
			n++
			data["host"], data["task"] = host, task
			fmt.Print(token(map[string]any{
				"uuid": fmt.Sprintf("00000000-0000-0000-0000-%012d", n), "event": name,
				"event_data": data,
			}) + name + " " + host + "\n" + token(map[string]any{}))
		}
		emit("runner_on_failed", "h1", "install", map[string]any{"res": map[string]any{"msg": "non-zero return code", "stderr": "E: Unable to locate package ngix\nmore\n"}})
		emit("runner_on_failed", "h2", "probe", map[string]any{"ignore_errors": true, "res": map[string]any{"msg": "ignored"}})
		emit("runner_on_unreachable", "h3", "install", map[string]any{"res": map[string]any{"msg": "Failed to connect to the host via ssh: Connection refused", "unreachable": true}})
		emit("runner_on_failed", "h4", "try", map[string]any{"res": map[string]any{"msg": "rescued"}})
		emit("runner_on_failed", "h5", "first", map[string]any{"res": map[string]any{"msg": "first failure"}})
		emit("runner_on_failed", "h5", "second", map[string]any{"res": map[string]any{"msg": []string{"a", "list"}}})
		if os.Getenv("FAKE_NOSTATS") == "" {
			emit("playbook_on_stats", "", "", map[string]any{
				"failures": map[string]int{"h1": 1, "h5": 2}, "dark": map[string]int{"h3": 1},
				"ignored": map[string]int{"h2": 1}, "rescued": map[string]int{"h4": 1},
				"processed": map[string]int{"h1": 1, "h2": 1, "h3": 1, "h4": 1, "h5": 1},
			})
		}
		rc, _ := strconv.Atoi(os.Getenv("FAKE_RC"))
		return rc
	}
}

// An ExitError names the failed and unreachable hosts, says what the rc
// means and quotes the last failure, so that its message alone tells what
// happened. The recap decides which hosts failed: an ignored or rescued
// failure is not one.
func TestExitErrorTellsWhatHappened(t *testing.T) {
	cfg := fakeConfig(t, "failhosts")
	cfg.EnvVars["FAKE_RC"] = "4"
	_, err := Run(context.Background(), cfg)
	var exit *ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 4, exit.RC)
	assert.Equal(t, []string{"h1", "h5"}, exit.Failed)
	assert.Equal(t, []string{"h3"}, exit.Unreachable)
	assert.Equal(t, "one or more hosts were unreachable", exit.Reason)
	assert.Equal(t, &Failure{Host: "h5", Task: "second", Msg: `["a","list"]`}, exit.LastFailure)
	assert.Equal(t, `ansible exited with rc 4 (status failed): one or more hosts were unreachable; failed: h1, h5; unreachable: h3; last failure: h5, task "second": ["a","list"]`, err.Error())
}

// Without a recap (an ad hoc command), the failure events name the hosts.
func TestExitErrorWithoutRecap(t *testing.T) {
	cfg := fakeConfig(t, "failhosts")
	cfg.EnvVars["FAKE_RC"] = "2"
	cfg.EnvVars["FAKE_NOSTATS"] = "1"
	_, err := Run(context.Background(), cfg)
	var exit *ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, []string{"h1", "h4", "h5"}, exit.Failed, "no recap says h4 was rescued")
	assert.Equal(t, []string{"h3"}, exit.Unreachable)
	assert.Equal(t, "one or more hosts failed", exit.Reason)
	require.NotNil(t, exit.LastFailure)
	assert.Equal(t, "h5", exit.LastFailure.Host)
}

// The last failure's message is one line, names the cause stderr gives,
// and never holds a secret the run knew of.
func TestExitErrorFailureMessage(t *testing.T) {
	cases := []struct{ res, want string }{
		{`{"msg": "non-zero return code", "stderr": "E: Unable to locate package ngix\nmore"}`, "non-zero return code: E: Unable to locate package ngix"},
		{`{"msg": "line one\nline two"}`, "line one line two"},
		{`{"msg": "said it all: boom", "stderr": "boom"}`, "said it all: boom"},
		{`{"stderr": "only stderr"}`, "only stderr"},
		{`{"msg": {"a": 1}}`, `{"a":1}`},
		{`not json`, ""},
		{`{"msg": "` + strings.Repeat("é", 200) + `"}`, strings.Repeat("é", 150) + "…"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, events.ShortResultMessage(json.RawMessage(c.res), maxFailureMsg), c.res)
	}

	cfg := fakeConfig(t, "failhosts")
	cfg.EnvVars["FAKE_RC"] = "2"
	cfg.Passwords = []Password{{Pattern: "never asked", Response: "list"}}
	_, err := Run(context.Background(), cfg)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "list")
	assert.Contains(t, err.Error(), `last failure: h5, task "second": ["a","`)
}

// The rc means something only for ansible-playbook and ansible: a plain
// command's rc 2 is not "a host failed".
func TestExitErrorReasonOnlyForAnsible(t *testing.T) {
	_, err := Run(context.Background(), Config{PrivateDataDir: t.TempDir(), Target: RawCommand{Argv: []string{"sh", "-c", "exit 2"}}})
	var exit *ExitError
	require.ErrorAs(t, err, &exit)
	assert.Empty(t, exit.Reason)
	assert.Equal(t, "ansible exited with rc 2 (status failed)", err.Error())

	assert.True(t, isAnsibleRC("/usr/bin/ansible-playbook"))
	assert.True(t, isAnsibleRC("/usr/bin/ansible-inventory"))
	assert.False(t, isAnsibleRC("/usr/bin/ansible-runner"), "its own exit codes")
}

// ansible-playbook's own exit codes, explained: a host that failed and one
// that could not be reached (rc 4 wins), a usage error (argparse's rc 2,
// with no host failed), and a failure whose cause is in stderr.
func TestExitErrorRealAnsible(t *testing.T) {
	needBinaries(t)
	pdd := realPDD(t, map[string]string{"site.yml": `
- hosts: web
  gather_facts: false
  tasks:
    - name: run a missing command
      command: /bin/sh -c "echo no such thing >&2; exit 3"
      when: inventory_hostname == "h2"
- hosts: gone
  gather_facts: false
  tasks:
    - ping:
`})
	f, err := os.OpenFile(filepath.Join(pdd, "inventory", "hosts"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	// Port 1 on loopback: refused at once.
	_, err = f.WriteString("[gone]\nh3 ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=1\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	res, err := Run(context.Background(), Config{PrivateDataDir: pdd, Target: Playbook{Path: "site.yml"}})
	var exit *ExitError
	require.ErrorAs(t, err, &exit, stdoutOf(t, res))
	assert.Equal(t, 4, exit.RC)
	assert.Equal(t, []string{"h2"}, exit.Failed)
	assert.Equal(t, []string{"h3"}, exit.Unreachable)
	assert.Equal(t, "one or more hosts were unreachable", exit.Reason)
	require.NotNil(t, exit.LastFailure)
	assert.Equal(t, "h3", exit.LastFailure.Host)
	assert.True(t, exit.LastFailure.Unreachable)
	assert.Contains(t, exit.LastFailure.Msg, "Connection refused")

	res, err = Run(context.Background(), Config{PrivateDataDir: pdd, Target: Playbook{Path: "site.yml", Switches: Switches{Limit: "web"}}})
	require.ErrorAs(t, err, &exit, stdoutOf(t, res))
	assert.Equal(t, 2, exit.RC)
	assert.Equal(t, `ansible exited with rc 2 (status failed): one or more hosts failed; failed: h2; last failure: h2, task "run a missing command": non-zero return code: no such thing`, err.Error())

	must(t, os.WriteFile(filepath.Join(pdd, "args"), []byte("ansible-playbook --bogus-option site.yml"), 0o600))
	_, err = Run(context.Background(), Config{PrivateDataDir: pdd})
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 2, exit.RC)
	assert.Equal(t, "ansible rejected its command line (a usage error)", exit.Reason)
	assert.Empty(t, exit.Failed)
	assert.Nil(t, exit.LastFailure)
}

// rc 2 and 4 each have two meanings, which the run tells apart.
func TestRCReason(t *testing.T) {
	assert.Equal(t, "one or more hosts failed", rcReason(2, true, false, false), "the plugin spoke: past argparse")
	assert.Equal(t, "ansible rejected its command line (a usage error)", rcReason(2, false, false, false))
	assert.Equal(t, "one or more hosts were unreachable", rcReason(4, true, false, true))
	assert.Equal(t, "ansible could not parse its input (a playbook, inventory or vars file)", rcReason(4, true, false, false))
	assert.Equal(t, "ansible was interrupted (SIGINT)", rcReason(99, true, false, false))
	assert.Empty(t, rcReason(3, true, false, false), "unused by ansible")
}
