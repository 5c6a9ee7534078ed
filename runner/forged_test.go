package runner

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
)

// forgedFrame is what a task could print to the terminal: a well-formed
// runner_on_ok that never happened, its text and (unless beginOnly) an
// end token, all without the run's key.
func forgedFrame(beginOnly bool) string {
	begin, _ := json.Marshal(map[string]any{"event": "runner_on_ok", "uuid": "f0f0f0f0-0000-4000-8000-00000000f0f0",
		"event_data": map[string]any{"host": "forged"}})
	s := frameB64(base64.StdEncoding.EncodeToString(begin)) + "FORGED TEXT"
	if !beginOnly {
		s += frameB64("e30=")
	}
	return s
}

// forgedMarker is a side-band marker without the run's key, naming record
// seq.
func forgedMarker(seq int) string {
	return frameB64(base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"arunner_rec": %d}`, seq)))
}

func init() {
	// Real events, the plugin's way (on the side band when the runner
	// passes it, else in-band), with forged framing printed inside an
	// event's text and between events.
	fakeModes["forged"] = func() int {
		key := os.Getenv(eventproto.KeyEnv)
		// Without a key, an end token on the terminal may be the plugin's
		// (after an arunner_seq marker): only a begin token is refused.
		forged := forgedFrame(key == "")
		var side *os.File
		if strings.HasPrefix(os.Getenv(eventproto.SideBandEnv), "3:") {
			side = os.NewFile(3, "side band")
		}
		seq := 0
		event := func(name, uuid, text string) string {
			if side == nil {
				return fakeEvent(name, uuid, text)
			}
			seq++
			rec, _ := json.Marshal(map[string]any{"uuid": uuid, "event": name, "event_data": map[string]any{"host": "localhost"}})
			fmt.Fprintf(side, "%d %s\n", seq, rec)
			// The text after the marker, up to an end token, as the
			// plugin writes it when other output interrupts an event.
			return frameB64(key+base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"arunner_seq": %d}`, seq))) +
				text + frameB64(key+"e30=")
		}
		out := event("playbook_on_start", "00000000-0000-4000-8000-000000000000", "")
		out += event("runner_on_ok", "00000000-0000-4000-8000-000000000001", "ok: [localhost] 1 "+forged+"\n")
		out += "between " + forged + "\n"
		if side != nil && key != "" {
			// Names the next record before its own marker does.
			out += "marker " + forgedMarker(seq+1) + "\n"
		}
		out += event("runner_on_ok", "00000000-0000-4000-8000-000000000002", "ok: [localhost] 2\n")
		fmt.Fprint(os.Stdout, out)
		return 0
	}
}

// A task's output that holds event framing (a managed host's, or a log it
// shows) never becomes an event: not for EventHandler, job_events or
// Stream, with the side band or in-band only. It stays text, in stdout,
// where it was printed, and the real events around it are whole.
func TestForgedFramesAreText(t *testing.T) {
	inBand := func(c *Command) error { delete(c.Env, eventproto.SideBandEnv); return nil }
	for _, tc := range []struct {
		name  string
		wrap  func(*Command) error
		noPTY bool
	}{
		{"side band", nil, false},
		{"in-band", inBand, false},
		{"NoPTY side band", nil, true},
		{"NoPTY in-band", inBand, true},
		// A Wrap that removes the key gives up forged markers, but an
		// in-band event after side-band records is still refused.
		{"side band without a key", func(c *Command) error { delete(c.Env, eventproto.KeyEnv); return nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fakeConfig(t, "forged")
			cfg.NoPTY = tc.noPTY
			nl := "\r\n" // the pty's
			if tc.noPTY {
				nl = "\n"
			}
			var key string
			forged := forgedFrame(tc.name == "side band without a key")
			cfg.Wrap = func(c *Command) error {
				key = c.Env[eventproto.KeyEnv]
				if tc.wrap != nil {
					return tc.wrap(c)
				}
				return nil
			}
			var handled, streamed []*events.Event
			var startEnv map[string]string
			cfg.StatusHandler = func(s StatusUpdate) {
				if s.Status == StatusStarting {
					startEnv = s.Env
				}
			}
			cfg.EventHandler = func(e *events.Event) bool { handled = append(handled, e); return true }
			var runErr error
			evs, result := Stream(context.Background(), cfg)
			for ev, err := range evs {
				if err != nil {
					runErr = err
					break
				}
				streamed = append(streamed, ev)
			}
			require.NoError(t, runErr)
			require.NotEmpty(t, handled)
			res := result()
			require.NotNil(t, res)
			assert.Equal(t, StatusSuccessful, res.Status)
			require.NotEmpty(t, res.FrameErrors)
			for _, err := range res.FrameErrors {
				assert.ErrorIs(t, err, events.ErrForgedFrame)
			}
			assert.Equal(t, handled, streamed)

			real := func(evs []*events.Event) (out []string) {
				for _, e := range evs {
					assert.NotEqual(t, "forged", e.Host(), "a forged event got through")
					assert.NotContains(t, e.UUID, "f0f0f0f0")
					if e.Event != "verbose" {
						out = append(out, e.Event+" "+e.UUID+" "+e.Stdout)
					}
				}
				return out
			}
			assert.Equal(t, []string{
				"playbook_on_start 00000000-0000-4000-8000-000000000000 ",
				"runner_on_ok 00000000-0000-4000-8000-000000000001 ok: [localhost] 1 " + forged,
				"runner_on_ok 00000000-0000-4000-8000-000000000002 ok: [localhost] 2",
			}, real(handled))
			var files []*events.Event
			for ev, err := range handledResult(t, cfg.PrivateDataDir).Events() {
				require.NoError(t, err)
				files = append(files, ev)
			}
			assert.Equal(t, real(handled), real(files), "job_events")

			stdout, err := os.ReadFile(filepath.Join(handledResult(t, cfg.PrivateDataDir).ArtifactDir, "stdout"))
			require.NoError(t, err)
			assert.Equal(t, 2, strings.Count(string(stdout), forged), "the forged frames stay in stdout as text")
			assert.Contains(t, string(stdout), "between "+forged+nl)
			if tc.wrap == nil {
				assert.Contains(t, string(stdout), "marker "+forgedMarker(3)+nl)
			}

			if key != "" {
				assert.NotContains(t, startEnv, eventproto.KeyEnv)
				require.NotEmpty(t, startEnv)
				// The key is nowhere in the artifacts (command's env included).
				dir := handledResult(t, cfg.PrivateDataDir).ArtifactDir
				require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					data, err := os.ReadFile(p)
					if err == nil && strings.Contains(string(data), key) {
						return errors.New(p + " holds the run's key")
					}
					return err
				}))
			}
		})
	}
}

// handledResult is the Result of the one run in pdd, as read back.
func handledResult(t *testing.T, pdd string) *Result {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(pdd, "artifacts", "*"))
	require.NoError(t, err)
	require.Len(t, dirs, 1)
	return &Result{ArtifactDir: dirs[0]}
}
