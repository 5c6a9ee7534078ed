package conformance_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/arunner/arunner/internal/conformance"
	"github.com/arunner/arunner/runner"
)

func ExampleNormalize() {
	fmt.Println(conformance.Normalize(`ok: [localhost] => {"delta": "0:00:00.003", "start": "2026-11-27 16:39:31.123456"}`))
	// Output: ok: [localhost] => {"delta": "DELTA", "start": "TIMESTAMP"}
}

func ExampleStripTerminal() {
	fmt.Printf("%q\n", conformance.StripTerminal("\x1b[0;32mok: [localhost]\x1b[0m\r\n"))
	// Output: "ok: [localhost]\n"
}

// A conformance case: the same fixture, copied twice, run by arunner and
// by ansible-runner, then compared. In a test, t comes from the test.
func ExampleCompare() {
	var t testing.TB // the test's *testing.T
	fixture := "testdata/conformance/plays"

	mine := conformance.CopyDir(t, fixture)
	_, _ = runner.Run(context.Background(), runner.Config{PrivateDataDir: mine, Ident: "ours", Target: runner.Playbook{Path: "loops.yml"}})
	ours := conformance.ReadArtifacts(t, mine+"/artifacts/ours")

	ref := conformance.RunReference(t, conformance.CopyDir(t, fixture), "ref", "-p", "loops.yml")
	conformance.Compare(t, ours, ref, conformance.Options{})
}

// The reference's artifacts for flags ansible-runner understands.
func ExampleRunReference() {
	var t testing.TB // the test's *testing.T
	conformance.RequireTools(t, "ansible-playbook", "ansible-runner")
	ref := conformance.RunReference(t, conformance.CopyDir(t, "testdata/conformance/plays"), "ref",
		"-p", "outcomes.yml", "--limit", "h1", "--forks", "1")
	fmt.Println(ref.Status, ref.RC, len(ref.Events))
}

// Reading what a run left: here a hand-made artifacts dir.
func ExampleReadArtifacts() {
	pdd, _ := os.MkdirTemp("", "pdd")
	defer os.RemoveAll(pdd)
	art := filepath.Join(pdd, "artifacts", "ours")
	_ = os.MkdirAll(filepath.Join(art, "job_events"), 0o700)
	_ = os.WriteFile(filepath.Join(art, "status"), []byte("successful"), 0o600)
	_ = os.WriteFile(filepath.Join(art, "rc"), []byte("0"), 0o600)
	_ = os.WriteFile(filepath.Join(art, "job_events", "1-a.json"), []byte(`{"uuid": "a", "counter": 1, "event": "playbook_on_start"}`), 0o600)

	run := conformance.ReadArtifacts(exampleTB{}, art) // in a test: t
	fmt.Println(run.Status, run.RC, run.Events[0].Event, run.PrivateDataDir == pdd)
	// Output: successful 0 playbook_on_start true
}

// The environment a reference run gets: the caller's, minus what would
// change ansible's behaviour, plus the extras.
func ExampleCleanEnv() {
	os.Setenv("ANSIBLE_STDOUT_CALLBACK", "yaml")
	defer os.Unsetenv("ANSIBLE_STDOUT_CALLBACK")
	env := conformance.CleanEnv(map[string]string{"MY_VAR": "1"})
	fmt.Println(slices.Contains(env, "ANSIBLE_STDOUT_CALLBACK=yaml"), env[len(env)-1])
	// Output: false MY_VAR=1
}

// A fixture copied for one side of a case; each side gets its own copy.
func ExampleCopyDir() {
	var t testing.TB // the test's *testing.T
	pdd := conformance.CopyDir(t, "testdata/conformance/plays")
	fmt.Println(filepath.Base(pdd))
}

// exampleTB stands in for a test's *testing.T where an example runs.
type exampleTB struct{ testing.TB }

func (exampleTB) Helper()                           {}
func (exampleTB) Errorf(format string, args ...any) { fmt.Printf(format+"\n", args...) }
func (exampleTB) FailNow()                          { panic("example failed") }

// An event's data with what differs between runs replaced, as
// CompareEventData compares it.
func ExampleNormalizeEventData() {
	data := `{"task_path": "/tmp/pdd/project/site.yml:3", "duration": 0.4,
		"res": {"changed": true, "start": "2026-11-27 16:39:31.123456", "item": "a"}}`
	fmt.Println(conformance.NormalizeEventData([]byte(data), "/tmp/pdd"))
	// Output:
	// {
	//   "duration": "DURATION",
	//   "res": {
	//     "changed": true,
	//     "item": "a",
	//     "start": "TIMESTAMP"
	//   },
	//   "task_path": "PDD/project/site.yml:3"
	// }
}

// The value-level check on the two runs of a case (see ExampleCompare):
// every event's whole event_data, matched by event, host, task and item.
func ExampleCompareEventData() {
	var t testing.TB // the test's *testing.T
	var ours, ref conformance.Run
	conformance.CompareEventData(t, ours, ref, conformance.Options{})
}
