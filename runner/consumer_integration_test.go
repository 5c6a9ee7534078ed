package runner

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
)

// readWithAnsibleRunner is a Python program that opens an artifacts dir
// the way ansible-runner's own consumers do, through Runner's events,
// stats, host_events, stdout and get_fact_cache, and prints what they
// return as one JSON object.
const readWithAnsibleRunner = `
import json, sys
from ansible_runner.config.runner import RunnerConfig
from ansible_runner.runner import Runner

pdd, ident, host = sys.argv[1:4]
rc = RunnerConfig(private_data_dir=pdd, ident=ident)
r = Runner(config=rc)
evs = list(r.events)
json.dump({
    'artifact_dir': rc.artifact_dir,
    'counters': [e['counter'] for e in evs],
    'uuids': [e['uuid'] for e in evs],
    'names': [e['event'] for e in evs],
    # The stdout artifact is every event's text, each ending a line.
    'stdout_of_events': ''.join(e['stdout'] + '\n' for e in evs if e.get('stdout')),
    'stats': r.stats,
    'host_uuids': [e['uuid'] for e in r.host_events(host)],
    'stdout': r.stdout.read(),  # text mode: CR LF and CR read as LF
    'facts': r.get_fact_cache(host),
}, sys.stdout)
`

// ansible-runner's own code reads what arunner leaves: its Runner, pointed
// at our artifacts dir, finds every event in order, the same stats, host
// events, stdout and fact cache. This is what "consumers of ansible-runner
// read our job_events unchanged" means in practice.
func TestAnsibleRunnerReadsOurArtifacts(t *testing.T) {
	needBinaries(t)
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import ansible_runner.runner").Run(); err != nil {
		t.Skipf("%s cannot import ansible_runner: %v", py, err)
	}
	pdd := realPDD(t, map[string]string{"site.yml": `
- hosts: all
  gather_facts: false
  tasks:
    - name: loop with unicode
      debug:
        msg: "item {{ item }} ✓"
      loop: [1, 2, 3]
    - name: fail on h2 only
      command: /bin/false
      when: inventory_hostname == "h2"
      ignore_errors: true
    - name: change something
      command: /bin/true
    - name: remember a fact
      set_fact:
        color: blue
        cacheable: true
`})
	res, err := Run(context.Background(), Config{PrivateDataDir: pdd, Target: Playbook{Path: "site.yml"}, Ident: "consumer"})
	require.NoError(t, err, stdoutOf(t, res))
	require.Equal(t, StatusSuccessful, res.Status, stdoutOf(t, res))

	out, err := exec.Command(py, "-c", readWithAnsibleRunner, pdd, "consumer", "h2").Output()
	if ee, ok := err.(*exec.ExitError); ok {
		t.Fatalf("ansible-runner could not read our artifacts: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	var got struct {
		ArtifactDir    string         `json:"artifact_dir"`
		Counters       []int          `json:"counters"`
		UUIDs          []string       `json:"uuids"`
		Names          []string       `json:"names"`
		StdoutOfEvents string         `json:"stdout_of_events"`
		Stats          *events.Stats  `json:"stats"`
		HostUUIDs      []string       `json:"host_uuids"`
		Stdout         string         `json:"stdout"`
		Facts          map[string]any `json:"facts"`
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.Equal(t, res.ArtifactDir, got.ArtifactDir)

	// Every event, in counter order, the same ones we delivered.
	var counters []int
	var uuids, names []string
	for ev, err := range res.Events() {
		require.NoError(t, err)
		counters = append(counters, ev.Counter)
		uuids = append(uuids, ev.UUID)
		names = append(names, ev.Event)
	}
	require.NotEmpty(t, counters)
	for i, c := range counters {
		require.Equal(t, i+1, c, "our counters have a gap")
	}
	assert.Equal(t, counters, got.Counters)
	assert.Equal(t, uuids, got.UUIDs)
	assert.Equal(t, names, got.Names)
	assert.Contains(t, got.Names, "runner_item_on_ok")
	assert.Contains(t, got.Names, "runner_on_failed")

	// Stats as ansible-runner computes them from our playbook_on_stats.
	require.NotNil(t, got.Stats, "ansible-runner found no playbook_on_stats")
	ours := res.Stats()
	require.NotNil(t, ours)
	assert.Equal(t, map[string]int{"h2": 1}, got.Stats.Ignored)
	assert.Equal(t, ours.OK, got.Stats.OK)
	assert.Equal(t, ours.Changed, got.Stats.Changed)
	assert.Equal(t, ours.Ignored, got.Stats.Ignored)
	assert.Equal(t, ours.Processed, got.Stats.Processed)
	assert.Equal(t, ours.Failures, got.Stats.Failures)

	var hostUUIDs []string
	for ev, err := range res.HostEvents("h2") {
		require.NoError(t, err)
		hostUUIDs = append(hostUUIDs, ev.UUID)
	}
	assert.NotEmpty(t, hostUUIDs)
	assert.Equal(t, hostUUIDs, got.HostUUIDs)

	// The stdout artifact, and the events' text joined, read the same.
	raw, err := os.ReadFile(filepath.Join(res.ArtifactDir, "stdout"))
	require.NoError(t, err)
	stdout := string(raw)
	universal := strings.NewReplacer("\r\n", "\n", "\r", "\n")
	assert.Equal(t, universal.Replace(stdout), got.Stdout)
	assert.Equal(t, stdout, got.StdoutOfEvents)
	assert.Contains(t, got.Stdout, "item 2 ✓")

	assert.Equal(t, "blue", got.Facts["color"])
}
