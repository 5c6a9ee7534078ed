package main

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

// The test binary doubles as the fake ansible-playbook.
func TestMain(m *testing.M) { runnertest.Main(m) }

// deployer returns a Deployer whose runs play steps, with ansible-playbook
// off PATH: nothing here needs ansible.
func deployer(t *testing.T, steps ...runnertest.Step) *Deployer {
	t.Setenv("PATH", "/nonexistent")
	if _, err := exec.LookPath("ansible-playbook"); err == nil {
		t.Fatal("ansible-playbook is on PATH")
	}
	return &Deployer{PrivateDataDir: runnertest.PrivateDataDir(t), Tune: runnertest.New(t, steps...).Apply}
}

func within(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestDeploySucceeds(t *testing.T) {
	d := deployer(t, runnertest.Play("deploy", "web",
		runnertest.Task("copy app", runnertest.Changed("web1"), runnertest.OK("web2")),
		runnertest.Task("restart", runnertest.Changed("web1"), runnertest.Skipped("web2")),
	))
	rep, err := d.Deploy(within(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Changed, []string{"web1"}) || len(rep.Failed) != 0 || len(rep.Unreachable) != 0 {
		t.Errorf("report %+v", rep)
	}
}

func TestDeployFailedHost(t *testing.T) {
	d := deployer(t, runnertest.Play("deploy", "web",
		runnertest.Task("copy app", runnertest.Changed("web1"), runnertest.Failed("web2", "No space left on device")),
	))
	rep, err := d.Deploy(within(t, 5*time.Second))
	if !errors.Is(err, ErrHostsFailed) {
		t.Fatalf("err %v, want ErrHostsFailed", err)
	}
	if rep.Failed["web2"] != "No space left on device" || len(rep.Failed) != 1 {
		t.Errorf("failed %v", rep.Failed)
	}
}

func TestDeployUnreachableHost(t *testing.T) {
	d := deployer(t, runnertest.Play("deploy", "web",
		runnertest.Task("copy app", runnertest.OK("web1"), runnertest.Unreachable("web2", "ssh: connect to host web2 port 22: No route to host")),
	))
	rep, err := d.Deploy(within(t, 5*time.Second))
	if !errors.Is(err, ErrHostsFailed) {
		t.Fatalf("err %v, want ErrHostsFailed", err)
	}
	if !slices.Equal(rep.Unreachable, []string{"web2"}) {
		t.Errorf("unreachable %v", rep.Unreachable)
	}
}

// The vault prompt is answered with VaultPassword; a wrong one fails the
// run as ansible does.
func TestDeployVaultPassword(t *testing.T) {
	script := []runnertest.Step{
		runnertest.Prompt("Vault password: ", "s3cret"),
		runnertest.Play("deploy", "web", runnertest.Task("copy secrets", runnertest.Changed("web1"))),
	}
	d := deployer(t, script...)
	d.VaultPassword = "s3cret"
	if rep, err := d.Deploy(within(t, 5*time.Second)); err != nil || !slices.Equal(rep.Changed, []string{"web1"}) {
		t.Errorf("report %+v, err %v", rep, err)
	}

	d = deployer(t, script...)
	d.VaultPassword = "wrong"
	var exit *runner.ExitError
	if _, err := d.Deploy(within(t, 5*time.Second)); !errors.As(err, &exit) || exit.RC != 1 {
		t.Errorf("wrong password: err %v, want exit code 1", err)
	}
}

// A cancel once the first host changed: what ran before it is reported.
func TestDeployCanceled(t *testing.T) {
	d := deployer(t, runnertest.Play("deploy", "web", runnertest.Task("copy app", runnertest.Changed("web1"))),
		runnertest.Hang())
	ctx, cancel := context.WithCancel(within(t, 5*time.Second))
	fake := d.Tune
	d.Tune = func(cfg *runner.Config) {
		fake(cfg)
		handle := cfg.EventHandler
		cfg.EventHandler = func(ev *events.Event) bool {
			defer func() {
				if ev.Event == "runner_on_ok" {
					cancel()
				}
			}()
			return handle(ev)
		}
	}
	rep, err := d.Deploy(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if !slices.Equal(rep.Changed, []string{"web1"}) {
		t.Errorf("what ran before the cancel is lost: %+v", rep)
	}
}

func TestDeployTimeout(t *testing.T) {
	d := deployer(t, runnertest.Hang())
	d.Timeout = 200 * time.Millisecond
	if _, err := d.Deploy(within(t, 5*time.Second)); !errors.Is(err, runner.ErrTimeout) {
		t.Fatalf("err %v, want runner.ErrTimeout", err)
	}
}
