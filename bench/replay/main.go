// Command replay is a fake ansible-playbook for benchmarks: it ignores its
// arguments and writes a recorded pty stream (bench/record) to stdout again
// and again until at least REPLAY_EVENTS events have gone out, so that the
// runner's decoder, handler and job_events path are measured without
// ansible's own cost.
//
//	REPLAY_STREAM=bench/testdata/loop200.pty REPLAY_EVENTS=100000 replay
package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
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
	for sent := 0; sent < want; sent += per {
		if _, err := os.Stdout.Write(stream); err != nil {
			return err
		}
	}
	return nil
}
