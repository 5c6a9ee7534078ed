package runnertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

// realPlaybook does, with real ansible-core, what realScript does with the
// fake: web1 runs locally, web2 is an ssh host nobody listens for.
const realPlaybook = `- name: deploy
  hosts: all
  gather_facts: false
  tasks:
    - name: install
      set_fact: x=1
      changed_when: inventory_hostname == 'web1'
    - name: items
      set_fact: y={{ item }}
      loop: [a, b]
      when: inventory_hostname == 'web1'
    - name: start
      fail: msg=boom
      when: inventory_hostname == 'web1'
    - name: connect
      ping:
`

var realScript = []runnertest.Step{runnertest.Play("deploy", "all",
	runnertest.TaskStep{Name: "install", Action: "set_fact", Hosts: []runnertest.HostResult{
		runnertest.Changed("web1").WithRes(map[string]any{"ansible_facts": map[string]any{"x": "1"}}),
		runnertest.OK("web2").WithRes(map[string]any{"ansible_facts": map[string]any{"x": "1"}}),
	}},
	runnertest.TaskStep{Name: "items", Action: "set_fact", Hosts: []runnertest.HostResult{
		runnertest.OK("web1").WithItems("a", "b").WithRes(map[string]any{"ansible_facts": map[string]any{"y": "a"}}), runnertest.Skipped("web2").WithItems("a", "b"),
	}},
	runnertest.TaskStep{Name: "start", Action: "fail", Hosts: []runnertest.HostResult{
		runnertest.Failed("web1", "boom"), runnertest.Skipped("web2"),
	}},
	runnertest.TaskStep{Name: "connect", Action: "ping", Hosts: []runnertest.HostResult{
		runnertest.Unreachable("web2", "Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused"),
	}},
)}

// The fake's events look like the real plugin's: the same events per host
// and task, the same keys at the top and in event_data, the same parents,
// the same text for banners, results and the recap.
func TestScriptMatchesRealRun(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	real := readEvents(t, runReal(t).ArtifactDir)
	res, err := runWith(t, runner.Config{}, realScript...)
	if res == nil {
		t.Fatal(err)
	}
	fake := readEvents(t, res.ArtifactDir)

	// Hosts report in any order: compare multisets, and shapes per name.
	if got, want := describe(fake), describe(real); !slices.Equal(got, want) {
		t.Errorf("events differ:\nfake %q\nreal %q", got, want)
	}
	for name, want := range shapes(real) {
		if got := shapes(fake)[name]; got != want {
			t.Errorf("%s:\nfake %s\nreal %s", name, got, want)
		}
	}
}

// runReal runs realPlaybook with ansible-core.
func runReal(t *testing.T) *runner.Result {
	t.Helper()
	pdd := t.TempDir()
	for path, text := range map[string]string{
		"project/site.yml": realPlaybook,
		"inventory/hosts": "web1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n" +
			"web2 ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(pdd, path)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(pdd, path), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := runner.Run(ctx, runner.Config{PrivateDataDir: pdd, Target: runner.Playbook{Path: "site.yml"},
		EnvVars: map[string]string{"ANSIBLE_NOCOLOR": "1"}})
	if res == nil || res.RC != 4 {
		t.Fatalf("real run: %v", err)
	}
	return res
}

// describe returns each event as "event host task: text" (the text only
// for events whose text does not depend on the module), sorted.
func describe(evs runnertest.Events) []string {
	var out []string
	for _, ev := range evs {
		text := ""
		switch ev.Event {
		case "playbook_on_play_start", "playbook_on_task_start", "playbook_on_stats", "runner_on_skipped",
			"runner_item_on_ok", "runner_on_failed", "runner_on_unreachable", "runner_item_on_skipped":
			text = ev.Stdout
		case "runner_on_ok":
			if ev.Task() == "install" {
				text = ev.Stdout
			}
		}
		out = append(out, fmt.Sprintf("%s %s %s: %q", ev.Event, ev.Host(), ev.Task(), text))
	}
	slices.Sort(out)
	return out
}

// shapes returns, per event name, the shapes of its events in the order
// they first came: their keys, event_data's and res's, and the parent's
// event name.
func shapes(evs runnertest.Events) map[string]string {
	byUUID := map[string]string{}
	for _, ev := range evs {
		byUUID[ev.UUID] = ev.Event
	}
	out := map[string]string{}
	for _, ev := range evs {
		var top, data, res map[string]json.RawMessage
		b, _ := json.Marshal(&ev)
		json.Unmarshal(b, &top)
		json.Unmarshal(ev.EventData, &data)
		json.Unmarshal(data["res"], &res)
		shape := fmt.Sprintf("keys %v, event_data %v, res %v, parent %s",
			sortedKeys(top), sortedKeys(data), sortedKeys(res), byUUID[ev.ParentUUID])
		if !strings.Contains(out[ev.Event], shape) {
			out[ev.Event] += "\n" + shape
		}
	}
	return out
}

func sortedKeys(m map[string]json.RawMessage) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
