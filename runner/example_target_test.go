package runner_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/inventory"
	"github.com/arunner/arunner/runner"
)

// The README's "Use it from Go", as written there (TestReadmeExample keeps
// the two the same).
func ExampleRun_readme() {
	ctx, pw := context.Background(), os.Getenv("VAULT_PASSWORD")
	// README begin
	res, err := runner.Run(ctx, runner.Config{
		PrivateDataDir: "/srv/jobs/42", // ansible-runner's layout
		Target: runner.Playbook{
			Path:     "site.yml", // or Content: the playbook itself
			Switches: runner.Switches{Limit: "web", Check: true},
		},
		Inventory:     runner.Inventory{Text: "[web]\nweb1 ansible_host=127.0.0.1\n"}, // or Sources, or Model
		ExtraVars:     map[string]any{"release": "2.4.1"},                             // 0600 file, -e @file
		Credentials:   []credentials.Credential{credentials.Vault{VaultPassword: pw}},
		EventHandler:  func(ev *events.Event) bool { log.Println(ev.Event, ev.Host()); return true },
		StatusHandler: func(u runner.StatusUpdate) { log.Println(u.Status) },
	})
	var exitErr *runner.ExitError // errors.As: rc and status of a failed playbook, the signal if one killed it
	// README end
	if errors.As(err, &exitErr) {
		log.Fatalf("rc %d", exitErr.RC)
	}
	fmt.Println(res.Status)
}

// examplePDD is a private data dir with project/site.yml, for the examples
// that show a plan.
func examplePDD() string {
	pdd, err := os.MkdirTemp("", "example-")
	if err != nil {
		log.Fatal(err)
	}
	os.Mkdir(filepath.Join(pdd, "project"), 0o700)
	os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte("- hosts: all\n  tasks: []\n"), 0o600)
	return pdd
}

// Prepare shows what a run would do, and starts nothing: this is what
// `arunner run --dry-run` prints.
func ExamplePrepare() {
	pdd := examplePDD()
	defer os.RemoveAll(pdd)
	plan, err := runner.Prepare(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.Playbook{Path: "site.yml", Switches: runner.Switches{Limit: "web", Check: true}},
		Inventory:      runner.Inventory{Sources: []string{"web1,web2,"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Join(plan.Command.Argv, " "))
	fmt.Println(plan.Command.Dir == filepath.Join(pdd, "project"))
	_, err = os.Stat(plan.ArtifactDir)
	fmt.Println(errors.Is(err, os.ErrNotExist))
	// Output:
	// ansible-playbook -i web1,web2, --limit web --check site.yml
	// true
	// true
}

// A playbook given as data runs from a file of its own in the project dir,
// removed after the run.
func ExamplePlaybook_inline() {
	pdd := examplePDD()
	defer os.RemoveAll(pdd)
	plan, err := runner.Prepare(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.Playbook{Content: []byte("- hosts: localhost\n  tasks:\n    - ping:\n")},
		Inventory:      runner.Inventory{None: true},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range plan.Files {
		if strings.HasPrefix(f.Path, plan.Command.Dir) {
			fmt.Println(f.What, f.Mode)
		}
	}
	// Output:
	// inline playbook -rw-------
}

// An ad hoc module runs in the private data dir, against Hosts.
func ExampleAdHoc() {
	pdd := examplePDD()
	defer os.RemoveAll(pdd)
	plan, err := runner.Prepare(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.AdHoc{Module: "shell", Args: "uptime", Hosts: "web", Switches: runner.Switches{Become: true}},
		Inventory:      runner.Inventory{Sources: []string{"web1,"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Join(plan.Command.Argv, " "))
	fmt.Println(plan.Command.Dir == pdd)
	// Output:
	// ansible -i web1, --become -m shell -a uptime web
	// true
}

// A role runs through a generated one-play playbook; RolesPath goes before
// the private data dir's roles/.
func ExampleRole() {
	pdd := examplePDD()
	defer os.RemoveAll(pdd)
	plan, err := runner.Prepare(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.Role{Name: "nginx", Vars: map[string]any{"port": 8080}, Hosts: "web", RolesPath: []string{"/srv/roles"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(plan.Command.Argv[0], strings.HasPrefix(plan.Command.Argv[1], "arunner-role-"))
	fmt.Println(strings.TrimSuffix(plan.Command.Env["ANSIBLE_ROLES_PATH"], filepath.Join(pdd, "roles")))
	// Output:
	// ansible-playbook true
	// /srv/roles:
}

// RawCommand runs any ansible CLI whole, as ansible-runner's run_command.
func ExampleRawCommand() {
	pdd := examplePDD()
	defer os.RemoveAll(pdd)
	_, err := runner.Prepare(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.RawCommand{Argv: []string{"ansible-inventory", "--graph"}},
		Inventory:      runner.Inventory{Sources: []string{"hosts"}}, // the command line is whole
	})
	fmt.Println(err)
	// Output:
	// Inventory: does not apply to a RawCommand, whose command line is whole (set: Inventory)
}

// An inventory can be given as the inventory package models it, for this
// run only: the private data dir's inventory/ is left as it is.
func ExampleInventory() {
	inv := inventory.New()
	inv.AddHost("web1", "web").Vars = map[string]any{"ansible_host": "127.0.0.1"}
	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: "/srv/jobs/44",
		Target:         runner.Playbook{Path: "site.yml"},
		Inventory:      runner.Inventory{Model: inv},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status)
}

// A project bundled in the program (an embed.FS, here a directory) is
// copied for the run, which works in the copy.
func ExampleConfig_projectFS() {
	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: "/srv/jobs/45",
		ProjectFS:      os.DirFS("/srv/projects/web"),
		Target:         runner.Playbook{Path: "site.yml"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status)
}
