package runner

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/privdata"
)

// LoadResult gives back what the run itself returned.
func TestLoadResultOfOurRun(t *testing.T) {
	cfg := fakeConfig(t, "failhosts")
	cfg.EnvVars["FAKE_RC"] = "2"
	live, runErr := Run(context.Background(), cfg)
	require.Error(t, runErr)

	res, err := LoadResult(live.ArtifactDir)
	require.NoError(t, err)
	assert.Equal(t, live.Ident, res.Ident)
	assert.Equal(t, live.ArtifactDir, res.ArtifactDir)
	assert.Equal(t, StatusFailed, res.Status)
	assert.Equal(t, 2, res.RC)
	assert.Equal(t, live.Command, res.Command)
	assert.Equal(t, live.Cwd, res.Cwd)
	assert.Equal(t, live.FinalCounter, res.FinalCounter)
	assert.Equal(t, live.Stats(), res.Stats())
	var liveExit, exit *ExitError
	require.ErrorAs(t, runErr, &liveExit)
	require.ErrorAs(t, res.Err, &exit)
	assert.Equal(t, liveExit.Failed, exit.Failed)
	assert.Equal(t, liveExit.Unreachable, exit.Unreachable)
	assert.Equal(t, liveExit.LastFailure, exit.LastFailure)
	// The fake stands in for ansible-playbook through Binary, which the
	// command artifact cannot tell: the rc is not explained.
	assert.Empty(t, exit.Reason)

	var n int
	for ev, err := range res.HostEvents("h5") {
		require.NoError(t, err)
		assert.Equal(t, "h5", ev.Host())
		n++
	}
	assert.Equal(t, 2, n)

	// A canceled run.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	live, _ = Run(ctx, fakeConfig(t, "sleep"))
	res, err = LoadResult(live.ArtifactDir)
	require.NoError(t, err)
	assert.Equal(t, StatusCanceled, res.Status)
	assert.Equal(t, rcStopped, res.RC)
	assert.ErrorIs(t, res.Err, ErrCanceled)
	assert.Empty(t, res.Stats().Processed)
}

// A dir that is not a finished run's artifacts, or holds garbage, gives an
// error naming the file at fault, never a hang.
func TestLoadResultRejects(t *testing.T) {
	// good lays out the smallest finished run: status, rc, job_events/.
	good := func(t *testing.T) string {
		dir := filepath.Join(t.TempDir(), "ident")
		must(t, os.MkdirAll(filepath.Join(dir, "job_events"), 0o700))
		must(t, os.WriteFile(filepath.Join(dir, "status"), []byte("successful"), 0o600))
		must(t, os.WriteFile(filepath.Join(dir, "rc"), []byte("0\n"), 0o600))
		must(t, os.WriteFile(filepath.Join(dir, "job_events", "1-a.json"), []byte(`{"uuid": "a", "counter": 1, "event": "verbose", "stdout": "hi"}`), 0o600))
		return dir
	}
	res, err := LoadResult(good(t))
	require.NoError(t, err, "the good layout loads")
	assert.Equal(t, StatusSuccessful, res.Status)
	assert.Equal(t, 1, res.FinalCounter)
	assert.NoError(t, res.Err)

	cases := []struct {
		name  string
		spoil func(t *testing.T, dir string)
		file  string // the file the error names, relative to dir
		is    error
	}{
		{"missing", func(t *testing.T, dir string) { must(t, os.RemoveAll(dir)) }, "", fs.ErrNotExist},
		{"a file", func(t *testing.T, dir string) {
			must(t, os.RemoveAll(dir))
			must(t, os.WriteFile(dir, nil, 0o600))
		}, "", nil},
		{"empty dir", func(t *testing.T, dir string) {
			must(t, os.RemoveAll(dir))
			must(t, os.Mkdir(dir, 0o700))
		}, "", privdata.ErrNotFinished},
		{"status garbage", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "status"), []byte("\x00\x01garbage"), 0o600))
		}, "status", privdata.ErrBadValue},
		{"status huge", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "status"), make([]byte, 1<<20), 0o600))
		}, "status", privdata.ErrTooLarge},
		{"status a fifo", func(t *testing.T, dir string) {
			must(t, os.Remove(filepath.Join(dir, "status")))
			must(t, syscall.Mkfifo(filepath.Join(dir, "status"), 0o600))
		}, "status", nil},
		{"rc garbage", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "rc"), []byte("two"), 0o600))
		}, "rc", privdata.ErrBadValue},
		{"no rc", func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "rc"))) }, "rc", fs.ErrNotExist},
		{"no job_events", func(t *testing.T, dir string) { must(t, os.RemoveAll(filepath.Join(dir, "job_events"))) }, "job_events", fs.ErrNotExist},
		{"command garbage", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "command"), []byte("{not json"), 0o600))
		}, "command", privdata.ErrSyntax},
		{"event garbage", func(t *testing.T, dir string) {
			must(t, os.WriteFile(filepath.Join(dir, "job_events", "2-b.json"), []byte("{garbage"), 0o600))
		}, "job_events/2-b.json", nil},
		{"event unreadable", func(t *testing.T, dir string) {
			must(t, os.Mkdir(filepath.Join(dir, "job_events", "2-b.json"), 0o700))
		}, "job_events/2-b.json", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := good(t)
			c.spoil(t, dir)
			done := make(chan struct{})
			var res *Result
			var err error
			go func() {
				defer close(done)
				res, err = LoadResult(dir)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("LoadResult hangs")
			}
			require.Error(t, err)
			assert.Nil(t, res)
			t.Log(err)
			var fe *privdata.FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, filepath.Join(dir, c.file), fe.Path)
			if c.is != nil {
				assert.ErrorIs(t, err, c.is)
			}
		})
	}
}

// readAnsibleRunnerRun is a Python program that runs a playbook with
// ansible-runner itself and prints what its Runner reports: status, rc,
// stats, events, one host's events and facts.
const readAnsibleRunnerRun = `
import json, sys
import ansible_runner

pdd, ident, host = sys.argv[1:4]
r = ansible_runner.run(private_data_dir=pdd, playbook='site.yml', ident=ident, quiet=True)
evs = list(r.events)
json.dump({
    'status': r.status,
    'rc': r.rc,
    'stats': r.stats,
    'counters': [e['counter'] for e in evs],
    'uuids': [e['uuid'] for e in evs],
    'names': [e['event'] for e in evs],
    'host_uuids': [e['uuid'] for e in r.host_events(host)],
    'facts': r.get_fact_cache('h1'),
}, sys.stdout)
`

// LoadResult on ansible-runner's own artifacts returns what its Runner
// reports for them: status, rc, stats, events, host events and facts; and
// arunner's run of the same playbook loads back the same way.
func TestLoadResultOfAnsibleRunner(t *testing.T) {
	needBinaries(t)
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import ansible_runner").Run(); err != nil {
		t.Skipf("%s cannot import ansible_runner: %v", py, err)
	}
	pdd := realPDD(t, map[string]string{"site.yml": `
- hosts: web
  gather_facts: false
  tasks:
    - name: say hi
      debug: msg=hi
    - name: fail on h2
      fail: msg="h2 is broken"
      when: inventory_hostname == "h2"
    - name: remember
      set_fact:
        color: blue
        cacheable: true
`})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "-c", readAnsibleRunnerRun, pdd, "ref", "h2").Output()
	if ee, ok := err.(*exec.ExitError); ok {
		t.Fatalf("ansible-runner failed: %v\n%s", err, ee.Stderr)
	}
	require.NoError(t, err)
	var want struct {
		Status    string         `json:"status"`
		RC        int            `json:"rc"`
		Stats     *events.Stats  `json:"stats"`
		Counters  []int          `json:"counters"`
		UUIDs     []string       `json:"uuids"`
		Names     []string       `json:"names"`
		HostUUIDs []string       `json:"host_uuids"`
		Facts     map[string]any `json:"facts"`
	}
	require.NoError(t, json.Unmarshal(out, &want), "%s", out)
	require.Equal(t, "failed", want.Status, "the reference's run")

	res, err := LoadResult(filepath.Join(pdd, "artifacts", "ref"))
	require.NoError(t, err)
	assert.Equal(t, "ref", res.Ident)
	assert.Equal(t, Status(want.Status), res.Status)
	assert.Equal(t, want.RC, res.RC)
	assert.Equal(t, "ansible-playbook", res.Command[0])
	assert.Equal(t, filepath.Join(pdd, "project"), res.Cwd)
	stats := *res.Stats()
	stats.ArtifactData = nil // Runner.stats leaves it out
	assert.Equal(t, want.Stats, &stats)

	var counters []int
	var uuids, names, hostUUIDs []string
	for ev, err := range res.Events() {
		require.NoError(t, err)
		counters = append(counters, ev.Counter)
		uuids = append(uuids, ev.UUID)
		names = append(names, ev.Event)
	}
	assert.Equal(t, want.Counters, counters)
	assert.Equal(t, want.UUIDs, uuids)
	assert.Equal(t, want.Names, names)
	assert.Equal(t, want.Counters[len(want.Counters)-1], res.FinalCounter)
	for ev, err := range res.HostEvents("h2") {
		require.NoError(t, err)
		hostUUIDs = append(hostUUIDs, ev.UUID)
	}
	assert.Equal(t, want.HostUUIDs, hostUUIDs)
	facts, err := res.GetFactCache("h1")
	require.NoError(t, err)
	assert.Equal(t, want.Facts["color"], facts["color"])
	assert.Equal(t, "blue", facts["color"])

	const story = `ansible exited with rc 2 (status failed): one or more hosts failed; failed: h2; last failure: h2, task "fail on h2": h2 is broken`
	require.Error(t, res.Err)
	assert.Equal(t, story, res.Err.Error())

	// arunner's run of the same playbook: the live Result and the loaded
	// one agree, and tell the same story as the reference's artifacts.
	live, runErr := Run(ctx, Config{PrivateDataDir: pdd, Target: Playbook{Path: "site.yml"}, Ident: "ours"})
	require.Error(t, runErr)
	assert.Equal(t, story, runErr.Error())
	ours, err := LoadResult(live.ArtifactDir)
	require.NoError(t, err)
	assert.Equal(t, live.Status, ours.Status)
	assert.Equal(t, live.RC, ours.RC)
	assert.Equal(t, live.Stats(), ours.Stats())
	assert.Equal(t, live.FinalCounter, ours.FinalCounter)
	assert.Equal(t, story, ours.Err.Error())
	var exit *ExitError
	assert.True(t, errors.As(ours.Err, &exit))
}
