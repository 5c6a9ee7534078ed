package eventproto

import (
	"bytes"
	"strings"
	"testing"

	"github.com/arunner/arunner/events"
)

// What the Writer writes is what the plugin writes: the Filter gives back
// its events, with their text, and the text between them.
func TestWriterRoundTrip(t *testing.T) {
	const key = "AAAAAAAAAAAAAAAA"
	var out bytes.Buffer
	w := NewInBandWriter(&out, key)
	long := strings.Repeat("x", 200) // several slices
	w.Event([]byte(`{"event": "runner_on_ok", "uuid": "u1", "event_data": {"host": "h", "res": {"msg": "`+long+`"}}}`), "ok: [h]\n")
	w.Text("outside\n")
	w.Event([]byte(`{"event": "playbook_on_stats", "uuid": "u2", "event_data": {}}`), "\nPLAY RECAP ***\n\n")

	if got, want := w.Token([]byte(`{"a": "`+long+`"}`)), keyedFrame(key, `{"a": "`+long+`"}`); got != want {
		t.Errorf("token %q, want the plugin's %q", got, want)
	}
	var evs []events.Event
	var text strings.Builder
	f := NewFilter(FilterConfig{Key: key, Text: &text, Handle: func(e *events.Event) error { evs = append(evs, *e); return nil },
		OnError: func(err error) { t.Errorf("frame error: %v", err) }})
	f.Write(out.Bytes())
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		got = append(got, e.Event+" "+e.UUID+" "+e.Stdout)
	}
	want := []string{"runner_on_ok u1 ok: [h]", "verbose " + evs[1].UUID + " outside", "playbook_on_stats u2 \nPLAY RECAP ***"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("events %q, want %q", got, want)
	}
	if !strings.Contains(string(evs[0].EventData), long) {
		t.Errorf("event_data %s", evs[0].EventData)
	}
	if text.String() != "ok: [h]\noutside\n\nPLAY RECAP ***\n" {
		t.Errorf("text %q", text.String())
	}
}
