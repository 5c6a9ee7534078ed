package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
)

// t0 is when the test runs start.
var t0 = time.Date(2026, 12, 7, 17, 0, 0, 0, time.UTC)

// at is t0 plus ms milliseconds, as ansible-runner writes times.
func at(ms int) string {
	return t0.Add(time.Duration(ms) * time.Millisecond).Format("2006-01-02T15:04:05.000000")
}

// script builds the events of a run, counter by counter.
type script struct{ evs []*events.Event }

func (s *script) add(name string, createdMS int, data map[string]any) *script {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	s.evs = append(s.evs, &events.Event{
		UUID: fmt.Sprintf("u%d", len(s.evs)+1), Counter: len(s.evs) + 1, Event: name,
		Created: at(createdMS), EventData: raw, PID: 1,
	})
	return s
}

// task adds a task that runs on host from startMS to endMS and ends with
// the final event name; res is its result, extra more event_data.
func (s *script) task(host, task, final string, startMS, endMS int, res map[string]any, extra map[string]any) *script {
	base := map[string]any{"host": host, "task": task, "task_uuid": "t-" + task, "play": "p"}
	s.add(events.RunnerOnStart, startMS, base)
	data := map[string]any{"start": at(startMS), "end": at(endMS), "duration": float64(endMS-startMS) / 1000, "res": res}
	for k, v := range base {
		data[k] = v
	}
	for k, v := range extra {
		data[k] = v
	}
	return s.add(final, endMS+1, data)
}

func (s *script) model() *model {
	m := newModel()
	for _, ev := range s.evs {
		m.add(ev)
	}
	m.finish()
	return m
}

// barsOf is a lane's bars as "task:outcome:startMS-endMS".
func barsOf(l *lane) []string {
	var out []string
	for _, b := range l.Bars {
		out = append(out, fmt.Sprintf("%s:%s:%d-%d", b.Task, b.Outcome, b.Start.Sub(t0).Milliseconds(), b.End.Sub(t0).Milliseconds()))
	}
	return out
}

func TestTimeline(t *testing.T) {
	s := new(script).add(events.PlaybookOnStart, 0, map[string]any{})
	s.task("web1", "install", events.RunnerOnOK, 100, 400, map[string]any{"changed": true}, nil)
	s.task("web2", "install", events.RunnerOnOK, 110, 300, map[string]any{"changed": false}, nil)
	s.task("web1", "check", events.RunnerOnFailed, 500, 600, map[string]any{"msg": "nope"}, map[string]any{"ignore_errors": true})
	s.task("web2", "check", events.RunnerOnUnreachable, 500, 900, map[string]any{"msg": "no route"}, nil)
	s.task("web1", "cleanup", events.RunnerOnSkipped, 700, 710, nil, nil)
	// A loop: three items, then the task's own result.
	item := map[string]any{"host": "web1", "task": "loop", "task_uuid": "t-loop"}
	s.add(events.RunnerOnStart, 800, item)
	s.add(events.RunnerItemOnOK, 850, merged(item, map[string]any{"res": map[string]any{"changed": true, "item": "a"}}))
	s.add(events.RunnerItemOnOK, 860, merged(item, map[string]any{"res": map[string]any{"item": "b"}}))
	s.add(events.RunnerItemOnFailed, 870, merged(item, map[string]any{"res": map[string]any{"item": "c", "msg": "bad c"}}))
	s.add(events.RunnerOnFailed, 880, merged(item, map[string]any{"start": at(800), "end": at(875), "res": map[string]any{"msg": "One or more items failed"}}))
	// Started, never ended: the run was canceled.
	s.add(events.RunnerOnStart, 950, map[string]any{"host": "web1", "task": "last", "task_uuid": "t-last"})
	s.add(events.PlaybookOnStats, 1000, map[string]any{"ok": map[string]int{"web1": 1}})

	m := s.model()
	require.Len(t, m.Lanes, 2)
	assert.Equal(t, "web1", m.Lanes[0].Host)
	assert.Equal(t, []string{"install:changed:100-400", "check:ignored:500-600", "cleanup:skipped:700-710", "loop:failed:800-875", "last:running:950-950"}, barsOf(m.Lanes[0]))
	assert.Equal(t, []string{"install:ok:110-300", "check:unreachable:500-900"}, barsOf(m.Lanes[1]))
	assert.Equal(t, map[string]int{"ok": 1, "changed": 1, "failed": 1}, m.Lanes[0].Bars[3].Items, "loop items counted on the task's bar")
	assert.Equal(t, 300*time.Millisecond, m.Lanes[0].Bars[0].Duration, "event_data.duration")
	assert.Equal(t, t0, m.Start)
	assert.Equal(t, t0.Add(time.Second), m.End)
	assert.Equal(t, map[string]int{"ok": 1, "changed": 1, "ignored": 1, "unreachable": 1, "skipped": 1, "failed": 1, "running": 1}, m.Counts)
	assert.Equal(t, map[string]int{"web1": 1}, m.Stats.OK)
}

func merged(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestSlowestTasks(t *testing.T) {
	s := new(script)
	s.task("a", "quick", events.RunnerOnOK, 0, 100, nil, nil)
	s.task("b", "quick", events.RunnerOnOK, 0, 150, nil, nil)
	s.task("a", "slow", events.RunnerOnOK, 200, 1200, nil, nil)
	s.task("b", "slow", events.RunnerOnOK, 300, 900, nil, nil)
	s.task("a", "middle", events.RunnerOnOK, 1300, 1700, nil, nil)
	for i := range maxSlowest + 5 {
		s.task("a", fmt.Sprintf("tiny %d", i), events.RunnerOnOK, 2000+i, 2000+i, nil, nil)
	}
	m := s.model()
	require.Len(t, m.Tasks, maxSlowest)
	var got []string
	for _, tk := range m.Tasks[:3] {
		got = append(got, fmt.Sprintf("%s %s %d %s %s", tk.Task, tk.Wall(), tk.Hosts, tk.SlowestHost, tk.Slowest))
	}
	assert.Equal(t, []string{"slow 1s 2 a 1s", "middle 400ms 1 a 400ms", "quick 150ms 2 b 150ms"}, got)
}

func TestFailures(t *testing.T) {
	s := new(script)
	s.task("a", "cmd", events.RunnerOnFailed, 0, 10, map[string]any{"msg": "non-zero return code", "stderr": "ls: cannot access 'x'\nmore\n"}, nil)
	s.task("b", "cmd", events.RunnerOnFailed, 0, 10, map[string]any{"msg": []string{"one", "two"}}, nil)
	s.task("c", "cmd", events.RunnerOnFailed, 0, 10, map[string]any{"msg": "ignored"}, map[string]any{"ignore_errors": true})
	s.task("d", "ping", events.RunnerOnUnreachable, 0, 10, map[string]any{"msg": "ssh: connect to host d port 22: Connection refused"}, nil)
	item := map[string]any{"host": "e", "task": "loop", "task_uuid": "t-loop"}
	s.add(events.RunnerOnStart, 20, item)
	s.add(events.RunnerItemOnFailed, 21, merged(item, map[string]any{"res": map[string]any{"item": "x", "msg": "x broke"}}))
	s.add(events.RunnerItemOnFailed, 22, merged(item, map[string]any{"res": map[string]any{"item": map[string]int{"n": 2}, "msg": "n broke"}}))
	s.add(events.RunnerOnFailed, 23, merged(item, map[string]any{"res": map[string]any{"msg": "One or more items failed"}}))
	s.task("f", "huge", events.RunnerOnFailed, 30, 40, map[string]any{"msg": strings.Repeat("é", maxMsg)}, nil)

	m := s.model()
	var got []string
	for _, f := range m.Failures[:5] {
		got = append(got, fmt.Sprintf("%s %s %s: %s", f.Host, f.Task, f.Outcome, f.Msg))
	}
	assert.Equal(t, []string{
		"a cmd failed: non-zero return code\nls: cannot access 'x'\nmore",
		`b cmd failed: ["one","two"]`,
		"d ping unreachable: ssh: connect to host d port 22: Connection refused",
		"e loop failed: One or more items failed\nitem x: x broke\nitem {\"n\":2}: n broke",
	}, got[:4])
	huge := m.Failures[4].Msg
	assert.LessOrEqual(t, len(huge), maxMsg+len("…"))
	assert.True(t, strings.HasSuffix(huge, "é…"), "cut on a rune boundary")

	s = new(script)
	for i := range maxFailures + 7 {
		s.task(fmt.Sprintf("h%d", i), "fail", events.RunnerOnFailed, 0, 1, map[string]any{"msg": "x"}, nil)
	}
	m = s.model()
	assert.Len(t, m.Failures, maxFailures)
	assert.Equal(t, maxFailures+7, m.FailuresN)
}

func TestLimits(t *testing.T) {
	s := new(script)
	for i := range maxLanes + 10 {
		s.task(fmt.Sprintf("h%03d", i), "one", events.RunnerOnOK, 0, 10, nil, nil)
	}
	const n = 3*maxBarsPerLane + 1
	for i := range n {
		final := events.RunnerOnOK
		if i == 5 {
			final = events.RunnerOnFailed
		}
		s.task("h000", fmt.Sprintf("t%d", i), final, 10+i, 11+i, nil, nil)
	}
	m := s.model()
	assert.Len(t, m.Lanes, maxLanes)
	assert.Equal(t, maxLanes+10, m.HostsSeen)
	bars := m.Lanes[0].Bars
	assert.LessOrEqual(t, len(bars), maxBarsPerLane)
	total := 0
	for _, b := range bars {
		total += b.Merged
	}
	assert.Equal(t, n+1, total, "every task is in a merged bar")
	assert.Equal(t, "failed", bars[1].Outcome, "a merged bar shows its worst outcome")
	assert.Equal(t, "ok", bars[2].Outcome)
	assert.Len(t, m.Lanes[1].Bars, 1)
	assert.Zero(t, m.Lanes[1].Bars[0].Merged)
}

// event_data is loosely typed: a key of an odd type loses only itself.
func TestLooseEventData(t *testing.T) {
	s := new(script)
	s.task("a", "odd", events.RunnerOnFailed, 0, 100, map[string]any{"msg": "m"}, map[string]any{"duration": "long", "ignore_errors": "yes"})
	s.task("b", "odd", events.RunnerOnOK, 0, 100, nil, map[string]any{"play": 42})
	m := s.model()
	require.Len(t, m.Lanes, 2)
	assert.Equal(t, []string{"odd:ignored:0-100"}, barsOf(m.Lanes[0]))
	assert.Equal(t, 100*time.Millisecond, m.Lanes[0].Bars[0].Duration, "from start and end")
	assert.Equal(t, []string{"odd:ok:0-100"}, barsOf(m.Lanes[1]))
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-12-07T17:01:39.039569":       time.Date(2026, 12, 7, 17, 1, 39, 39569000, time.UTC),
		"2026-12-07T17:01:39":              time.Date(2026, 12, 7, 17, 1, 39, 0, time.UTC),
		"2026-12-07T18:01:39.5+01:00":      time.Date(2026, 12, 7, 17, 1, 39, 500000000, time.UTC),
		"2026-12-07T17:01:39.039569+00:00": time.Date(2026, 12, 7, 17, 1, 39, 39569000, time.UTC),
		"":                                 {},
		"garbage":                          {},
	} {
		assert.True(t, want.Equal(parseTime(in)), "%q: got %v", in, parseTime(in))
	}
}
