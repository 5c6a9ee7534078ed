package conformance_test

import (
	"context"
	"fmt"
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
	_, _ = runner.Run(context.Background(), runner.Config{PrivateDataDir: mine, Ident: "ours", Playbook: "loops.yml"})
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
