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
// each event's JSON goes to that descriptor as "<seq> <json>\n" before a
// small marker token naming seq takes the place of the full token. The
// conversion is done once; only the seq numbers are rendered per copy.
package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/arunner/arunner/events"
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
	if strings.HasPrefix(os.Getenv(events.SideBandEnv), strconv.Itoa(events.SideBandFD)+":") {
		return replaySideBand(stream, per, want)
	}
	for sent := 0; sent < want; sent += per {
		if _, err := os.Stdout.Write(stream); err != nil {
			return err
		}
	}
	return nil
}

var token = regexp.MustCompile(`\x1b\[K((?:[A-Za-z0-9+/=]+\x1b\[[0-9]+D)+)\x1b\[K`)
var slice = regexp.MustCompile(`\x1b\[[0-9]+D`)

// replaySideBand splits the stream once into the text between begin tokens
// and the JSON those tokens carried, then writes copies: each copy's records
// first (so that every record precedes its marker), then its text with
// markers.
func replaySideBand(stream []byte, per, want int) error {
	var texts [][]byte // texts[i] precedes the i-th begin token; the last ends the stream
	var jsons [][]byte
	last := 0
	for _, m := range token.FindAllSubmatchIndex(stream, -1) {
		payload, err := base64.StdEncoding.DecodeString(string(slice.ReplaceAll(stream[m[2]:m[3]], nil)))
		if err != nil {
			return fmt.Errorf("token at %d: %w", m[0], err)
		}
		if !bytes.Contains(payload, []byte(`"uuid"`)) {
			continue // an end token stays as it is
		}
		texts = append(texts, stream[last:m[0]])
		jsons = append(jsons, payload)
		last = m[1]
	}
	texts = append(texts, stream[last:])
	side := os.NewFile(uintptr(events.SideBandFD), "side band")
	var recs, out []byte
	seq := 0
	for sent := 0; sent < want; sent += per {
		recs, out = recs[:0], out[:0]
		for i, js := range jsons {
			seq++
			recs = strconv.AppendInt(recs, int64(seq), 10)
			recs = append(recs, ' ')
			recs = append(recs, js...)
			recs = append(recs, '\n')
			out = append(out, texts[i]...)
			out = appendMarker(out, seq)
		}
		out = append(out, texts[len(texts)-1]...)
		if _, err := side.Write(recs); err != nil {
			return err
		}
		if _, err := os.Stdout.Write(out); err != nil {
			return err
		}
	}
	return nil
}

// appendMarker appends the plugin's side-band begin token for seq.
func appendMarker(b []byte, seq int) []byte {
	b64 := base64.StdEncoding.EncodeToString([]byte(`{"arunner_seq": ` + strconv.Itoa(seq) + `}`))
	b = append(b, "\x1b[K"...)
	b = append(b, b64...)
	b = append(b, "\x1b["...)
	b = strconv.AppendInt(b, int64(len(b64)), 10)
	b = append(b, "D\x1b[K"...)
	return b
}
