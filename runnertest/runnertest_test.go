package runnertest_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arunner/arunner/events"
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
	cfg.PrivateDataDir, cfg.Playbook, cfg.CancelGrace = runnertest.PrivateDataDir(t), "site.yml", time.Second
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
				cfg.Wrap = func(c *runner.Command) error { delete(c.Env, events.SideBandEnv); return nil }
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
			evs := runnertest.ReadEvents(t, res.ArtifactDir)
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
