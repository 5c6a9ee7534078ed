package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arunner/arunner/runnertest"
	"github.com/coder/websocket"
)

// End to end on real ansible-core, on each backend.

func needAnsible(t *testing.T) {
	t.Helper()
	for _, bin := range []string{"ansible-playbook", "ansible-inventory", "git"} {
		if _, err := exec.LookPath(bin); err != nil {
			missing(t, bin+" is not installed")
		}
	}
}

const inventorySource = `[web]
web1
web2
[db]
db1
[prod:children]
web
db
[all:vars]
ansible_connection=local
ansible_python_interpreter="{{ ansible_playbook_python }}"
`

// gitRepo makes a git repository in dir with files committed.
func gitRepo(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@localhost",
			"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	git("init", "-q")
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		git("add", name)
	}
	git("commit", "-q", "-m", "project")
}

// setup creates an inventory and a project from a local repository with
// the playbooks and syncs both.
func setup(t *testing.T, a *testApp, playbooks map[string]string) (inv, project int64) {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo")
	gitRepo(t, repo, playbooks)
	inv, invUpdate := a.create("inventories", Inventory{Name: "prod", Source: inventorySource})
	project, projUpdate := a.create("projects", Project{Name: "site", SCMURL: "file://" + repo})
	for _, id := range []int64{invUpdate, projUpdate} {
		if j := a.wait(id, 15*time.Second, "successful", "failed", "error"); j.Status != "successful" {
			t.Fatalf("%s %d: %s (rc %d): %s", j.Kind, id, j.Status, j.RC, j.Explanation)
		}
	}
	return inv, project
}

const sitePlaybook = `- hosts: web
  gather_facts: false
  tasks:
    - name: say hello
      ansible.builtin.command: echo hello from {{ inventory_hostname }}
    - name: a change
      ansible.builtin.debug:
        msg: changed
      changed_when: true
`

func TestJobTemplate(t *testing.T) {
	needAnsible(t)
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			a := openApp(t, b.opts(t))
			inv, project := setup(t, a, map[string]string{"site.yml": sitePlaybook})

			// The inventory update imported hosts and groups.
			var model struct {
				Hosts  map[string]json.RawMessage `json:"Hosts"`
				Groups map[string]struct {
					Hosts    []string
					Children []string
				} `json:"Groups"`
			}
			a.call("GET", fmt.Sprintf("/api/inventories/%d/hosts", inv), nil, http.StatusOK, &model)
			if len(model.Hosts) != 3 || fmt.Sprint(model.Groups["web"].Hosts) != "[web1 web2]" ||
				fmt.Sprint(model.Groups["prod"].Children) != "[db web]" && fmt.Sprint(model.Groups["prod"].Children) != "[web db]" {
				t.Fatalf("imported inventory: %+v", model)
			}

			tmpl, _ := a.create("job_templates", Template{Name: "site", ProjectID: project, InventoryID: inv,
				Playbook: "site.yml", Forks: 2, ExtraVars: map[string]any{"release": "1.0"}})
			id := a.launch(tmpl)

			// A WebSocket client from the start sees every event once, in
			// order, and the stream ends at the EOF.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			ws, _, err := websocket.Dial(ctx, strings.Replace(a.URL, "http", "ws", 1)+fmt.Sprintf("/api/jobs/%d/stream", id), nil)
			if err != nil {
				t.Fatal(err)
			}
			var streamed []int
			for {
				_, b, err := ws.Read(ctx)
				if err != nil {
					if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
						t.Fatalf("stream ended: %v; job %+v", err, a.job(id))
					}
					break
				}
				var ev struct{ Counter int }
				if err := json.Unmarshal(b, &ev); err != nil {
					t.Fatal(err)
				}
				streamed = append(streamed, ev.Counter)
			}

			j := a.wait(id, 60*time.Second, "successful", "failed", "error")
			if j.Status != "successful" || j.RC != 0 {
				t.Fatalf("job: %s rc %d: %s", j.Status, j.RC, j.Explanation)
			}
			evs := a.waitEvents(id, 10*time.Second)
			checkCounters(t, evs, j.FinalCounter)
			if len(streamed) != len(evs) || streamed[0] != 1 || streamed[len(streamed)-1] != j.FinalCounter {
				t.Fatalf("streamed %v, stored %d events", streamed, len(evs))
			}
			for i, c := range streamed {
				if c != i+1 {
					t.Fatalf("streamed out of order: %v", streamed)
				}
			}
			if evs[len(evs)-1].Event != "playbook_on_stats" {
				t.Errorf("last event %s", evs[len(evs)-1].Event)
			}
			if !strings.Contains(strings.Join(j.JobArgs, " "), "ansible-playbook") || j.JobCwd == "" || len(j.JobEnv) == 0 {
				t.Errorf("job_args %q, job_cwd %q, %d env", j.JobArgs, j.JobCwd, len(j.JobEnv))
			}
			if s := j.HostSummary["web1"]; s["ok"] != 2 || s["changed"] != 2 || j.HostSummary["db1"] != nil {
				t.Errorf("host summary: %v", j.HostSummary)
			}
			// The run report (arunner's report package) is kept.
			resp, err := http.Get(a.URL + fmt.Sprintf("/jobs/%d/report", id))
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "say hello") ||
				!strings.Contains(string(page), "web2") || !strings.Contains(string(page), fmt.Sprintf("job-%d", id)) {
				t.Errorf("report: %d, %d bytes", resp.StatusCode, len(page))
			}
			// The private data dir is gone with the run.
			if _, err := os.Stat(filepath.Join(a.Dispatcher.DataDir, "jobs", fmt.Sprint(id))); !os.IsNotExist(err) {
				t.Errorf("job dir left behind: %v", err)
			}
		})
	}
}

// processWith reports whether a process has arg in its command line.
func processWith(arg string) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), arg) {
			return true
		}
	}
	return false
}

func TestCancel(t *testing.T) {
	needAnsible(t)
	for _, worker := range []bool{false, true} {
		t.Run(fmt.Sprintf("worker=%t", worker), func(t *testing.T) {
			o := backends()[0].opts(t)
			o.Worker = worker
			a := openApp(t, o)
			inv, project := setup(t, a, map[string]string{"sleep.yml": `- hosts: web1
  gather_facts: false
  tasks:
    - ansible.builtin.shell: sleep 4242.5 & sleep 4242.5
`})
			tmpl, _ := a.create("job_templates", Template{Name: "sleep", ProjectID: project, InventoryID: inv, Playbook: "sleep.yml"})
			id := a.launch(tmpl)
			deadline := time.Now().Add(60 * time.Second)
			for !processWith("4242.5") {
				if time.Now().After(deadline) {
					t.Fatal("the playbook's sleep never started")
				}
				time.Sleep(50 * time.Millisecond)
			}
			var out map[string]string
			a.call("POST", fmt.Sprintf("/api/jobs/%d/cancel", id), nil, http.StatusAccepted, &out)
			j := a.wait(id, 30*time.Second, "canceled", "successful", "failed", "error")
			if j.Status != "canceled" || !j.Cancel {
				t.Fatalf("job %s (cancel flag %t): %s", j.Status, j.Cancel, j.Explanation)
			}
			if processWith("4242.5") {
				t.Fatal("the playbook's process tree outlived the cancel")
			}
			a.waitEvents(id, 10*time.Second)
		})
	}
}

func TestVaultCredential(t *testing.T) {
	needAnsible(t)
	dir := t.TempDir()
	vars := filepath.Join(dir, "vars.yml")
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(vars, []byte("secret_word: swordfish\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte("vault-pass-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ansible-vault", "encrypt", "--vault-password-file", pw, vars).CombinedOutput(); err != nil {
		t.Fatalf("ansible-vault: %v: %s", err, out)
	}
	encrypted, _ := os.ReadFile(vars)
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			a := openApp(t, b.opts(t))
			inv, project := setup(t, a, map[string]string{"vars.yml": string(encrypted), "vault.yml": `- hosts: web1
  gather_facts: false
  vars_files: [vars.yml]
  tasks:
    - ansible.builtin.assert:
        that: secret_word == "swordfish"
`})
			cred, _ := a.create("credentials", Credential{Name: "vault", Kind: "vault", Inputs: map[string]any{"vault_password": "vault-pass-123"}})
			var shown Credential
			a.call("GET", fmt.Sprintf("/api/credentials/%d", cred), nil, http.StatusOK, &shown)
			if shown.Inputs["vault_password"] != "$encrypted$" {
				t.Fatalf("the API shows a secret: %v", shown.Inputs)
			}
			// The database holds it sealed.
			var stored json.RawMessage
			if err := a.Store.GetObject(context.Background(), "credentials", cred, &stored); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(stored), "vault-pass-123") || !strings.Contains(string(stored), sealedPrefix) {
				t.Fatalf("stored credential: %s", stored)
			}
			tmpl, _ := a.create("job_templates", Template{Name: "vault", ProjectID: project, InventoryID: inv,
				Playbook: "vault.yml", CredentialIDs: []int64{cred}})
			j := a.wait(a.launch(tmpl), 60*time.Second, "successful", "failed", "error", "canceled")
			if j.Status != "successful" {
				t.Fatalf("job %s rc %d: %s", j.Status, j.RC, j.Explanation)
			}
			b, _ := json.Marshal(j)
			if strings.Contains(string(b), "vault-pass-123") {
				t.Fatal("the job record holds the vault password")
			}
			// A wrong input name is refused, and names the input.
			var e map[string]string
			a.call("POST", "/api/credentials", Credential{Name: "bad", Kind: "vault", Inputs: map[string]any{"vault_pass": "x"}}, http.StatusBadRequest, &e)
			if !strings.Contains(e["error"], `"vault_pass"`) || strings.Contains(e["error"], `"x"`) {
				t.Fatalf("error: %q", e["error"])
			}
		})
	}
}

func TestFactsPersistBetweenJobs(t *testing.T) {
	needAnsible(t)
	a := openApp(t, backends()[0].opts(t))
	inv, project := setup(t, a, map[string]string{
		"set.yml": `- hosts: web1
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact:
        color: blue
        cacheable: true
`,
		"use.yml": `- hosts: web1
  gather_facts: false
  tasks:
    - ansible.builtin.assert:
        that: color == "blue"
`})
	for _, playbook := range []string{"set.yml", "use.yml"} {
		tmpl, _ := a.create("job_templates", Template{Name: playbook, ProjectID: project, InventoryID: inv, Playbook: playbook, FactCache: true})
		if j := a.wait(a.launch(tmpl), 60*time.Second, "successful", "failed", "error"); j.Status != "successful" {
			t.Fatalf("%s: %s rc %d: %s", playbook, j.Status, j.RC, j.Explanation)
		}
	}
	var facts struct{ Facts map[string]any }
	a.call("GET", fmt.Sprintf("/api/inventories/%d/hosts/web1/facts", inv), nil, http.StatusOK, &facts)
	if facts.Facts["color"] != "blue" {
		t.Fatalf("facts of web1: %v", facts.Facts)
	}
}

func TestDemo(t *testing.T) {
	needAnsible(t)
	o := backends()[0].opts(t)
	a := openApp(t, o)
	tmpl, err := seedDemo(context.Background(), a.Controller, o.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{1, 2} {
		if j := a.wait(id, 60*time.Second, "successful", "failed", "error"); j.Status != "successful" {
			t.Fatalf("%s: %s: %s", j.Kind, j.Status, j.Explanation)
		}
	}
	j := a.wait(a.launch(tmpl), 60*time.Second, "successful", "failed", "error")
	if j.Status != "successful" || len(j.HostSummary) != 2 {
		t.Fatalf("demo job %s, recap %v: %s", j.Status, j.HostSummary, j.Explanation)
	}
	// A second start seeds nothing more.
	if again, err := seedDemo(context.Background(), a.Controller, o.DataDir); err != nil || again != 0 {
		t.Fatalf("seeded again: %d, %v", again, err)
	}
}

// A client that reads a finished job's stream gets its events and the
// close, and leaves nothing behind in the hub.
func TestStreamOfFinishedJob(t *testing.T) {
	fake := runnertest.New(t, loadScript(1, 2)...)
	o := Options{DataDir: t.TempDir(), Prepare: fake.Apply}
	a := openApp(t, o)
	id := a.launch(fakeSetup(t, a.Store, o.DataDir, 1))
	a.wait(id, 30*time.Second, "successful")
	evs := a.waitEvents(id, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, after := range []int{0, 3} {
		ws, _, err := websocket.Dial(ctx, strings.Replace(a.URL, "http", "ws", 1)+fmt.Sprintf("/api/jobs/%d/stream?after=%d", id, after), nil)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			if _, _, err := ws.Read(ctx); err != nil {
				if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
					t.Fatal(err)
				}
				break
			}
			n++
		}
		if n != len(evs)-after {
			t.Fatalf("after %d: %d events streamed of %d", after, n, len(evs))
		}
	}
	a.Controller.Hub.mu.Lock()
	left := len(a.Controller.Hub.subs)
	a.Controller.Hub.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d jobs left in the hub", left)
	}
}

// A template's job through the transmit | worker | process stream: the
// seam a remote worker plugs into.
func TestJobThroughWorker(t *testing.T) {
	needAnsible(t)
	o := backends()[0].opts(t)
	o.Worker = true
	a := openApp(t, o)
	inv, project := setup(t, a, map[string]string{"site.yml": sitePlaybook})
	tmpl, _ := a.create("job_templates", Template{Name: "site", ProjectID: project, InventoryID: inv, Playbook: "site.yml"})
	id := a.launch(tmpl)
	j := a.wait(id, 60*time.Second, "successful", "failed", "error")
	if j.Status != "successful" {
		t.Fatalf("job %s rc %d: %s", j.Status, j.RC, j.Explanation)
	}
	checkCounters(t, a.waitEvents(id, 10*time.Second), j.FinalCounter)
	if s := j.HostSummary["web2"]; s["changed"] != 2 {
		t.Errorf("host summary: %v", j.HostSummary)
	}
	// It ran in the worker's own dir, not in the controller's.
	if j.JobCwd == "" || strings.HasPrefix(j.JobCwd, o.DataDir) {
		t.Errorf("job_cwd %q", j.JobCwd)
	}
}
