package runnertest_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/arunner/arunner/internal/conformance"
	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

// A real run, recorded (Save), replays with the same stdout byte for byte and the
// same events: each event file byte for byte, but for the lines outside
// any event, whose verbose events the runner numbers anew (uuid, created).
func TestReplayRealRun(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	rec := runReal(t)
	saved := filepath.Join(t.TempDir(), "recording")
	if err := runnertest.Save(rec.ArtifactDir, saved); err != nil {
		t.Fatal(err)
	}
	checkReplay(t, saved, rec.Ident)
}

// The checked-in recording of ansible-runner 2.3.1 running a playbook
// (testdata/record.sh) replays the same way, with ansible-playbook off
// PATH.
func TestReplayAnsibleRunnerRecording(t *testing.T) {
	t.Setenv("PATH", "/nonexistent")
	checkReplay(t, "testdata/recorded/artifacts/rec", "rec")
}

func checkReplay(t *testing.T, recorded, ident string) {
	t.Helper()
	script, err := runnertest.Load(recorded)
	if err != nil {
		t.Fatal(err)
	}
	for _, noPTY := range []bool{false, true} {
		res, _ := runWith(t, runner.Config{Ident: ident, NoPTY: noPTY}, script...)
		if res == nil {
			t.Fatal("no result")
		}
		want, got := conformance.ReadArtifacts(t, recorded), conformance.ReadArtifacts(t, res.ArtifactDir)
		got.PrivateDataDir = want.PrivateDataDir // the replay's paths are the recording's
		if got.Stdout != want.Stdout {
			t.Errorf("noPTY %v: stdout differs:\n got %q\nwant %q", noPTY, got.Stdout, want.Stdout)
		}
		if got.RC != want.RC {
			t.Errorf("noPTY %v: rc %s, want %s", noPTY, got.RC, want.RC)
		}
		if len(got.Events) != len(want.Events) {
			t.Fatalf("noPTY %v: %d events, want %d", noPTY, len(got.Events), len(want.Events))
		}
		conformance.CompareEventData(t, got, want, conformance.Options{})
		for i := range want.Events {
			w, g := want.Events[i], got.Events[i]
			if w.Event == "verbose" && w.PID == 0 {
				g.UUID, g.Created = w.UUID, w.Created
			}
			wj, _ := json.Marshal(&w)
			gj, _ := json.Marshal(&g)
			if !bytes.Equal(gj, wj) {
				t.Errorf("noPTY %v: event %d:\n got %s\nwant %s", noPTY, w.Counter, gj, wj)
			}
		}
	}
}

// Load names what is wrong with a recording.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := runnertest.Load(dir); err == nil {
		t.Error("a dir without stdout loads")
	}
	os.WriteFile(filepath.Join(dir, "stdout"), []byte("other text\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "rc"), []byte("0\n"), 0o600)
	os.MkdirAll(filepath.Join(dir, "job_events"), 0o700)
	os.WriteFile(filepath.Join(dir, "job_events", "1-u.json"),
		[]byte(`{"uuid": "u", "counter": 1, "stdout": "ok: [h]", "start_line": 0, "end_line": 1, "event": "runner_on_ok", "pid": 1}`), 0o600)
	if _, err := runnertest.Load(dir); err == nil {
		t.Error("a recording whose stdout lacks an event's text loads")
	}
}
