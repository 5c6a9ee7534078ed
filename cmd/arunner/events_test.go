package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/testee"
	"github.com/arunner/arunner/runnertest"
)

// The test binary doubles as a fake ansible-playbook (runnertest); after
// the tests, the execution-environment image goes (testee).
func TestMain(m *testing.M) { runnertest.Main(cleanAfter{m}) }

type cleanAfter struct{ m *testing.M }

func (c cleanAfter) Run() int {
	defer testee.Cleanup()
	return c.m.Run()
}

// -j prints each event as one JSON line, in counter order, and the exit
// code is ansible's rc for a failed host.
func TestJSONEvents(t *testing.T) {
	fake := runnertest.New(t, runnertest.Play("deploy", "web",
		runnertest.Task("install", runnertest.Changed("web1"), runnertest.Failed("web2", "boom"))))
	for k, v := range fake.Env { // the CLI passes its environment on
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	rc := realMain([]string{"run", runnertest.PrivateDataDir(t), "-p", "site.yml", "-b", fake.Binary, "-j"}, &stdout, &stderr)
	assert.Equal(t, 2, rc, stderr.String())
	var names []string
	for i, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
		var ev events.Event
		require.NoError(t, json.Unmarshal([]byte(line), &ev), line)
		assert.Equal(t, i+1, ev.Counter)
		names = append(names, ev.Event)
	}
	assert.Equal(t, []string{"playbook_on_start", "playbook_on_play_start", "playbook_on_task_start",
		"runner_on_start", "runner_on_start", "runner_on_ok", "runner_on_failed", "playbook_on_stats"}, names)
}

// With -q or -j ansible's text is not on stdout, so stderr says why a
// playbook failed: the rc's meaning, the failed host and its message.
func TestQuietFailureOnStderr(t *testing.T) {
	fake := runnertest.New(t, runnertest.Play("deploy", "web",
		runnertest.Task("install", runnertest.Changed("web1"), runnertest.Failed("web2", "boom"))))
	for k, v := range fake.Env {
		t.Setenv(k, v)
	}
	for _, flag := range []string{"-q", "-j"} {
		var stdout, stderr bytes.Buffer
		rc := realMain([]string{"run", runnertest.PrivateDataDir(t), "-p", "site.yml", "-b", fake.Binary, flag}, &stdout, &stderr)
		assert.Equal(t, 2, rc, flag)
		before, summary := cutSummary(stderr.String())
		assert.Equal(t, 1, strings.Count(before, "arunner: ansible exited with rc 2"), "%s: said once: %q", flag, before)
		assert.Contains(t, before, "last failure: web2, task \"install\": boom", flag)
		assert.Contains(t, summary, "  failed: web2, task \"install\": boom\n", flag)
	}
	// Without them, ansible's own text said it, and stderr is left alone.
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, realMain([]string{"run", runnertest.PrivateDataDir(t), "-p", "site.yml", "-b", fake.Binary}, &stdout, &stderr))
	before, _ := cutSummary(stderr.String())
	assert.Empty(t, before)
}
