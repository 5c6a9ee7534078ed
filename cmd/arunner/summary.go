package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

// failedTask is one failed or unreachable task result the summary names.
type failedTask struct {
	host, task, msg string
	unreachable     bool
}

// tally follows a run's events for the summary and the progress line: the
// current play and task, each host's results so far, and the failed tasks.
type tally struct {
	// counting says whether host results are counted: the progress line
	// shows them, and a run without a recap (an ad hoc command) has only
	// them; otherwise only failures are looked at.
	counting                         bool
	play, task                       string
	ok, changed, failed, unreachable map[string]int
	failures                         []failedTask
	first, last                      string // created of the first and last event
}

func newTally(counting bool) *tally {
	return &tally{counting: counting, ok: map[string]int{}, changed: map[string]int{}, failed: map[string]int{}, unreachable: map[string]int{}}
}

// see counts ev; it reports whether ev changed what the progress line shows.
func (t *tally) see(ev *events.Event) bool {
	if t.first == "" {
		t.first = ev.Created
	}
	t.last = ev.Created
	switch ev.Event {
	case events.PlaybookOnPlayStart:
		t.play, t.task = ev.Play(), ""
	case events.PlaybookOnTaskStart:
		t.task = ev.Task()
	case events.RunnerOnOK:
		if !t.counting {
			return false
		}
		if ev.Changed() {
			t.changed[ev.Host()]++
		} else {
			t.ok[ev.Host()]++
		}
	case events.RunnerOnFailed, events.RunnerOnUnreachable:
		if ev.IgnoreErrors() {
			if t.counting {
				t.ok[ev.Host()]++
			}
			break
		}
		unreachable := ev.Event == events.RunnerOnUnreachable
		if unreachable {
			t.unreachable[ev.Host()]++
		} else {
			t.failed[ev.Host()]++
		}
		task := ev.Task()
		if task == "" {
			task = ev.TaskAction()
		}
		t.failures = append(t.failures, failedTask{host: ev.Host(), task: task, msg: events.ShortResultMessage(ev.Res(), maxMsg), unreachable: unreachable})
	default:
		return false
	}
	return true
}

// counts is the progress line's "ok=N changed=N failed=N unreachable=N":
// host results so far.
func (t *tally) counts() string {
	sum := func(m map[string]int) (n int) {
		for _, v := range m {
			n += v
		}
		return n
	}
	return fmt.Sprintf("ok=%d changed=%d failed=%d unreachable=%d", sum(t.ok), sum(t.changed), sum(t.failed), sum(t.unreachable))
}

// maxMsg is how much of a failure's message the summary prints, in bytes.
const maxMsg = 300

// writeSummary prints the end of a run on w: ident, artifact dir, status,
// rc and elapsed time, the per-host recap (ansible's PLAY RECAP counters,
// from playbook_on_stats, else the results counted in t), and each failed
// task with its message, secrets the run knew of redacted.
func writeSummary(w io.Writer, res *runner.Result, t *tally, elapsed time.Duration) {
	var b strings.Builder
	fmt.Fprintf(&b, "arunner: run %s %s, rc %d, in %s\n", res.Ident, res.Status, res.RC, elapsed.Round(10*time.Millisecond))
	fmt.Fprintf(&b, "  artifacts: %s\n", res.ArtifactDir)
	st := res.Stats()
	hosts := slices.Sorted(maps.Keys(st.Processed))
	if len(hosts) == 0 && t != nil && t.counting {
		seen := map[string]bool{}
		for _, m := range []map[string]int{t.ok, t.changed, t.failed, t.unreachable} {
			for h := range m {
				seen[h] = true
			}
		}
		hosts = slices.Sorted(maps.Keys(seen))
		st = &events.Stats{OK: t.ok, Changed: t.changed, Failures: t.failed, Dark: t.unreachable}
	}
	width := 0
	for _, h := range hosts {
		width = max(width, len(h))
	}
	for _, h := range hosts {
		ok := st.OK[h]
		if len(st.Processed) == 0 {
			ok += st.Changed[h] // the recap counts a changed result as ok too
		}
		fmt.Fprintf(&b, "  %-*s : ok=%d changed=%d unreachable=%d failed=%d skipped=%d rescued=%d ignored=%d\n",
			width, h, ok, st.Changed[h], st.Dark[h], st.Failures[h], st.Skipped[h], st.Rescued[h], st.Ignored[h])
	}
	if t != nil {
		for _, f := range t.failures {
			what := "failed"
			if f.unreachable {
				what = "unreachable"
			}
			fmt.Fprintf(&b, "  %s: %s, task %q: %s\n", what, f.host, f.task, res.Redact(f.msg))
		}
	}
	io.WriteString(w, b.String())
}

// readBack is the tally of a finished run the summary needs, read from
// its job_events after the run rather than by a hook on every event: the
// failures, when the recap or the exit says there were some, and for an
// ad hoc command (no recap) every result; nil when it needs nothing.
func readBack(res *runner.Result, adHoc bool) *tally {
	st := res.Stats()
	failed := len(st.Processed) == 0 && adHoc
	for _, m := range []map[string]int{st.Failures, st.Dark} {
		for _, n := range m {
			failed = failed || n > 0
		}
	}
	var exitErr *runner.ExitError
	if errors.As(res.Err, &exitErr) {
		failed = failed || len(exitErr.Failed) > 0 || len(exitErr.Unreachable) > 0
	}
	if !failed {
		return nil
	}
	t := newTally(adHoc && len(st.Processed) == 0)
	for ev, err := range res.Events() {
		if err == nil {
			t.see(ev)
		}
	}
	return t
}

// elapsedOf is how long the run took: the longer of its Result's wall time
// and the span of its events, from the first to the last. A live run takes
// at least as long as its events; one read back from artifacts has no wall
// time, and a saved stream (arunner process < stream) is read in no time.
func elapsedOf(res *runner.Result, t *tally) time.Duration {
	var d time.Duration
	if !res.Started.IsZero() && !res.Ended.IsZero() {
		d = res.Ended.Sub(res.Started)
	}
	if t == nil {
		return d
	}
	const created = "2006-01-02T15:04:05.999999"
	a, err1 := time.Parse(created, t.first)
	b, err2 := time.Parse(created, t.last)
	if err1 == nil && err2 == nil && b.Sub(a) > d {
		d = b.Sub(a)
	}
	return d
}

// spanTally is a tally of only the created times of a run's first and last
// events, read from their two job_events files, for elapsedOf when nothing
// else read the events: `arunner process` of a saved stream reads it in no
// time, but its run took what its events say. Nil when either is missing.
func spanTally(res *runner.Result) *tally {
	created := func(counter int) string {
		names, _ := filepath.Glob(filepath.Join(res.ArtifactDir, "job_events", fmt.Sprintf("%d-*.json", counter)))
		if len(names) != 1 {
			return ""
		}
		b, err := os.ReadFile(names[0])
		if err != nil {
			return ""
		}
		var ev struct{ Created string }
		if json.Unmarshal(b, &ev) != nil {
			return ""
		}
		return ev.Created
	}
	t := newTally(false)
	t.first, t.last = created(1), created(res.FinalCounter)
	if t.first == "" || t.last == "" {
		return nil
	}
	return t
}
