package events

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzUnquote holds the hand-written string decoding to encoding/json's:
// for every string token the scanner accepts, both give the same value, and
// for every token encoding/json accepts, the scanner accepts it too.
func FuzzUnquote(f *testing.F) {
	for _, s := range unquoteCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		tok := append(append([]byte{'"'}, in...), '"')
		var want string
		werr := json.Unmarshal(tok, &want)
		end, err := skipString(tok, 0)
		if err == nil && end != len(tok) {
			return // a quote inside: the token ended early, as it should
		}
		if (err == nil) != (werr == nil) {
			t.Fatalf("%q: skipString error %v, encoding/json error %v", tok, err, werr)
		}
		if err != nil {
			return
		}
		if got := unquote(tok); got != want {
			t.Fatalf("%q: unquote = %q, encoding/json %q", tok, got, want)
		}
	})
}

// FuzzMarshalJSON holds MarshalJSON to one buffer, sized once, and to JSON
// that reads back as the event, for any text a Filter may put in stdout.
func FuzzMarshalJSON(f *testing.F) {
	f.Add("ok: [h]\r\n\x1b[0;32m\"x\"\x1b[0m", Verbose, 0)
	f.Add("\u2028<&>\x00\x7f", RunnerOnOK, 7)
	f.Fuzz(func(t *testing.T, stdout, name string, pid int) {
		e := &Event{UUID: "u", Counter: 1, Stdout: strings.ToValidUTF8(stdout, "\uFFFD"), Event: name, PID: pid}
		b, _ := e.MarshalJSON()
		if cap(b) != e.jsonSize() || !json.Valid(b) {
			t.Fatalf("MarshalJSON grew its buffer or wrote invalid JSON: %q", b)
		}
		var back Event
		if err := back.UnmarshalJSON(b); err != nil || back.Stdout != e.Stdout || back.Event != e.Event || back.PID != e.PID {
			t.Fatalf("round trip of %q: %+v, %v", b, back, err)
		}
	})
}
