// Command project-update is AWX's "project update" job kind run through
// arunner: a playbook that checks out a git repository with
// ansible.builtin.git into the private data dir's project/, run by
// runner.Run like any other job, the new revision read from the task's
// event (res.after). The repository is a local one the program creates
// (git init and a commit, then a second commit and a second update), cloned
// over a file:// URL, so nothing leaves the machine.
//
//	go run ./examples/project-update
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/privdata"
	"github.com/arunner/arunner/runner"
)

// updatePlaybook is a small project_update.yml: clone or fast-forward
// scm_url into project_path at scm_branch.
const updatePlaybook = `- hosts: localhost
  gather_facts: false
  connection: local
  tasks:
    - name: update project using git
      ansible.builtin.git:
        repo: "{{ scm_url }}"
        dest: "{{ project_path }}"
        version: "{{ scm_branch }}"
        force: true
      register: git_result
`

const inventory = "localhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n"

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer) error {
	base, err := os.MkdirTemp("", "project-update-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)

	// The upstream repository.
	repo := filepath.Join(base, "upstream")
	first, err := commit(ctx, repo, "site.yml", "- hosts: all\n  tasks: []\n", true)
	if err != nil {
		return err
	}

	// The private data dir: an inventory, and the update playbook. The
	// playbook stays out of project/, which the update clones into, and
	// Layout has no field for other paths, so it is written by hand.
	pdd := filepath.Join(base, "pdd")
	if _, err := privdata.Write(pdd, privdata.Layout{Inventory: privdata.Inventory{Content: inventory}}); err != nil {
		return err
	}
	playbook := filepath.Join(pdd, "updates", "project_update.yml")
	if err := os.MkdirAll(filepath.Dir(playbook), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(playbook, []byte(updatePlaybook), 0o600); err != nil {
		return err
	}

	rev, err := update(ctx, pdd, "file://"+repo)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "checked out %s (upstream %s)\n", short(rev.after), short(first))

	second, err := commit(ctx, repo, "README", "now with a README\n", false)
	if err != nil {
		return err
	}
	rev, err = update(ctx, pdd, "file://"+repo)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "updated %s -> %s (upstream %s, changed=%t)\n", short(rev.before), short(rev.after), short(second), rev.changed)
	if _, err := os.Stat(filepath.Join(pdd, "project", "README")); err != nil {
		return fmt.Errorf("the project was not updated: %w", err)
	}
	return nil
}

type revision struct {
	before, after string
	changed       bool
}

// update runs the project update job and reads the git task's result from
// its event as it arrives.
func update(ctx context.Context, pdd, url string) (revision, error) {
	var rev revision
	var decodeErr error
	_, err := runner.Run(ctx, runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.Playbook{Path: filepath.Join(pdd, "updates", "project_update.yml")},
		ExtraVars: map[string]any{
			"scm_url":      url,
			"scm_branch":   "HEAD",
			"project_path": filepath.Join(pdd, "project"),
		},
		EventHandler: func(ev *events.Event) bool {
			if ev.Event == events.RunnerOnOK && ev.TaskAction() == "ansible.builtin.git" {
				var res struct {
					Before  *string `json:"before"`
					After   string  `json:"after"`
					Changed bool    `json:"changed"`
				}
				if decodeErr = json.Unmarshal(ev.Res(), &res); decodeErr == nil {
					rev.after, rev.changed = res.After, res.Changed
					if res.Before != nil {
						rev.before = *res.Before
					}
				}
			}
			return true
		},
	})
	if err != nil {
		return rev, err
	}
	if decodeErr != nil {
		return rev, decodeErr
	}
	if rev.after == "" {
		return rev, errors.New("no runner_on_ok event from the git task")
	}
	return rev, nil
}

// commit writes one file in repo and commits it, creating the repository
// first when init is set; it returns the new commit's hash.
func commit(ctx context.Context, repo, name, body string, init bool) (string, error) {
	git := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "git", append([]string{"-C", repo,
			"-c", "user.name=arunner", "-c", "user.email=arunner@localhost",
			"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	if init {
		if err := os.MkdirAll(repo, 0o700); err != nil {
			return "", err
		}
		if _, err := git("init", "-q"); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(repo, name), []byte(body), 0o600); err != nil {
		return "", err
	}
	if _, err := git("add", name); err != nil {
		return "", err
	}
	if _, err := git("commit", "-q", "-m", "add "+name); err != nil {
		return "", err
	}
	return git("rev-parse", "HEAD")
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
