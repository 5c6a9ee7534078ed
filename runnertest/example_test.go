package runnertest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

// The fake ansible is the test binary itself: TestMain hands the process
// to Main, which plays the script when the runner starts it as the fake,
// and runs the tests otherwise.
func ExampleMain() {
	var _ = func(m *testing.M) { // func TestMain(m *testing.M) { ... }
		runnertest.Main(m)
	}
}

// A test of code that runs a playbook: New makes the fake, Apply points
// the run's Config at it.
func ExampleNew() {
	var _ = func(t *testing.T) { // func TestDeploy(t *testing.T) { ... }
		fake := runnertest.New(t, runnertest.Play("deploy", "web",
			runnertest.Task("install", runnertest.Changed("web1"), runnertest.Failed("web2", "no space left"))))
		cfg := runner.Config{PrivateDataDir: runnertest.PrivateDataDir(t), Target: runner.Playbook{Path: "site.yml"}}
		fake.Apply(&cfg)
		res, err := runner.Run(context.Background(), cfg)
		if res.RC != 2 {
			t.Errorf("rc %d (%v), want 2", res.RC, err)
		}
	}
}

// exampleRun runs steps (through Write, for code without a testing.TB)
// and returns the run's events.
func exampleRun(cfg runner.Config, steps ...runnertest.Step) (*runner.Result, runnertest.Events) {
	dir, err := os.MkdirTemp("", "runnertest-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	fake, err := runnertest.Write(dir, steps...)
	if err != nil {
		panic(err)
	}
	pdd := filepath.Join(dir, "pdd")
	os.MkdirAll(filepath.Join(pdd, "project"), 0o700)
	os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte("- hosts: all\n"), 0o600)
	cfg.PrivateDataDir, cfg.Target = pdd, runner.Playbook{Path: "site.yml"}
	fake.Apply(&cfg)
	res, _ := runner.Run(context.Background(), cfg)
	evs, err := runnertest.ReadEvents(res.ArtifactDir)
	if err != nil {
		panic(err)
	}
	return res, evs
}

// Write makes a fake without a testing.TB; Apply sets Config.Binary and
// adds the fake's environment to Config.EnvVars, and nothing else.
func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "runnertest-example-")
	defer os.RemoveAll(dir)
	fake, err := runnertest.Write(dir, runnertest.Text("hello\n"), runnertest.Exit(3))
	if err != nil {
		panic(err)
	}
	cfg := runner.Config{EnvVars: map[string]string{"MY_VAR": "1"}}
	fake.Apply(&cfg)
	fmt.Println(cfg.Binary == fake.Binary, len(cfg.EnvVars))
	// Output: true 2
}

// Apply points a Config at the fake; the run sees the script's events and
// rc, and its text in Output.
func ExampleFake_Apply() {
	var out strings.Builder
	res, evs := exampleRun(runner.Config{Output: &out, NoPTY: true}, // no pty: "\n", not "\r\n"
		runnertest.Play("deploy", "web", runnertest.Task("restart", runnertest.Changed("web1"))))
	fmt.Println(res.Status, res.RC, evs.Names())
	fmt.Print(out.String()[:strings.Index(out.String(), "PLAY RECAP")])
	// Output:
	// successful 0 [playbook_on_start playbook_on_play_start playbook_on_task_start runner_on_start runner_on_ok playbook_on_stats]
	//
	// PLAY [deploy] ******************************************************************
	//
	// TASK [restart] *****************************************************************
	// changed: [web1]
}

// A script: a vault prompt, a play with a loop, a failure ignored and an
// unreachable host, then ansible's rc for it.
func ExamplePlay() {
	res, evs := exampleRun(runner.Config{Passwords: []runner.Password{{Pattern: "Vault password:", Response: "s3cret"}}},
		runnertest.Prompt("Vault password: ", "s3cret"),
		runnertest.Play("deploy", "web",
			runnertest.Task("packages", runnertest.Changed("web1").WithItems("nginx", "git"), runnertest.Skipped("web2")),
			runnertest.Task("probe", runnertest.Failed("web1", "not yet").Ignored(), runnertest.Unreachable("web2", "timed out")),
		),
		runnertest.Sleep(10*time.Millisecond))
	fmt.Println(res.RC)
	fmt.Println(evs.Find(runnertest.Match{Task: "packages", Host: "web1"}).Names())
	// Output:
	// 4
	// [runner_on_start runner_item_on_ok runner_item_on_ok runner_on_ok]
}

// Find selects events by name, host, task and play.
func ExampleEvents_Find() {
	_, evs := exampleRun(runner.Config{}, runnertest.Play("deploy", "web",
		runnertest.Task("install", runnertest.OK("web1"), runnertest.Failed("web2", "disk full"))))
	for _, ev := range evs.Find(runnertest.Match{Event: "runner_on_failed"}) {
		fmt.Println(ev.Host(), ev.Task(), string(ev.Res()))
	}
	// Output: web2 install {"changed": false, "msg": "disk full", "_ansible_no_log": false}
}

// Summary gives the recap's counters and the failures, to compare whole.
func ExampleEvents_Summary() {
	_, evs := exampleRun(runner.Config{}, runnertest.Play("deploy", "web",
		runnertest.Task("install", runnertest.Changed("web1"), runnertest.Unreachable("web2", "no route to host"))))
	sum := evs.Summary()
	fmt.Printf("%+v\n%+v\n%+v\n", sum.Hosts["web1"], sum.Hosts["web2"], sum.Failed)
	// Output:
	// {OK:1 Changed:1 Unreachable:0 Failed:0 Skipped:0 Rescued:0 Ignored:0}
	// {OK:0 Changed:0 Unreachable:1 Failed:0 Skipped:0 Rescued:0 Ignored:0}
	// [{Host:web2 Task:install Unreachable:true Msg:no route to host}]
}

// ReadEvents reads a finished run's events from its artifacts.
func ExampleReadEvents() {
	evs, err := runnertest.ReadEvents("testdata/recorded/artifacts/rec")
	if err != nil {
		panic(err)
	}
	fmt.Println(len(evs), evs[0].Event, evs[len(evs)-1].Event)
	// Output: 19 verbose playbook_on_stats
}

// Load turns a recorded run (here ansible-runner's, made by
// testdata/record.sh) into a script that replays it: same events, same
// stdout, same rc.
func ExampleLoad() {
	script, err := runnertest.Load("testdata/recorded/artifacts/rec")
	if err != nil {
		panic(err)
	}
	res, evs := exampleRun(runner.Config{}, script...)
	fmt.Println(res.RC, evs.Summary().Failed)
	// Output: 2 [{web2 start false boom}]
}

// PrivateDataDir lays out the smallest private data dir a playbook run of
// site.yml accepts.
func ExamplePrivateDataDir() {
	var _ = func(t *testing.T) {
		cfg := runner.Config{PrivateDataDir: runnertest.PrivateDataDir(t), Target: runner.Playbook{Path: "site.yml"}}
		runnertest.New(t, runnertest.Play("p", "all")).Apply(&cfg)
	}
}

// Hang stands for a playbook that never ends: a cancel (or a timeout)
// ends it with SIGINT, as it would end ansible.
func ExampleHang() {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	dir, _ := os.MkdirTemp("", "runnertest-example-")
	defer os.RemoveAll(dir)
	fake, _ := runnertest.Write(dir, runnertest.Text("waiting\n"), runnertest.Hang())
	os.MkdirAll(filepath.Join(dir, "project"), 0o700)
	os.WriteFile(filepath.Join(dir, "project", "site.yml"), nil, 0o600)
	cfg := runner.Config{PrivateDataDir: dir, Target: runner.Playbook{Path: "site.yml"}}
	fake.Apply(&cfg)
	res, err := runner.Run(ctx, cfg)
	fmt.Println(res.Status, errors.Is(err, context.Canceled))
	// Output: canceled true
}

// Exit ends a script with an rc of its choice, Die with a signal.
func ExampleDie() {
	res, _ := exampleRun(runner.Config{}, runnertest.Text("going down\n"), runnertest.Die(syscall.SIGKILL))
	fmt.Println(res.Status, res.RC)
	res, _ = exampleRun(runner.Config{}, runnertest.Exit(5))
	fmt.Println(res.Status, res.RC)
	// Output:
	// failed 137
	// failed 5
}

// Save keeps a real run for Load to replay: a test records under a flag,
// and replays the recording otherwise.
func ExampleSave() {
	var _ = func(t *testing.T, record bool) {
		if record { // go test -run TestDeploy -record, with ansible installed
			cfg := runner.Config{PrivateDataDir: "testdata/deploy-pdd", Target: runner.Playbook{Path: "site.yml"}}
			res, _ := runner.Run(context.Background(), cfg)
			if err := runnertest.Save(res.ArtifactDir, "testdata/deploy-recording"); err != nil {
				t.Fatal(err)
			}
		}
		script, err := runnertest.Load("testdata/deploy-recording")
		if err != nil {
			t.Fatal(err)
		}
		cfg := runner.Config{PrivateDataDir: runnertest.PrivateDataDir(t), Target: runner.Playbook{Path: "site.yml"}}
		runnertest.New(t, script...).Apply(&cfg)
		// ... the code under test runs cfg
	}
}
