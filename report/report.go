package report

import (
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arunner/arunner/runner"
)

// maxStdout is how much of the stdout artifact the page shows, in bytes:
// its end, where the failures and the recap are.
const maxStdout = 1 << 20

//go:embed report.html.tmpl
var pageText string

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"dur":    formatDuration,
	"ansi":   ansiHTML,
	"pct":    func(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) },
	"plural": plural,
}).Parse(pageText))

// Write writes the report of a finished run as one HTML page, read from
// the run's artifacts dir (res.ArtifactDir): its job_events, stdout, status
// and rc. An event file that cannot be read or decoded is an error naming
// it.
func Write(w io.Writer, res *runner.Result) error {
	if res == nil || res.ArtifactDir == "" {
		return errors.New("report: the result has no artifacts dir")
	}
	m := newModel()
	for ev, err := range res.Events() {
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		m.add(ev)
	}
	m.finish()
	p := newPage(res, m)
	p.Stdout, p.StdoutCut, p.StdoutErr = readStdout(res.StdoutPath())
	return pageTmpl.Execute(w, p)
}

// WriteDir writes the report of the finished run whose artifacts dir,
// <private data dir>/artifacts/<ident>, is artifactDir; arunner's and
// ansible-runner 2.x's are read alike (see runner.LoadResult).
func WriteDir(w io.Writer, artifactDir string) error {
	res, err := runner.LoadResult(artifactDir)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return Write(w, res)
}

// page is what the template shows.
type page struct {
	Ident, Status string
	RC            int
	Started       string
	Elapsed       time.Duration
	Legend        []legendEntry
	Lanes         []laneView
	Ticks         []tick
	HiddenHosts   int
	Tasks         []*taskSpan
	ShowPlay      bool // the run has plays of more than one name
	Failures      []failure
	MoreFailures  int
	Recap         []recapRow
	Stdout        template.HTML
	StdoutCut     int64
	StdoutErr     string
	Limits        limits
	ANSIStyle     template.CSS
}

type limits struct{ Lanes, BarsPerLane, Failures, Stdout int }

type legendEntry struct {
	Outcome string
	Count   int
}

type laneView struct {
	Host string
	Bars []barView
}

type barView struct {
	*bar
	Left, Width float64 // percent of the timeline
	Title       string
	Labeled     bool // wide enough to show a few letters of its task
}

// minLabelWidth is the width of a bar, in percent of the timeline, under
// which it shows no text, only its tooltip.
const minLabelWidth = 3.5

type tick struct {
	Left  float64
	Label string
}

type recapRow struct {
	Host                                                        string
	OK, Changed, Unreachable, Failed, Skipped, Rescued, Ignored int
}

func newPage(res *runner.Result, m *model) *page {
	p := &page{
		Ident: res.Ident, Status: string(res.Status), RC: res.RC,
		Elapsed:      m.End.Sub(m.Start),
		HiddenHosts:  m.HostsSeen - len(m.Lanes),
		Tasks:        m.Tasks,
		ShowPlay:     len(m.Plays) > 1,
		Failures:     m.Failures,
		MoreFailures: m.FailuresN - len(m.Failures),
		Limits:       limits{maxLanes, maxBarsPerLane, maxFailures, maxStdout},
		ANSIStyle:    ansiCSS(),
	}
	if !m.Start.IsZero() {
		p.Started = m.Start.Format("2006-01-02 15:04:05 UTC")
	}
	for _, o := range outcomes {
		if o != outcomeRunning || m.Counts[o] > 0 {
			p.Legend = append(p.Legend, legendEntry{o, m.Counts[o]})
		}
	}
	span := max(p.Elapsed, time.Millisecond)
	at := func(t time.Time) float64 { return 100 * float64(t.Sub(m.Start)) / float64(span) }
	for _, l := range m.Lanes {
		lv := laneView{Host: l.Host}
		for _, b := range l.Bars {
			left := at(b.Start)
			width := max(at(b.End)-left, 0)
			lv.Bars = append(lv.Bars, barView{bar: b, Left: left, Width: width, Title: barTitle(b), Labeled: width >= minLabelWidth})
		}
		p.Lanes = append(p.Lanes, lv)
	}
	step := tickStep(span)
	for d := time.Duration(0); d <= span; d += step {
		p.Ticks = append(p.Ticks, tick{Left: 100 * float64(d) / float64(span), Label: formatDuration(d)})
	}
	if s := m.Stats; s != nil {
		hosts := map[string]bool{}
		for _, c := range []map[string]int{s.Processed, s.OK, s.Changed, s.Dark, s.Failures, s.Skipped, s.Rescued, s.Ignored} {
			for h := range c {
				hosts[h] = true
			}
		}
		for _, h := range slices.Sorted(maps.Keys(hosts)) {
			p.Recap = append(p.Recap, recapRow{h, s.OK[h], s.Changed[h], s.Dark[h], s.Failures[h], s.Skipped[h], s.Rescued[h], s.Ignored[h]})
		}
	}
	return p
}

// barTitle is a bar's tooltip.
func barTitle(b *bar) string {
	var t strings.Builder
	if b.Merged > 0 {
		fmt.Fprintf(&t, "%d tasks from %s\n", b.Merged, b.Task)
	} else {
		fmt.Fprintf(&t, "%s\n", b.Task)
	}
	fmt.Fprintf(&t, "%s: %s, %s", b.Host, b.Outcome, formatDuration(b.Duration))
	if len(b.Items) > 0 {
		var parts []string
		for _, o := range outcomes {
			if n := b.Items[o]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, o))
			}
		}
		fmt.Fprintf(&t, "\nitems: %s", strings.Join(parts, ", "))
	}
	if b.Play != "" {
		fmt.Fprintf(&t, "\nplay: %s", b.Play)
	}
	return t.String()
}

// tickStep is the time between the timeline's ticks: a round step giving
// at most 10 of them.
func tickStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute} {
		if span/s <= 10 {
			return s
		}
	}
	return (span/10 + time.Hour - 1).Truncate(time.Hour)
}

// formatDuration writes d for people: 0.35 s, 12.4 s, 3m05s, 2h01m.
func formatDuration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// readStdout reads the end of the stdout artifact, as HTML, with how many
// bytes of its start were left out; a file that cannot be read gives the
// reason instead.
func readStdout(path string) (template.HTML, int64, string) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err.Error()
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", 0, err.Error()
	}
	var cut int64
	if st.Size() > maxStdout {
		cut = st.Size() - maxStdout
	}
	buf := make([]byte, st.Size()-cut)
	if _, err := f.ReadAt(buf, cut); err != nil && err != io.EOF {
		return "", 0, err.Error()
	}
	if cut > 0 { // start on a whole line
		if i := strings.IndexByte(string(buf), '\n'); i >= 0 {
			cut += int64(i + 1)
			buf = buf[i+1:]
		}
	}
	return ansiHTML(strings.ToValidUTF8(string(buf), "\uFFFD")), cut, ""
}

// ansiCSS gives the f and b classes of ansiHTML their colours.
func ansiCSS() template.CSS {
	var b strings.Builder
	for i, c := range basic16 {
		code := 30 + i
		if i >= 8 {
			code = 90 + i - 8
		}
		fmt.Fprintf(&b, ".f%d{color:#%02x%02x%02x}.b%d{background:#%02x%02x%02x}", code, c[0], c[1], c[2], code+10, c[0], c[1], c[2])
	}
	return template.CSS(b.String())
}
