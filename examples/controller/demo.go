package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// demoPlaybook is the demo project's playbook: it runs on loopback.
const demoPlaybook = `- hosts: all
  gather_facts: false
  tasks:
    - name: say hello
      ansible.builtin.command: echo hello from {{ inventory_hostname }}
    - name: wait a little, to watch it live
      ansible.builtin.pause:
        seconds: 2
    - name: report
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }} is in {{ group_names }}"
`

const demoInventory = `[web]
web1
web2
[all:vars]
ansible_connection=local
ansible_python_interpreter="{{ ansible_playbook_python }}"
`

// seedDemo gives an empty controller something to run: an inventory of
// two local hosts, a project in a git repository under the data dir, and
// a "hello" template. It returns the template's id.
func seedDemo(ctx context.Context, c *Controller, dataDir string) (int64, error) {
	existing, err := c.Store.ListObjects(ctx, "job_templates")
	if err != nil || len(existing) > 0 {
		return 0, err
	}
	repo := filepath.Join(dataDir, "demo-repo")
	if err := os.MkdirAll(repo, 0o700); err != nil {
		return 0, err
	}
	if err := os.WriteFile(filepath.Join(repo, "hello.yml"), []byte(demoPlaybook), 0o600); err != nil {
		return 0, err
	}
	for _, args := range [][]string{{"init", "-q"}, {"add", "hello.yml"}, {"commit", "-q", "-m", "demo"}} {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo, "-c", "user.name=demo",
			"-c", "user.email=demo@localhost", "-c", "commit.gpgsign=false"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("demo project: git %s: %w: %s", args[0], err, out)
		}
	}
	inv, err := c.Store.CreateObject(ctx, "inventories", Inventory{Name: "local", Source: demoInventory})
	if err != nil {
		return 0, err
	}
	project, err := c.Store.CreateObject(ctx, "projects", Project{Name: "demo", SCMURL: "file://" + repo})
	if err != nil {
		return 0, err
	}
	// Synced as the API would, by an update job each.
	for _, u := range []struct {
		kind string
		id   int64
	}{{"inventory_update", inv}, {"project_update", project}} {
		if _, err := c.Launch(ctx, u.kind, u.id); err != nil {
			return 0, err
		}
	}
	return c.Store.CreateObject(ctx, "job_templates", Template{Name: "hello", ProjectID: project, InventoryID: inv, Playbook: "hello.yml"})
}
