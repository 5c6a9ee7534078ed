package conformance

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
)

// recorder is a testing.TB that keeps the failures reported to it, so that
// Compare itself can be shown to fail.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func event(counter int, name, host, task, uuid, parent string, data string) events.Event {
	return events.Event{
		UUID: uuid, Counter: counter, Event: name, ParentUUID: parent, RunnerIdent: "x",
		EventData: []byte(data),
	}
}

// baseRun is a small, consistent run: playbook start, one task, one ok
// result, stats.
func baseRun(pdd string) Run {
	stats := `{"playbook_uuid":"p","ok":{"localhost":1},"changed":{},"dark":{},"failures":{},"ignored":{},"processed":{"localhost":1},"rescued":{},"skipped":{}}`
	return Run{
		PrivateDataDir: pdd,
		Status:         "successful",
		RC:             "0",
		Stdout:         "PLAY [x] ***\r\nok: [localhost] => " + pdd + "/project 2026-11-27 16:39:31.123456\r\n",
		CommandKeys:    []string{"command", "cwd", "env"},
		Command: Command{
			Command: []string{"ansible-playbook", "-i", pdd + "/inventory", "site.yml"},
			Cwd:     pdd + "/project",
			Env:     map[string]string{"ANSIBLE_STDOUT_CALLBACK": "x"},
		},
		Events: []events.Event{
			event(1, "playbook_on_start", "", "", "p", "", `{"playbook":"site.yml","playbook_uuid":"p"}`),
			event(2, "playbook_on_task_start", "", "t1", "t", "p", `{"playbook_uuid":"p","task":"t1","task_uuid":"t"}`),
			event(3, "runner_on_ok", "localhost", "t1", "e3", "t", `{"playbook_uuid":"p","task":"t1","task_uuid":"t","host":"localhost"}`),
			event(4, "playbook_on_stats", "", "", "e4", "p", stats),
		},
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name   string
		change func(ours *Run)
		opts   Options
		want   []string // substrings of the expected failures, in order; none: equal
	}{
		{name: "same", change: func(*Run) {}},
		{name: "status", change: func(o *Run) { o.Status = "failed" }, want: []string{"status artifact"}},
		{name: "rc", change: func(o *Run) { o.RC = "2" }, want: []string{"rc artifact"}},
		{name: "argv order", change: func(o *Run) {
			c := o.Command.Command
			c[1], c[2] = c[2], c[1]
		}, want: []string{"command argv"}},
		{name: "argv order declared", change: func(o *Run) {
			c := o.Command.Command
			c[1], c[2] = c[2], c[1]
		}, opts: Options{Argv: func(a []string) []string { return a[3:] }}},
		{name: "binary path is fine", change: func(o *Run) { o.Command.Command[0] = "/usr/bin/ansible-playbook" }},
		{name: "cwd", change: func(o *Run) { o.Command.Cwd = o.PrivateDataDir }, want: []string{"cwd"}},
		{name: "command keys", change: func(o *Run) { o.CommandKeys = o.CommandKeys[:2] }, want: []string{"command artifact keys"}},
		{name: "env name", change: func(o *Run) { o.Command.Env["ANSIBLE_NEW"] = "1" }, want: []string{"command env names"}},
		{name: "env name declared", change: func(o *Run) { o.Command.Env["ANSIBLE_NEW"] = "1" }, opts: Options{EnvOnlyOurs: []string{"ANSIBLE_NEW"}}},
		{name: "missing event", change: func(o *Run) {
			o.Events = append(o.Events[:2:2], o.Events[3])
			o.Events[2].Counter = 3
		}, want: []string{"multiset"}},
		{name: "counter gap", change: func(o *Run) { o.Events[3].Counter = 5 }, want: []string{"1..N"}},
		{name: "missing field", change: func(o *Run) {
			o.Events[2].EventData = []byte(`{"task":"t1","task_uuid":"t","host":"localhost","extra":1}`)
		}, want: []string{"event_data keys"}},
		{name: "wrong parent", change: func(o *Run) { o.Events[2].ParentUUID = "p" }, want: []string{"is its task_uuid"}},
		{name: "unknown parent", change: func(o *Run) { o.Events[1].ParentUUID = "zz" }, want: []string{"is its playbook_uuid", "unknown"}},
		{name: "stats", change: func(o *Run) {
			o.Events[3].EventData = []byte(strings.Replace(string(o.Events[3].EventData), `"ok":{"localhost":1}`, `"ok":{"localhost":2}`, 1))
		}, want: []string{"playbook_on_stats"}},
		{name: "stdout", change: func(o *Run) { o.Stdout += "extra\r\n" }, want: []string{"stdout artifact"}},
		{name: "stdout colors", change: func(o *Run) { o.Stdout = "\x1b[0;32m" + o.Stdout }, want: []string{"stdout artifact"}},
		{name: "stdout colors stripped", change: func(o *Run) { o.Stdout = "\x1b[0;32m" + o.Stdout }, opts: Options{StripTerminal: true}},
		{name: "stdout unordered", change: func(o *Run) {
			l := strings.SplitAfter(o.Stdout, "\n")
			o.Stdout = l[1] + l[0]
		}, opts: Options{UnorderedStdout: true}},
		{name: "stdout prefix", change: func(o *Run) { o.Stdout = "PLAY [x] ***\r\nok: [loc" }, opts: Options{StdoutPrefix: true}},
		{name: "stdout not a prefix", change: func(o *Run) { o.Stdout = "PLAY [y] ***\r\nok: [loc" }, opts: Options{StdoutPrefix: true},
			want: []string{"stdout artifact"}},
		{name: "any count", change: func(o *Run) {
			o.Events = append(o.Events[:3:3], event(4, "runner_on_async_poll", "localhost", "t1", "e5", "t", `{"host":"localhost","task":"t1"}`), o.Events[3])
			o.Events[4].Counter = 5
			o.Stdout += "ASYNC POLL on localhost\r\n"
		}, opts: Options{AnyCount: []string{"runner_on_async_poll"}, IgnoreLines: regexp.MustCompile(`^ASYNC POLL`)}},
		{name: "any count undeclared", change: func(o *Run) {
			o.Events = append(o.Events[:3:3], event(4, "runner_on_async_poll", "localhost", "t1", "e5", "t", `{"host":"localhost","task":"t1"}`), o.Events[3])
			o.Events[4].Counter = 5
		}, want: []string{"multiset"}},
		{name: "no events", change: func(o *Run) { o.Events = nil }, opts: Options{NoEvents: true}},
		{name: "fixup", change: func(o *Run) { o.RC = "2" }, opts: Options{Fixup: func(_ testing.TB, o, _ *Run) { o.RC = "0" }}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours, ref := baseRun("/tmp/a/pdd"), baseRun("/tmp/b/pdd")
			tt.change(&ours)
			rec := &recorder{TB: t}
			Compare(rec, ours, ref, tt.opts)
			require.Len(t, rec.errors, len(tt.want), "failures: %v", rec.errors)
			for i, w := range tt.want {
				assert.Contains(t, rec.errors[i], w)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"at 2026-11-27 16:39:31.123456 ok", "at TIMESTAMP ok"},
		{`"delta": "0:00:00.003"`, `"delta": "DELTA"`},
		{"delta: '0:00:00.003'", "delta: 'DELTA'"},
		{`"ansible_job_id": "j123456789012.4242"`, `"ansible_job_id": "JID"`},
		{"uuid 0242ac11-0002-7a2b-9c3d-000000000008_3 x", "uuid UUID x"},
		{"/root/.ansible/tmp/ansible-tmp-1700000000.12-42-1234/x", "/root/.ansible/tmp/ansible-tmp-X/x"},
		{"ansible-local-42abc/tmpxyz_1", "ansible-local-X"},
		{"callback 'awx_display'", "callback 'STDOUT_CALLBACK'"},
		{"callback 'arunner'", "callback 'STDOUT_CALLBACK'"},
		{"nothing to change", "nothing to change"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Normalize(tt.in), tt.in)
	}
}

func TestStripTerminal(t *testing.T) {
	assert.Equal(t, "ok: [h]\nPLAY\n", StripTerminal("\x1b[0;32mok: [h]\x1b[0m\r\n\x1b[?25lPLAY\r\n"))
}

func TestReadArtifacts(t *testing.T) {
	pdd := t.TempDir()
	art := filepath.Join(pdd, "artifacts", "id")
	require.NoError(t, os.MkdirAll(filepath.Join(art, "job_events"), 0o700))
	files := map[string]string{
		"stdout":  "text\r\n",
		"status":  "failed",
		"rc":      "2",
		"command": `{"command": ["ansible-playbook", "x.yml"], "cwd": "/w", "env": {"A": "1"}}`,
		// Counter order, not file name order.
		"job_events/10-b.json": `{"uuid": "b", "counter": 10, "event": "playbook_on_stats", "event_data": {}}`,
		"job_events/9-a.json":  `{"uuid": "a", "counter": 9, "event": "playbook_on_start", "event_data": {}}`,
		"job_events/partial":   "not an event",
	}
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(art, name), []byte(body), 0o600))
	}
	r := ReadArtifacts(t, art)
	assert.Equal(t, pdd, r.PrivateDataDir)
	assert.Equal(t, "text\r\n", r.Stdout)
	assert.Equal(t, "failed", r.Status)
	assert.Equal(t, "2", r.RC)
	assert.Equal(t, Command{Command: []string{"ansible-playbook", "x.yml"}, Cwd: "/w", Env: map[string]string{"A": "1"}}, r.Command)
	assert.Equal(t, []string{"command", "cwd", "env"}, r.CommandKeys)
	require.Len(t, r.Events, 2)
	assert.Equal(t, []int{9, 10}, []int{r.Events[0].Counter, r.Events[1].Counter})

	empty := ReadArtifacts(t, t.TempDir())
	assert.Empty(t, empty.Status)
	assert.Empty(t, empty.Events)
}

func TestCopyDir(t *testing.T) {
	dst := CopyDir(t, filepath.Join("..", "..", "testdata", "conformance", "plays"))
	b, err := os.ReadFile(filepath.Join(dst, "project", "outcomes.yml"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "hosts: pair:down")
	info, err := os.Stat(filepath.Join(dst, "project", "library", "warner.py"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm(), "executable bit kept, others' bits dropped")
	info, err = os.Stat(filepath.Join(dst, "inventory"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
}

func TestCleanEnv(t *testing.T) {
	t.Setenv("ANSIBLE_STDOUT_CALLBACK", "yaml")
	t.Setenv("RUNNER_OMIT_EVENTS", "True")
	t.Setenv("JOB_ID", "7")
	env := CleanEnv(map[string]string{"B": "2", "A": "1"})
	for _, kv := range env {
		assert.NotRegexp(t, `^(ANSIBLE_|RUNNER_|JOB_ID=)`, kv)
	}
	assert.Equal(t, []string{"A=1", "B=2"}, env[len(env)-2:])
}

func TestCompareEventData(t *testing.T) {
	// ok is a loop item's result as each side writes it: uuids, times,
	// durations, the job id and the paths differ, nothing else.
	ok := func(uuid, ts, dur, jid, pdd, tmp, changed string) events.Event {
		return event(3, "runner_item_on_ok", "localhost", "t1", uuid, "t", `{"host":"localhost","task":"t1","task_uuid":"`+uuid+
			`","start":"`+ts+`","duration":`+dur+`,"res":{"item":"a","changed":`+changed+`,"delta":"0:00:00.00`+dur[2:]+
			`","ansible_job_id":"`+jid+`","path":"`+pdd+`/project/x","after_header":"/root/.ansible/tmp/ansible-local-`+tmp+`/tmp`+tmp+`"}}`)
	}
	refRun := func() Run {
		r := baseRun("/tmp/b/pdd")
		r.Events[2] = ok("0242ac11-0002-7a2b-9c3d-000000000008", "2026-11-27T16:39:31.123456", "0.5", "j1.42", "/tmp/b/pdd", "42abc", "false")
		return r
	}
	same := ok("1242ac11-0002-7a2b-9c3d-000000000009", "2026-11-27T16:40:01.5", "0.25", "j9876.7", "/tmp/a/pdd", "7xyz", "false")
	tests := []struct {
		name   string
		change func(ours *Run)
		opts   Options
		want   []string // substrings of the expected failures, in order; none: equal
	}{
		{name: "only what varies differs", change: func(o *Run) { o.Events[2] = same }},
		{name: "any count", change: func(o *Run) {
			o.Events[2] = same
			o.Events = append(o.Events, event(5, "runner_on_async_poll", "localhost", "t1", "p", "t", `{"host":"localhost","task":"t1"}`))
		}, opts: Options{AnyCount: []string{"runner_on_async_poll"}}},
		{name: "any count undeclared", change: func(o *Run) {
			o.Events[2] = same
			o.Events = append(o.Events, event(5, "runner_on_async_poll", "localhost", "t1", "p", "t", `{"host":"localhost","task":"t1"}`))
		}, want: []string{"(runner_on_async_poll \"localhost\" \"t1\") (counter 5) of ours has no counterpart"}},
		{name: "a value", change: func(o *Run) {
			o.Events[2] = ok("1242ac11-0002-7a2b-9c3d-000000000009", "2026-11-27T16:40:01.5", "0.25", "j9876.7", "/tmp/a/pdd", "7xyz", "true")
		}, want: []string{"event_data of (runner_item_on_ok \"localhost\" \"t1\" item \"a\") #0"}},
		{name: "a missing key", change: func(o *Run) {
			o.Events[2] = same
			o.Events[2].EventData = []byte(strings.Replace(string(o.Events[2].EventData), `"changed":false,`, "", 1))
		}, want: []string{"event_data of"}},
		{name: "another item", change: func(o *Run) {
			o.Events[2] = same
			o.Events[2].EventData = []byte(strings.Replace(string(o.Events[2].EventData), `"item":"a"`, `"item":"b"`, 1))
		}, want: []string{`item "a") #0 of the reference (counter 3) has no counterpart`, `item "b") (counter 3) of ours has no counterpart`}},
		{name: "an extra event", change: func(o *Run) {
			o.Events[2] = same
			o.Events = append(o.Events, event(5, "warning", "", "", "w", "", `{"msg":"x"}`))
		}, want: []string{`(warning "" "") (counter 5) of ours has no counterpart`}},
		{name: "empty verbose events of workers are left out", change: func(o *Run) {
			o.Events[2] = same
			e := event(5, "verbose", "", "", "v", "", `{}`)
			e.PID = 7
			o.Events = append(o.Events, e)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ours, ref := baseRun("/tmp/a/pdd"), refRun()
			tt.change(&ours)
			rec := &recorder{TB: t}
			CompareEventData(rec, ours, ref, tt.opts)
			require.Len(t, rec.errors, len(tt.want), "failures: %v", rec.errors)
			for i, w := range tt.want {
				assert.Contains(t, rec.errors[i], w)
			}
		})
	}
}

func TestNormalizeEventData(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"uuid":"0242ac11-0002-7a2b-9c3d-000000000008_2","task":"t"}`, `{"task":"t","uuid":"UUID"}`},
		{`{"start":"2026-11-27T16:39:31.123456","res":{"end":"2026-11-27 16:39:31.1"}}`, `{"res":{"end":"TIMESTAMP"},"start":"TIMESTAMP"}`},
		{`{"duration":0.123,"res":{"delta":"0:00:00.003"}}`, `{"duration":"DURATION","res":{"delta":"DELTA"}}`},
		{`{"duration":null}`, `{"duration":null}`},
		{`{"res":{"ansible_job_id":"j123456789012.4242","results_file":"/root/.ansible_async/j1.2"}}`,
			`{"res":{"ansible_job_id":"JID","results_file":"/root/.ansible_async/JID"}}`},
		{`{"res":{"h":"/root/.ansible/tmp/ansible-local-42abc_d/tmpxyz_1","t":"/root/.ansible/tmp/ansible-tmp-1700000000.12-42-1234/x"}}`,
			`{"res":{"h":"/root/.ansible/tmp/ANSIBLE_TMP","t":"/root/.ansible/tmp/ANSIBLE_TMP/x"}}`},
		{`{"task_path":"/tmp/a/pdd/project/site.yml:3"}`, `{"task_path":"PDD/project/site.yml:3"}`},
		// Everything else is kept as it is, numbers as written.
		{`{"res":{"changed":false,"rc":0,"n":1.50,"msg":"obj1.2 at 16:39","item":{"b":[1,"x"]}}}`,
			`{"res":{"changed":false,"item":{"b":[1,"x"]},"msg":"obj1.2 at 16:39","n":1.50,"rc":0}}`},
		{`not json`, `not json`},
	}
	for _, tt := range tests {
		got := NormalizeEventData([]byte(tt.in), "/tmp/a/pdd")
		var want bytes.Buffer
		if json.Indent(&want, []byte(tt.want), "", "  ") != nil {
			want.WriteString(tt.want)
		}
		assert.Equal(t, want.String(), got, tt.in)
	}
}
