package eventproto

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
)

// marker is the plugin's side-band begin token for seq.
func marker(seq int) string { return frame(fmt.Sprintf(`{"arunner_seq": %d}`, seq)) }

// wholeMarker is the plugin's marker for a record that holds the text.
func wholeMarker(seq int) string { return frame(fmt.Sprintf(`{"arunner_rec": %d}`, seq)) }

// sideStream is one run written three ways: in-band tokens; side-band
// records with markers, the text on the terminal; and most records holding
// their event's text as the plugin writes it, before the terminal turns
// "\n" into "\r\n" (the rest keep the text on the terminal, as when other
// output came in the middle of an event).
type sideStream struct {
	inBand, terminal, records   string
	wholeTerminal, wholeRecords string
}

func newSideStream(n int) sideStream {
	var in, term, recs, wterm, wrecs strings.Builder
	in.WriteString("No config file found\r\n")
	term.WriteString("No config file found\r\n")
	wterm.WriteString("No config file found\r\n")
	for i := 1; i <= n; i++ {
		js := fmt.Sprintf(`{"event": "runner_item_on_ok", "pid": 7, "uuid": "u%d", "created": "2026-01-01T00:00:00.000001", "event_data": {"host": "h%d", "res": {"msg": "caf\u00e9 %d"}}}`, i, i%3, i)
		text := fmt.Sprintf("ok: [h%d] => (item=%d)\r\n", i%3, i)
		if i%5 == 0 {
			text = "" // an event with no text: its token goes out with the end token
		}
		in.WriteString(wrap(js, text))
		term.WriteString(marker(i) + text + endToken)
		fmt.Fprintf(&recs, "%d %s\n", i, js)
		if i%3 == 0 {
			wterm.WriteString(marker(i) + text + endToken)
			fmt.Fprintf(&wrecs, "%d %s\n", i, js)
		} else {
			raw, err := json.Marshal(strings.ReplaceAll(text, "\r\n", "\n"))
			if err != nil {
				panic(err)
			}
			wterm.WriteString(wholeMarker(i))
			fmt.Fprintf(&wrecs, "%d %s, \"stdout\": %s}\n", i, strings.TrimSuffix(js, "}"), raw)
		}
		if i%7 == 0 {
			in.WriteString("stray ssh warning\r\n")
			term.WriteString("stray ssh warning\r\n")
			wterm.WriteString("stray ssh warning\r\n")
		}
	}
	return sideStream{in.String(), term.String(), recs.String(), wterm.String(), wrecs.String()}
}

// collectSide runs terminal through a Filter whose side band is fed records
// by a writer that starts first, as the plugin writes a record before its
// marker. chunk > 0 cuts both streams into pieces of that size.
func collectSide(t *testing.T, terminal, records string, chunk int) ([]*events.Event, string, []error) {
	t.Helper()
	return collectSideConfig(t, terminal, records, chunk, FilterConfig{RunnerIdent: "r"})
}

func collectSideConfig(t *testing.T, terminal, records string, chunk int, cfg FilterConfig) ([]*events.Event, string, []error) {
	t.Helper()
	pr, pw := io.Pipe()
	sb := NewSideBand(pr, 0)
	go func() {
		for _, p := range pieces(records, chunk) {
			if _, err := pw.Write([]byte(p)); err != nil {
				return
			}
		}
		pw.Close()
	}()
	cfg.SideBand = sb
	evs, text, errs, err := collect(pieces(terminal, chunk), cfg)
	require.NoError(t, err)
	require.NoError(t, sb.Close())
	return evs, text, errs
}

func pieces(s string, chunk int) []string {
	if chunk <= 0 {
		return []string{s}
	}
	var out []string
	for len(s) > 0 {
		n := min(chunk, len(s))
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

// The side band changes how events travel, not what the Filter makes of
// them: the same events, stdout, lines and text as with in-band tokens,
// however both streams are chunked.
func TestSideBandMatchesInBand(t *testing.T) {
	st := newSideStream(60)
	wantEvs, wantText, wantErrs, err := collect([]string{st.inBand}, FilterConfig{RunnerIdent: "r"})
	require.NoError(t, err)
	require.Empty(t, wantErrs)
	require.Len(t, wantEvs, 60+1+8) // the events, the first line, the stray lines
	for _, whole := range []bool{false, true} {
		for _, chunk := range []int{0, 1, 7, 4095} {
			t.Run(fmt.Sprint("text in records ", whole, " chunk ", chunk), func(t *testing.T) {
				terminal, records := st.terminal, st.records
				if whole {
					terminal, records = st.wholeTerminal, st.wholeRecords
				}
				evs, text, errs := collectSideConfig(t, terminal, records, chunk, FilterConfig{RunnerIdent: "r", TerminalNewlines: true})
				assert.Empty(t, errs)
				assert.Equal(t, summarize(wantEvs), summarize(evs))
				assert.Equal(t, wantText, text)
				for i := range evs {
					if evs[i].Event == "runner_item_on_ok" {
						assert.Equal(t, string(wantEvs[i].EventData), string(evs[i].EventData), "event %d", i)
					}
				}
			})
		}
	}
}

// Through pipes (NoPTY) nothing turns "\n" into "\r\n": a record's text
// is the event's stdout as it is.
func TestSideBandRecordTextWithoutTerminal(t *testing.T) {
	rec := `1 {"event": "runner_on_ok", "uuid": "u1", "event_data": {}, "stdout": "a\nb\r\n\n"}` + "\n"
	for _, tt := range []struct {
		terminalNewlines bool
		stdout, text     string
		lines            int
	}{{false, "a\nb", "a\nb\n", 3}, {true, "a\r\nb", "a\r\nb\n", 3}} {
		evs, text, errs := collectSideConfig(t, "before\n"+wholeMarker(1)+"after\n", rec, 0,
			FilterConfig{RunnerIdent: "r", TerminalNewlines: tt.terminalNewlines})
		assert.Empty(t, errs)
		require.Len(t, evs, 3)
		assert.Equal(t, []string{"verbose", "runner_on_ok", "verbose"}, []string{evs[0].Event, evs[1].Event, evs[2].Event})
		assert.Equal(t, tt.stdout, evs[1].Stdout)
		assert.Equal(t, 1, evs[1].StartLine)
		assert.Equal(t, 1+tt.lines, evs[1].EndLine)
		assert.Equal(t, "before\n"+tt.text+"after\n", text)
	}
}

// A marker that is not the plugin's (printed by a task, say) does not take
// a record, and an undecodable record gives no event: either is one garbage
// frame, its text kept, and the events after it are delivered.
func TestSideBandBadFrames(t *testing.T) {
	ok := func(u string) string { return `{"event": "runner_on_ok", "uuid": "` + u + `", "event_data": {}}` }
	for _, tt := range []struct {
		name, terminal, records, text string
		noRecord                      bool
		want                          []wantEv
	}{{
		name:     "forged marker",
		terminal: marker(5) + "forged\r\n" + endToken + marker(1) + "real\r\n" + endToken,
		records:  "1 " + ok("u1") + "\n",
		noRecord: true,
		want:     []wantEv{{"verbose", "", "forged", 0, 1}, {"runner_on_ok", "u1", "real", 1, 2}},
		text:     "forged\r\nreal\n",
	}, {
		name:     "undecodable record",
		terminal: marker(1) + "one\r\n" + endToken + marker(2) + "two\r\n" + endToken,
		records:  "1 {\"uuid\": \"u1\", \"event_data\": {\n2 " + ok("u2") + "\n",
		want:     []wantEv{{"verbose", "", "one", 0, 1}, {"runner_on_ok", "u2", "two", 1, 2}},
		text:     "one\r\ntwo\n",
	}} {
		t.Run(tt.name, func(t *testing.T) {
			evs, text, errs := collectSide(t, tt.terminal, tt.records, 0)
			require.Len(t, errs, 1)
			assert.ErrorIs(t, errs[0], events.ErrGarbageFrame)
			assert.Equal(t, tt.noRecord, errors.Is(errs[0], ErrNoRecord), "%v", errs[0])
			assert.Equal(t, tt.want, summarize(evs))
			assert.Equal(t, tt.text, text)
		})
	}
}

// Records whose markers never came (a plugin killed between the two
// writes) are skipped; a marker whose record never comes fails instead of
// waiting forever.
func TestSideBandMissingRecords(t *testing.T) {
	js := func(u string) string { return `{"event": "runner_on_ok", "uuid": "` + u + `", "event_data": {}}` }
	records := "1 " + js("u1") + "\n2 " + js("u2") + "\n3 " + js("u3") + "\n"
	terminal := marker(2) + "two\r\n" + endToken + marker(4) + "four\r\n" + endToken
	evs, _, errs := collectSide(t, terminal, records, 0)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrNoRecord)
	assert.Equal(t, []wantEv{{"runner_on_ok", "u2", "two", 0, 1}, {"verbose", "", "four", 1, 2}}, summarize(evs))
}

// A record over the bound is reported as too large; the next is intact.
func TestSideBandOversizedRecord(t *testing.T) {
	big := `{"event": "runner_on_ok", "uuid": "u1", "event_data": {"res": "` + strings.Repeat("x", 200<<10) + `"}}`
	small := `{"event": "runner_on_ok", "uuid": "u2", "event_data": {}}`
	pr, pw := io.Pipe()
	sb := NewSideBand(pr, 100<<10)
	go func() {
		pw.Write([]byte("1 " + big + "\n2 " + small + "\n"))
		pw.Close()
	}()
	_, err := sb.take(1, true)
	assert.ErrorIs(t, err, events.ErrFrameTooLarge)
	got, err := sb.take(2, true)
	require.NoError(t, err)
	assert.Equal(t, "u2", got.UUID)
	require.NoError(t, sb.Close())
}

// Close releases a take waiting for a record that will not come (a process
// outside the run still holding the pipe open).
func TestSideBandCloseReleasesWait(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	sb := NewSideBand(pr, 0)
	done := make(chan error, 1)
	go func() { _, err := sb.take(1, true); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("take returned before Close: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	require.NoError(t, sb.Close())
	select {
	case err := <-done:
		assert.True(t, errors.Is(err, ErrNoRecord), "%v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("take still waiting after Close")
	}
}

// A marker with no side band configured is a garbage frame, not a hang.
func TestMarkerWithoutSideBand(t *testing.T) {
	evs, _, errs, err := collect([]string{marker(1) + "text\r\n" + endToken}, FilterConfig{})
	require.NoError(t, err)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], events.ErrGarbageFrame)
	assert.Equal(t, []wantEv{{"verbose", "", "text", 0, 1}}, summarize(evs))
}

func TestMarkerSeq(t *testing.T) {
	for in, want := range map[string]int{
		`{"arunner_seq": 1}`: 1, `{"arunner_seq": 123456}`: 123456, `{"arunner_rec": 7}`: -7,
		`{"arunner_seq": 0}`: 0, `{"arunner_seq": -1}`: 0, `{"arunner_seq": 1x}`: 0, `{"arunner_rec": 0}`: 0,
		`{"arunner_seq": }`: 0, `{"arunner_seq": 1, "uuid": "u"}`: 0, `{}`: 0, `{"arunner_rec": 1, "x": 2}`: 0,
	} {
		seq, whole, ok := markerSeq([]byte(in))
		assert.Equal(t, want != 0, ok, in)
		if ok {
			assert.Equal(t, max(want, -want), seq, in)
			assert.Equal(t, want < 0, whole, in)
		}
	}
}
