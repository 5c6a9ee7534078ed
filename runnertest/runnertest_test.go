package runnertest_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

func TestMain(m *testing.M) { runnertest.Main(m) }

// run runs steps through the runner, with or without a pty.
func run(t *testing.T, noPTY bool, steps ...runnertest.Step) (*runner.Result, error) {
	t.Helper()
	return runWith(t, runner.Config{NoPTY: noPTY}, steps...)
}

// runWith runs steps with cfg's settings, a private data dir and the fake.
func runWith(t *testing.T, cfg runner.Config, steps ...runnertest.Step) (*runner.Result, error) {
	t.Helper()
	cfg.PrivateDataDir, cfg.Target, cfg.CancelGrace = runnertest.PrivateDataDir(t), runner.Playbook{Path: "site.yml"}, time.Second
	runnertest.New(t, steps...).Apply(&cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return runner.Run(ctx, cfg)
}

// A scripted playbook gives the events, parents, stats and rc the real
// plugin would, with and without a pty, with and without the side band.
func TestScriptedPlaybook(t *testing.T) {
	for _, mode := range []struct {
		name          string
		noPTY, inBand bool
	}{{"pty", false, false}, {"nopty", true, false}, {"pty-inband", false, true}, {"nopty-inband", true, true}} {
		t.Run(mode.name, func(t *testing.T) {
			cfg := runner.Config{NoPTY: mode.noPTY}
			if mode.inBand {
				cfg.Wrap = func(c *runner.Command) error { delete(c.Env, eventproto.SideBandEnv); return nil }
			}
			res, err := runWith(t, cfg,
				runnertest.Play("deploy", "web",
					runnertest.Task("install", runnertest.Changed("web1"), runnertest.OK("web2")),
					runnertest.Task("items", runnertest.OK("web1").WithItems("a", "b"), runnertest.Skipped("web2")),
					runnertest.Task("start", runnertest.Failed("web1", "boom"), runnertest.Unreachable("web2", "ssh: timeout")),
				))
			if res == nil {
				t.Fatalf("Run: %v", err)
			}
			if res.RC != 4 || res.Status != runner.StatusFailed {
				t.Errorf("rc %d, status %s, want 4 failed (%v)", res.RC, res.Status, err)
			}
			evs := readEvents(t, res.ArtifactDir)
			want := []string{"playbook_on_start", "playbook_on_play_start",
				"playbook_on_task_start", "runner_on_start", "runner_on_start", "runner_on_ok", "runner_on_ok",
				"playbook_on_task_start", "runner_on_start", "runner_on_start", "runner_item_on_ok", "runner_item_on_ok", "runner_on_ok", "runner_on_skipped",
				"playbook_on_task_start", "runner_on_start", "runner_on_start", "runner_on_failed", "runner_on_unreachable",
				"playbook_on_stats"}
			if got := evs.Names(); !slices.Equal(got, want) {
				t.Fatalf("events:\n got %q\nwant %q", got, want)
			}
			byUUID := map[string]events.Event{}
			for _, ev := range evs {
				byUUID[ev.UUID] = ev
			}
			for _, ev := range evs {
				var parent string
				switch {
				case ev.Event == "playbook_on_start":
				case ev.Event == "playbook_on_play_start", ev.Event == "playbook_on_stats":
					parent = "playbook_on_start"
				case ev.Event == "playbook_on_task_start":
					parent = "playbook_on_play_start"
				default:
					parent = "playbook_on_task_start"
				}
				if got := byUUID[ev.ParentUUID].Event; got != parent {
					t.Errorf("%d %s: parent %q, want %q", ev.Counter, ev.Event, got, parent)
				}
			}
			sum := evs.Summary()
			if got := sum.Hosts["web1"]; got != (runnertest.HostStats{OK: 2, Changed: 1, Failed: 1}) {
				t.Errorf("web1: %+v", got)
			}
			if got := sum.Hosts["web2"]; got != (runnertest.HostStats{OK: 1, Unreachable: 1, Skipped: 1}) {
				t.Errorf("web2: %+v", got)
			}
			wantFailed := []runnertest.Failure{{Host: "web1", Task: "start", Msg: "boom"},
				{Host: "web2", Task: "start", Unreachable: true, Msg: "ssh: timeout"}}
			if !slices.Equal(sum.Failed, wantFailed) {
				t.Errorf("failed: %+v", sum.Failed)
			}
			stdout, err := os.ReadFile(res.ArtifactDir + "/stdout")
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range []string{"PLAY [deploy] ***", "changed: [web1]", "ok: [web1] => (item=a)",
				`fatal: [web1]: FAILED! => {"changed": false, "msg": "boom"}`, "PLAY RECAP ***"} {
				if !strings.Contains(string(stdout), line) {
					t.Errorf("stdout lacks %q:\n%s", line, stdout)
				}
			}
		})
	}
}

// A prompt reads the answer without echoing it: the secret is in no
// artifact. Unanswered, it fails the run: at once when stdin ends (NoPTY),
// else when the runner's PromptTimeout ends the wait.
func TestPrompt(t *testing.T) {
	steps := []runnertest.Step{runnertest.Prompt("Vault password: ", "s3cret"), runnertest.Text("unlocked\n")}
	res, err := runWith(t, runner.Config{Passwords: []runner.Password{{Pattern: "Vault password:", Response: "s3cret"}}}, steps...)
	if err != nil {
		t.Fatalf("answered: %v", err)
	}
	stdout, _ := os.ReadFile(res.ArtifactDir + "/stdout")
	if !strings.Contains(string(stdout), "unlocked") || strings.Contains(string(stdout), "s3cret") {
		t.Errorf("stdout %q", stdout)
	}

	res, err = runWith(t, runner.Config{NoPTY: true}, steps...)
	if res == nil || res.RC != 1 || res.Status != runner.StatusFailed {
		t.Errorf("no stdin: %+v, %v", res, err)
	}

	start := time.Now()
	res, err = runWith(t, runner.Config{PromptTimeout: 200 * time.Millisecond}, steps...)
	if res == nil || res.Status == runner.StatusSuccessful || time.Since(start) > 5*time.Second {
		t.Errorf("unanswered: %+v, %v", res, err)
	}

	res, err = runWith(t, runner.Config{Passwords: []runner.Password{{Pattern: "Vault password:", Response: "wrong"}}}, steps...)
	if res == nil || res.RC != 1 {
		t.Errorf("wrong answer: %+v, %v", res, err)
	}
}

// Exit sets the rc; Die kills the fake with a signal; Hang waits for the
// cancel, which SIGINT delivers; Sleep and Stderr do what they say.
func TestEndings(t *testing.T) {
	res, err := run(t, false, runnertest.Play("p", "all", runnertest.Task("t", runnertest.OK("h"))), runnertest.Exit(3))
	var exit *runner.ExitError
	if !errors.As(err, &exit) || exit.RC != 3 {
		t.Errorf("Exit(3): %v", err)
	}
	if names := readEvents(t, res.ArtifactDir).Names(); names[len(names)-1] != "playbook_on_stats" {
		t.Errorf("Exit(3) after a play: events %q end without stats", names)
	}

	_, err = run(t, false, runnertest.Die(syscall.SIGSEGV))
	if !errors.As(err, &exit) || exit.Signal != syscall.SIGSEGV {
		t.Errorf("Die(SIGSEGV): %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	cfg := runner.Config{PrivateDataDir: runnertest.PrivateDataDir(t), Target: runner.Playbook{Path: "site.yml"}, CancelGrace: 5 * time.Second}
	runnertest.New(t, runnertest.Hang()).Apply(&cfg)
	start := time.Now()
	res, err = runner.Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 3*time.Second {
		t.Errorf("Hang: %v after %v: SIGINT must end it before the grace", err, time.Since(start))
	}

	start = time.Now()
	res, err = runWith(t, runner.Config{NoPTY: true}, runnertest.Sleep(150*time.Millisecond), runnertest.Stderr("a warning\n"))
	if err != nil || time.Since(start) < 150*time.Millisecond {
		t.Errorf("Sleep: %v after %v", err, time.Since(start))
	}
	if stderr, _ := os.ReadFile(res.ArtifactDir + "/stderr"); string(stderr) != "a warning\n" {
		t.Errorf("stderr artifact %q", stderr)
	}
}

// Events.Find selects by name, host and task.
func TestFind(t *testing.T) {
	res, _ := run(t, false, runnertest.Play("p", "all",
		runnertest.Task("a", runnertest.OK("h1"), runnertest.Failed("h2", "x")),
		runnertest.Task("b", runnertest.OK("h1"))))
	evs := readEvents(t, res.ArtifactDir)
	if n := len(evs.Find(runnertest.Match{Event: "runner_on_ok"})); n != 2 {
		t.Errorf("runner_on_ok: %d", n)
	}
	if got := evs.Find(runnertest.Match{Host: "h1", Task: "b"}).Names(); !slices.Equal(got, []string{"runner_on_start", "runner_on_ok"}) {
		t.Errorf("h1 b: %q", got)
	}
	if n := len(evs.Find(runnertest.Match{Play: "p", Event: "runner_on_failed", Host: "h2"})); n != 1 {
		t.Errorf("h2 failed: %d", n)
	}
}

func readEvents(t *testing.T, artifactDir string) runnertest.Events {
	t.Helper()
	evs, err := runnertest.ReadEvents(artifactDir)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
