package eventproto

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/arunner/arunner/events"
)

// tokenRE is ansible-runner's OutputEventFilter pattern, the reference the
// Filter's hand-written scanner must agree with.
var tokenRE = regexp.MustCompile(`\x1b\[K((?:[A-Za-z0-9+/=]+\x1b\[\d+D)+)\x1b\[K`)

func FuzzFilter(f *testing.F) {
	f.Add([]byte(wrap(`{"event": "runner_on_ok", "uuid": "u"}`, "ok\r\n")+"tail"), uint16(7))
	f.Add([]byte("a\r\nb\rc\n\x1b[Kxx\x1b[2D"), uint16(3))
	f.Add([]byte(frame("garbage")+"\xe2\x82\r\n"+endToken), uint16(0))
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		var evs []*events.Event
		var text strings.Builder
		fl := NewFilter(FilterConfig{
			Handle: func(e *events.Event) error { evs = append(evs, e); return nil },
			Text:   &text,
		})
		c := int(cut) % (len(in) + 1)
		for _, p := range [][]byte{in[:c], in[c:]} {
			if _, err := fl.Write(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := fl.Close(); err != nil {
			t.Fatal(err)
		}
		if fl.Counter() != len(evs) {
			t.Fatalf("Counter() = %d, %d events", fl.Counter(), len(evs))
		}
		line := 0
		var got strings.Builder
		for i, e := range evs {
			if e.Counter != i+1 {
				t.Fatalf("event %d has counter %d", i, e.Counter)
			}
			if e.StartLine != line || e.EndLine < e.StartLine {
				t.Fatalf("event %d lines %d-%d, want start %d", i, e.StartLine, e.EndLine, line)
			}
			line = e.EndLine
			got.WriteString(e.Stdout)
			if b, _ := e.MarshalJSON(); !json.Valid(b) {
				t.Fatalf("event %d: MarshalJSON wrote invalid JSON: %q", i, b)
			}
		}
		// Tokens hold no newline, so every newline of the input is counted.
		if want := bytes.Count(in, []byte{'\n'}); line != want {
			t.Fatalf("end_line %d, input has %d newlines", line, want)
		}
		// No text is lost: the stdouts hold all text outside the tokens,
		// but for the line endings that end each event.
		var want strings.Builder
		for _, seg := range tokenRE.Split(string(in), -1) {
			want.WriteString(toValidUTF8([]byte(seg)))
		}
		strip := strings.NewReplacer("\r", "", "\n", "")
		if g, w := strip.Replace(got.String()), strip.Replace(want.String()); g != w {
			t.Fatalf("text lost:\n got %q\nwant %q", g, w)
		}
	})
}
