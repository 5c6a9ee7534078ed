package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/arunner/arunner/events"
)

// The limits that keep the page of a run with thousands of hosts, tasks
// or loop items small enough for a browser. Loop items never get bars of
// their own: they are counted on their task's bar.
const (
	// maxLanes is how many hosts the timeline shows, in the order they
	// started their first task; the recap lists them all.
	maxLanes = 50
	// maxBarsPerLane is how many bars a host's lane holds; a host with more
	// tasks has consecutive ones merged into one bar each, coloured by the
	// worst outcome among them.
	maxBarsPerLane = 250
	// maxSlowest is the length of the slowest tasks' table.
	maxSlowest = 15
	// maxFailures is how many failures are listed, the first ones.
	maxFailures = 100
	// maxMsg bounds a failure's message, in bytes.
	maxMsg = 2000
	// maxItemMsgs is how many failed items' messages a failure keeps.
	maxItemMsgs = 3
)

// The outcomes of a task on a host, each with its colour on the page.
const (
	outcomeOK          = "ok"
	outcomeChanged     = "changed"
	outcomeFailed      = "failed"
	outcomeIgnored     = "ignored" // failed, with ignore_errors
	outcomeUnreachable = "unreachable"
	outcomeSkipped     = "skipped"
	outcomeRunning     = "running" // started, never ended (a canceled run)
)

// outcomes in the order of the legend.
var outcomes = []string{outcomeOK, outcomeChanged, outcomeSkipped, outcomeFailed, outcomeIgnored, outcomeUnreachable, outcomeRunning}

// worst is the outcome a merged bar shows: the first of its bars' in this
// order.
var worst = []string{outcomeUnreachable, outcomeFailed, outcomeRunning, outcomeIgnored, outcomeChanged, outcomeOK, outcomeSkipped}

func severity(outcome string) int { return len(worst) - slices.Index(worst, outcome) }

// bar is one task on one host.
type bar struct {
	Host, Task, Play string
	taskUUID         string
	Outcome          string
	Start, End       time.Time
	Duration         time.Duration
	// Items counts the task's loop items by outcome.
	Items map[string]int
	// Merged is how many tasks a merged bar stands for; 0 for a plain bar.
	Merged int
}

// failure is a task that failed, or a host that was unreachable.
type failure struct {
	Host, Task, Play string
	Outcome          string
	Msg              string
}

// taskSpan is a task across its hosts, for the slowest tasks.
type taskSpan struct {
	Task, Play  string
	Start, End  time.Time
	Hosts       int
	SlowestHost string
	Slowest     time.Duration
}

// Wall is the time from the task's first start to its last end.
func (t *taskSpan) Wall() time.Duration { return t.End.Sub(t.Start) }

// model is what the page shows, built from the events in counter order.
type model struct {
	Start, End time.Time // the first and last event
	Lanes      []*lane
	HostsSeen  int // hosts that ran a task, in the timeline or not
	Tasks      []*taskSpan
	Failures   []failure
	FailuresN  int            // every failure, listed or not
	Counts     map[string]int // bars by outcome, over every host
	Plays      map[string]bool
	Stats      *events.Stats

	lanes map[string]*lane
	open  map[string]*bar     // key host, task uuid, task: started, not ended
	items map[string][]string // same key: failed loop items' messages
	tasks map[string]*taskSpan
}

// lane is one host's row of the timeline.
type lane struct {
	Host string
	Bars []*bar
}

// eventData is the part of a runner_* event's event_data the report reads.
// A key of an unexpected type is left zero (the rest is still read).
type eventData struct {
	Host     string          `json:"host"`
	Task     string          `json:"task"`
	TaskUUID string          `json:"task_uuid"`
	Play     string          `json:"play"`
	Start    string          `json:"start"`
	End      string          `json:"end"`
	Duration json.RawMessage `json:"duration"` // seconds
	Res      json.RawMessage `json:"res"`
}

func newModel() *model {
	return &model{
		Counts: map[string]int{},
		Plays:  map[string]bool{},
		lanes:  map[string]*lane{},
		open:   map[string]*bar{},
		items:  map[string][]string{},
		tasks:  map[string]*taskSpan{},
	}
}

// add takes the next event.
func (m *model) add(ev *events.Event) {
	created := parseTime(ev.Created)
	if !created.IsZero() {
		if m.Start.IsZero() || created.Before(m.Start) {
			m.Start = created
		}
		if created.After(m.End) {
			m.End = created
		}
	}
	if ev.Event == events.PlaybookOnStats {
		if s, ok := ev.Stats(); ok && m.Stats == nil {
			m.Stats = s
		}
		return
	}
	if !strings.HasPrefix(ev.Event, "runner_") || ev.EventData == nil {
		return
	}
	var d eventData
	if err := json.Unmarshal(ev.EventData, &d); (err != nil && !errors.As(err, new(*json.UnmarshalTypeError))) || d.Host == "" {
		return
	}
	m.Plays[d.Play] = true
	key := d.Host + "\x00" + d.TaskUUID + "\x00" + d.Task
	switch ev.Event {
	case events.RunnerOnStart:
		if l := m.lane(d.Host); l != nil {
			b := &bar{Host: d.Host, Task: d.Task, Play: d.Play, taskUUID: d.TaskUUID, Outcome: outcomeRunning, Start: created, End: created}
			l.Bars = append(l.Bars, b)
			m.open[key] = b
		}
	case events.RunnerItemOnOK, events.RunnerItemOnFailed, events.RunnerItemOnSkipped:
		outcome := itemOutcome(ev)
		if b := m.open[key]; b != nil {
			if b.Items == nil {
				b.Items = map[string]int{}
			}
			b.Items[outcome]++
			b.End = maxTime(b.End, created)
		}
		if outcome == outcomeFailed && len(m.items[key]) < maxItemMsgs {
			m.items[key] = append(m.items[key], itemMsg(d.Res))
		}
	case events.RunnerOnOK, events.RunnerOnFailed, events.RunnerOnSkipped, events.RunnerOnUnreachable,
		events.RunnerOnAsyncOK, events.RunnerOnAsyncFailed:
		m.end(ev, &d, key, created)
	}
}

// end closes the bar of a task on a host with its final event.
func (m *model) end(ev *events.Event, d *eventData, key string, created time.Time) {
	outcome := finalOutcome(ev)
	start, end := parseTime(d.Start), parseTime(d.End)
	if end.IsZero() {
		end = created
	}
	if start.IsZero() {
		start = end
	}
	dur := end.Sub(start)
	if secs, err := strconv.ParseFloat(string(d.Duration), 64); err == nil {
		dur = time.Duration(secs * float64(time.Second))
	}
	m.Counts[outcome]++
	b := m.open[key]
	delete(m.open, key)
	if b == nil {
		if l := m.lane(d.Host); l != nil {
			b = &bar{Host: d.Host, Task: d.Task, Play: d.Play, taskUUID: d.TaskUUID}
			l.Bars = append(l.Bars, b)
		}
	}
	if b != nil {
		b.Outcome, b.Start, b.End, b.Duration = outcome, start, end, dur
	}

	t := m.tasks[d.TaskUUID+"\x00"+d.Task]
	if t == nil {
		t = &taskSpan{Task: d.Task, Play: d.Play, Start: start, End: end}
		m.tasks[d.TaskUUID+"\x00"+d.Task] = t
		m.Tasks = append(m.Tasks, t)
	}
	t.Hosts++
	t.Start, t.End = minTime(t.Start, start), maxTime(t.End, end)
	if dur > t.Slowest || t.SlowestHost == "" {
		t.Slowest, t.SlowestHost = dur, d.Host
	}

	itemMsgs := m.items[key]
	delete(m.items, key)
	if outcome == outcomeFailed || outcome == outcomeUnreachable {
		m.FailuresN++
		if len(m.Failures) < maxFailures {
			msg := events.ResultMessage(d.Res)
			for _, im := range itemMsgs {
				msg += "\n" + im
			}
			m.Failures = append(m.Failures, failure{Host: d.Host, Task: d.Task, Play: d.Play, Outcome: outcome, Msg: clip(strings.TrimSpace(msg), maxMsg)})
		}
	}
}

// lane returns host's lane, nil once the timeline has maxLanes others.
func (m *model) lane(host string) *lane {
	l, ok := m.lanes[host]
	if !ok {
		m.HostsSeen++
		if len(m.Lanes) < maxLanes {
			l = &lane{Host: host}
			m.Lanes = append(m.Lanes, l)
		}
		m.lanes[host] = l
	}
	return l
}

// finish merges the bars of crowded lanes and orders the tasks by wall time.
func (m *model) finish() {
	for _, l := range m.Lanes {
		l.Bars = merge(l.Bars, maxBarsPerLane)
		for _, b := range l.Bars {
			m.End = maxTime(m.End, b.End)
			if !b.Start.IsZero() && b.Start.Before(m.Start) {
				m.Start = b.Start
			}
		}
	}
	for _, b := range m.open {
		m.Counts[b.Outcome]++ // running
	}
	slices.SortStableFunc(m.Tasks, func(a, b *taskSpan) int { return cmp.Compare(b.Wall(), a.Wall()) })
	m.Tasks = m.Tasks[:min(len(m.Tasks), maxSlowest)]
}

// merge cuts bars down to at most limit, each new bar standing for
// consecutive ones.
func merge(bars []*bar, limit int) []*bar {
	if len(bars) <= limit {
		return bars
	}
	per := (len(bars) + limit - 1) / limit
	var out []*bar
	for i := 0; i < len(bars); i += per {
		group := bars[i:min(i+per, len(bars))]
		m := &bar{Host: group[0].Host, Task: group[0].Task, Play: group[0].Play, Outcome: group[0].Outcome,
			Start: group[0].Start, End: group[0].End, Merged: len(group)}
		for _, b := range group[1:] {
			if severity(b.Outcome) > severity(m.Outcome) {
				m.Outcome = b.Outcome
			}
			m.End = maxTime(m.End, b.End)
		}
		for _, b := range group {
			m.Duration += b.Duration
		}
		out = append(out, m)
	}
	return out
}

// finalOutcome is the outcome a task's last event on a host gives it.
func finalOutcome(ev *events.Event) string {
	switch ev.Event {
	case events.RunnerOnFailed, events.RunnerOnAsyncFailed:
		if ev.IgnoreErrors() {
			return outcomeIgnored
		}
		return outcomeFailed
	case events.RunnerOnUnreachable:
		return outcomeUnreachable
	case events.RunnerOnSkipped:
		return outcomeSkipped
	}
	if ev.Changed() {
		return outcomeChanged
	}
	return outcomeOK
}

func itemOutcome(ev *events.Event) string {
	switch ev.Event {
	case events.RunnerItemOnFailed:
		return outcomeFailed
	case events.RunnerItemOnSkipped:
		return outcomeSkipped
	}
	if ev.Changed() {
		return outcomeChanged
	}
	return outcomeOK
}

// itemMsg is a failed loop item's message, after the item's label.
func itemMsg(res json.RawMessage) string {
	var r struct {
		Item json.RawMessage `json:"item"`
	}
	_ = json.Unmarshal(res, &r)
	item := string(r.Item)
	var s string
	if json.Unmarshal(r.Item, &s) == nil {
		item = s
	}
	return "item " + clip(item, 200) + ": " + events.ResultMessage(res)
}

// clip cuts s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// parseTime reads the times ansible-runner's events carry: ISO 8601 in
// UTC without a zone (Python's datetime.utcnow().isoformat()), or with one.
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	t, _ := time.Parse("2006-01-02T15:04:05", s) // fractional seconds are accepted too
	return t
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
