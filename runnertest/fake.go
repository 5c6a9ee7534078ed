package runnertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/arunner/arunner/runner"
)

// ScriptEnv names the environment variable that tells a test binary
// started by Main to play the script in that file instead of running
// tests.
const ScriptEnv = "ARUNNER_TEST_SCRIPT"

// Fake is a fake ansible binary playing one Script: the test binary
// itself, re-executed (Main must be called from TestMain), with the
// environment that tells it what to play.
type Fake struct {
	// Binary is the path of the fake ansible-playbook.
	Binary string
	// Env is what the fake needs in its environment.
	Env map[string]string
}

// New returns a fake ansible playing steps, its script in t.TempDir().
// The test binary's TestMain must call Main.
func New(t testing.TB, steps ...Step) *Fake {
	t.Helper()
	f, err := Write(t.TempDir(), steps...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Write is New for code without a testing.TB: it writes the script into
// dir, which must outlive the runs of the fake.
func Write(dir string, steps ...Step) (*Fake, error) {
	if !mainCalled {
		return nil, errors.New("runnertest: TestMain must call runnertest.Main(m) for the fake to run")
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("runnertest: %w", err)
	}
	data, err := json.Marshal(Script(steps))
	if err != nil {
		return nil, fmt.Errorf("runnertest: %w", err)
	}
	f, err := os.CreateTemp(dir, "script-*.json")
	if err != nil {
		return nil, fmt.Errorf("runnertest: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("runnertest: %w", err)
	}
	return &Fake{Binary: exe, Env: map[string]string{ScriptEnv: f.Name()}}, nil
}

// Apply makes cfg run the fake: its binary, its environment added to
// cfg.EnvVars. Nothing else of cfg changes.
func (f *Fake) Apply(cfg *runner.Config) {
	cfg.Binary = f.Binary
	env := make(map[string]string, len(cfg.EnvVars)+len(f.Env))
	for k, v := range cfg.EnvVars {
		env[k] = v
	}
	for k, v := range f.Env {
		env[k] = v
	}
	cfg.EnvVars = env
}

// mainCalled records that Main runs the tests, so that New can say what is
// missing instead of the fake running the tests again.
var mainCalled bool

// Main runs the tests, or, in a fake started by a Fake, plays its script
// and exits with its rc. Call it from TestMain, before anything else
// there (flag.Parse, setup), which the fake must not do:
//
//	func TestMain(m *testing.M) { runnertest.Main(m) }
//
// m is a *testing.M, or anything whose Run runs the tests: a TestMain
// with setup of its own passes a value whose Run does the setup and then
// calls m.Run, so that the fake skips the setup.
func Main(m interface{ Run() int }) {
	if path := os.Getenv(ScriptEnv); path != "" {
		os.Exit(playFile(path))
	}
	mainCalled = true
	os.Exit(m.Run())
}

// playFile plays the script in path; its result is the exit code.
func playFile(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "runnertest fake: %v\n", err)
		return 97
	}
	var s Script
	if err := json.Unmarshal(data, &s); err != nil {
		fmt.Fprintf(os.Stderr, "runnertest fake: %s: %v\n", path, err)
		return 97
	}
	return play(s)
}

// PrivateDataDir returns a new private data dir (under t.TempDir()) that a
// playbook run of site.yml accepts: project/site.yml and an inventory of
// localhost. The fake never reads them; the runner checks they are there.
func PrivateDataDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for path, text := range map[string]string{
		"project/site.yml": "- hosts: all\n  tasks: []\n",
		"inventory/hosts":  "localhost ansible_connection=local\n",
	} {
		path = filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatalf("runnertest: %v", err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatalf("runnertest: %v", err)
		}
	}
	return dir
}
