// Command replay is a fake ansible-playbook for benchmarks: it ignores its
// arguments and writes a recorded pty stream (bench/record) to stdout again
// and again until at least REPLAY_EVENTS events have gone out, so that the
// runner's decoder, handler and job_events path are measured without
// ansible's own cost.
//
//	REPLAY_STREAM=bench/testdata/loop200.pty REPLAY_EVENTS=100000 replay
//
// The recording holds in-band tokens. When the runner passes the events side
// band (ARUNNER_EVENT_FD), replay does what the callback plugin does then:
// each event's JSON, with its text, goes to that descriptor as
// "<seq> <json>\n" before a small marker token naming seq takes the place of
// the event's tokens and text on the terminal. The conversion is done once;
// only the seq numbers are rendered per copy.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/internal/osdep"
)

// endToken closes every event in the plugin's framing: ESC[K, base64 of
// "{}", ESC[4D, ESC[K. Counting it counts events.
var endToken = []byte("\x1b[Ke30=\x1b[4D\x1b[K")

func main() {
	if err := replay(); err != nil {
		fmt.Fprintln(os.Stderr, "replay:", err)
		os.Exit(1)
	}
}

func replay() error {
	stream, err := os.ReadFile(os.Getenv("REPLAY_STREAM"))
	if err != nil {
		return err
	}
	want, err := strconv.Atoi(os.Getenv("REPLAY_EVENTS"))
	if err != nil {
		return fmt.Errorf("REPLAY_EVENTS: %w", err)
	}
	per := bytes.Count(stream, endToken)
	if per == 0 {
		return fmt.Errorf("%s holds no event", os.Getenv("REPLAY_STREAM"))
	}
	key := os.Getenv(eventproto.KeyEnv)
	if strings.HasPrefix(os.Getenv(eventproto.SideBandEnv), strconv.Itoa(eventproto.SideBandFD)+":") {
		return replaySideBand(stream, key, per, want)
	}
	stream = rekey(stream, key)
	for sent := 0; sent < want; sent += per {
		if _, err := os.Stdout.Write(stream); err != nil {
			return err
		}
	}
	return nil
}

var token = regexp.MustCompile(`\x1b\[K((?:[A-Za-z0-9+/=]+\x1b\[[0-9]+D)+)\x1b\[K`)
var slice = regexp.MustCompile(`\x1b\[[0-9]+D`)

// rekey puts the run's key in front of every token's base64, as the plugin
// does (the recording has none).
func rekey(stream []byte, key string) []byte {
	if key == "" {
		return stream
	}
	return token.ReplaceAllFunc(stream, func(tok []byte) []byte {
		return appendFrame(nil, key+string(slice.ReplaceAll(tok[3:len(tok)-3], nil)))
	})
}

// appendFrame appends base64 text b64 framed as a token: ESC[K, slices of
// at most 78 characters each followed by ESC[<n>D, ESC[K.
func appendFrame(b []byte, b64 string) []byte {
	b = append(b, "\x1b[K"...)
	for len(b64) > 0 {
		n := min(78, len(b64))
		b = append(b, b64[:n]...)
		b = append(b, "\x1b["...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, 'D')
		b64 = b64[n:]
	}
	return append(b, "\x1b[K"...)
}

// replaySideBand splits the stream once into events (the text before each
// begin token, its JSON, and the text up to its end token) and writes
// copies the way the plugin does with the side band. Each event's record
// goes to the side band. On a terminal the record includes the text as
// "stdout", and the terminal gets only the text outside events and a marker
// per event. (The text is the recorded one, "\r\n" and all: replay is a
// program that writes those bytes, and the runner's pty turns their "\n"
// into "\r\n" again either way.) Through a pipe the record goes without
// the text, which follows its marker up to an end token. A copy's records
// go first, so that every record precedes its marker.
func replaySideBand(stream []byte, key string, per, want int) error {
	type event struct{ pre, json, withText, text []byte }
	var evs []event
	var cur *event
	last := 0
	for _, m := range token.FindAllSubmatchIndex(stream, -1) {
		payload, err := base64.StdEncoding.DecodeString(string(slice.ReplaceAll(stream[m[2]:m[3]], nil)))
		if err != nil {
			return fmt.Errorf("token at %d: %w", m[0], err)
		}
		switch {
		case bytes.Contains(payload, []byte(`"uuid"`)):
			evs = append(evs, event{pre: stream[last:m[0]], json: payload})
			cur = &evs[len(evs)-1]
		case cur != nil: // its end token
			cur.text = stream[last:m[0]]
			text, err := json.Marshal(string(cur.text))
			if err != nil {
				return err
			}
			cur.withText = append(append(bytes.Clone(bytes.TrimSuffix(cur.json, []byte("}"))), `, "stdout": `...), text...)
			cur.withText = append(cur.withText, '}')
			cur = nil
		default:
			continue // not the plugin's: stays text
		}
		last = m[1]
	}
	if cur != nil {
		return fmt.Errorf("%s: the last event has no end token", os.Getenv("REPLAY_STREAM"))
	}
	tail := stream[last:]
	end := appendFrame(nil, key+"e30=") // the end token, "{}"
	onTerminal := osdep.IsTerminal(1)
	side := os.NewFile(uintptr(eventproto.SideBandFD), "side band")
	var recs, out []byte
	seq := 0
	for sent := 0; sent < want; sent += per {
		recs, out = recs[:0], out[:0]
		for _, ev := range evs {
			seq++
			recs = strconv.AppendInt(recs, int64(seq), 10)
			recs = append(recs, ' ')
			out = append(out, ev.pre...)
			if onTerminal {
				recs = append(recs, ev.withText...)
				out = appendMarker(out, key, `{"arunner_rec": `, seq)
			} else {
				recs = append(recs, ev.json...)
				out = appendMarker(out, key, `{"arunner_seq": `, seq)
				out = append(append(out, ev.text...), end...)
			}
			recs = append(recs, '\n')
		}
		out = append(out, tail...)
		if _, err := side.Write(recs); err != nil {
			return err
		}
		if _, err := os.Stdout.Write(out); err != nil {
			return err
		}
	}
	return nil
}

// appendMarker appends the plugin's side-band marker for record seq, with
// the run's key: kind is `{"arunner_rec": ` when the record holds the
// event's text, else `{"arunner_seq": `.
func appendMarker(b []byte, key, kind string, seq int) []byte {
	b64 := base64.StdEncoding.EncodeToString([]byte(kind + strconv.Itoa(seq) + `}`))
	b = append(b, "\x1b[K"...)
	b = append(b, key...)
	b = append(b, b64...)
	b = append(b, "\x1b["...)
	b = strconv.AppendInt(b, int64(len(key)+len(b64)), 10)
	b = append(b, "D\x1b[K"...)
	return b
}
