package runnertest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/osdep"
	"github.com/arunner/arunner/privdata"
)

// Load turns a finished run's artifacts (artifacts/<ident>: job_events/,
// stdout and rc, as arunner or ansible-runner 2.x writes them) into a
// Script that replays the run: the same events, with the same uuids,
// parents, created times and event_data, and the same stdout, byte for
// byte, then the same rc. Lines that were no event's text (the runner
// made them verbose events) are replayed as text; their events get new
// uuids and created times, as they did when recorded.
//
// Record a real run once (arunner run, or ansible-runner run, against a
// private data dir), keep artifacts/<ident> under testdata/, and replay it
// in unit tests with New(t, script...).
func Load(artifactDir string) (Script, error) {
	stdout, err := os.ReadFile(filepath.Join(artifactDir, "stdout"))
	if err != nil {
		return nil, fmt.Errorf("runnertest: recording: %w", err)
	}
	rcText, err := os.ReadFile(filepath.Join(artifactDir, "rc"))
	if err != nil {
		return nil, fmt.Errorf("runnertest: recording: %w", err)
	}
	rc, err := strconv.Atoi(strings.TrimSpace(string(rcText)))
	if err != nil {
		return nil, fmt.Errorf("runnertest: recording: %s: %w", filepath.Join(artifactDir, "rc"), err)
	}
	var s Script
	rest := stdout // the stdout artifact not yet matched to an event
	dir := filepath.Join(artifactDir, "job_events")
	for data, err := range privdata.ReadEvents(dir) {
		if err != nil {
			return nil, fmt.Errorf("runnertest: recording: %w", err)
		}
		var ev events.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return nil, fmt.Errorf("runnertest: recording: %s: event: %w", dir, err)
		}
		step, n, err := replayStep(data, &ev, rest)
		if err != nil {
			return nil, fmt.Errorf("runnertest: recording: %s: event %d: %w", dir, ev.Counter, err)
		}
		s = append(s, step)
		rest = rest[n:]
	}
	if len(rest) > 0 {
		s = append(s, Step{stepWire{Kind: "raw", Text: string(rest)}})
	}
	return append(s, Exit(rc)), nil
}

// Save copies what Load reads of a finished run (artifacts/<ident>'s
// job_events/, stdout, rc and status) to dir, for a test to replay: run the
// real thing once (say under a -record flag of the test) and Save its
// Result.ArtifactDir under testdata/. The command and env artifacts stay
// behind; what ansible printed and put in events goes, so read a recording
// for secrets before committing it.
func Save(artifactDir, dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "job_events"), 0o755); err != nil {
		return fmt.Errorf("runnertest: %w", err)
	}
	copyFile := func(name string) error {
		data, err := os.ReadFile(filepath.Join(artifactDir, name))
		if err != nil {
			return fmt.Errorf("runnertest: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("runnertest: %w", err)
		}
		return nil
	}
	ents, err := os.ReadDir(filepath.Join(artifactDir, "job_events"))
	if err != nil {
		return fmt.Errorf("runnertest: %w", err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".json") && !strings.HasSuffix(e.Name(), "-partial.json") {
			if err := copyFile(filepath.Join("job_events", e.Name())); err != nil {
				return err
			}
		}
	}
	for _, name := range []string{"stdout", "rc", "status"} {
		if err := copyFile(name); err != nil {
			return err
		}
	}
	return nil
}

// runnerKeys are the keys the runner adds to what the plugin sends.
var runnerKeys = map[string]bool{"counter": true, "stdout": true, "start_line": true, "end_line": true, "runner_ident": true}

// replayStep returns the step that makes the runner deliver ev again and
// how many bytes of the stdout artifact (rest) ev's text took.
func replayStep(data []byte, ev *events.Event, rest []byte) (Step, int, error) {
	if ev.Event == "verbose" && ev.PID == 0 {
		// A line outside any event: the runner wrote it to stdout as it came.
		n := len(ev.Stdout)
		if !bytes.HasPrefix(rest, []byte(ev.Stdout)) {
			return Step{}, 0, errors.New("its text is not next in the stdout artifact")
		}
		switch {
		case bytes.HasPrefix(rest[n:], []byte("\r\n")):
			n += 2
		case bytes.HasPrefix(rest[n:], []byte("\n")), bytes.HasPrefix(rest[n:], []byte("\r")):
			n++
		}
		return Step{stepWire{Kind: "raw", Text: string(rest[:n])}}, n, nil
	}
	n := 0
	if ev.Stdout != "" {
		n = len(ev.Stdout) + 1
		if !bytes.HasPrefix(rest, []byte(ev.Stdout+"\n")) {
			return Step{}, 0, errors.New("its text is not next in the stdout artifact")
		}
	}
	// The text had as many newlines as the event's lines; the runner
	// trimmed the trailing ones from stdout.
	text := ev.Stdout + strings.Repeat("\n", max(0, ev.EndLine-ev.StartLine-strings.Count(ev.Stdout, "\n")))
	payload, err := pluginPayload(data)
	if err != nil {
		return Step{}, 0, err
	}
	return Step{stepWire{Kind: "event", Event: payload, Text: text}}, n, nil
}

// pluginPayload returns the event JSON data without the runner's keys: what
// the plugin sent, its keys in their order and their values byte for byte.
func pluginPayload(data []byte) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	out := []byte{'{'}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if runnerKeys[key] {
			continue
		}
		if len(out) > 1 {
			out = append(out, ", "...)
		}
		k, _ := json.Marshal(key)
		out = append(append(append(out, k...), ": "...), v...)
	}
	return append(out, '}'), nil
}

// replay writes a recorded event with its text.
func (p *player) replay(payload json.RawMessage, text string) error {
	p.rawTerminal()
	return p.w.Event(payload, text)
}

// rawText writes recorded text outside any event.
func (p *player) rawText(text string) {
	p.rawTerminal()
	p.w.Text(text)
}

// rawTerminal turns the terminal's output processing off, once, so that
// recorded text (whose "\n" the recording terminal already turned into
// "\r\n") reaches the runner as recorded.
func (p *player) rawTerminal() {
	if p.raw {
		return
	}
	p.raw = true
	t, err := osdep.GetTermios(1)
	if err != nil {
		return // not a terminal: bytes pass as they are
	}
	t.Oflag &^= unix.OPOST
	osdep.SetTermios(1, t)
}
