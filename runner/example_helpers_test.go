package runner_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/arunner/arunner/runner"
)

// GetInventory runs ansible-inventory on the sources and returns the typed
// model; groups and host vars are read without re-implementing ansible's
// inventory plugins.
func ExampleGetInventory() {
	dir, err := os.MkdirTemp("", "inv")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	hosts := filepath.Join(dir, "hosts")
	ini := "[web]\nweb1 ansible_host=127.0.0.1\nweb2:2222\n[db]\ndb1\n[prod:children]\nweb\ndb\n"
	if err := os.WriteFile(hosts, []byte(ini), 0o600); err != nil {
		log.Fatal(err)
	}

	// An empty PrivateDataDir: a temporary one is used and removed.
	inv, _, err := runner.GetInventory(context.Background(), runner.Config{}, hosts)
	if err != nil {
		log.Fatal(err) // a *runner.CommandError carries ansible's message
	}
	fmt.Println(inv.GroupHosts("prod"))
	fmt.Println(inv.AllGroups("db1"))
	fmt.Println(inv.Hosts["web2"].Vars["ansible_port"])
	// Output:
	// [db1 web1 web2]
	// [db prod]
	// 2222
}

// GetAnsibleConfig shows the settings in effect, here only those changed
// from ansible's defaults; the run's env applies.
func ExampleGetAnsibleConfig() {
	out, _, err := runner.GetAnsibleConfig(context.Background(), runner.Config{
		EnvVars: map[string]string{"ANSIBLE_FORKS": "17"},
	}, "dump", true)
	if err != nil {
		log.Fatal(err)
	}
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "DEFAULT_FORKS") {
			fmt.Print(line)
		}
	}
	// Output:
	// DEFAULT_FORKS(env: ANSIBLE_FORKS) = 17
}

// RunCommand runs any ansible CLI under the runner and returns its output.
func ExampleRunCommand() {
	stdout, _, res, err := runner.RunCommand(context.Background(), runner.Config{},
		"ansible-galaxy", "collection", "list", "--format", "json")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, len(stdout) > 0)
}

// GetPluginDocs returns ansible-doc's JSON for the named plugins.
func ExampleGetPluginDocs() {
	docs, _, err := runner.GetPluginDocs(context.Background(), runner.Config{}, "module", "ansible.builtin.ping")
	if err != nil {
		log.Fatal(err)
	}
	ping := docs["ansible.builtin.ping"].(map[string]any)
	fmt.Println(ping["doc"].(map[string]any)["short_description"])
}

// GetPluginList lists plugins of a type, here the lookups of one collection.
func ExampleGetPluginList() {
	lookups, _, err := runner.GetPluginList(context.Background(), runner.Config{}, "lookup", "ansible.builtin")
	if err != nil {
		log.Fatal(err)
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range lookups {
			if !yield(name) {
				return
			}
		}
	})
	fmt.Println(names[:3])
}

// GetRoleList lists the roles next to a playbook, with their entry points.
func ExampleGetRoleList() {
	roles, _, err := runner.GetRoleList(context.Background(), runner.Config{}, "", "/srv/project")
	if err != nil {
		log.Fatal(err)
	}
	for name, role := range roles {
		fmt.Println(name, role.(map[string]any)["entry_points"])
	}
}

// GetRoleArgspec returns a role's meta/argument_specs.yml as ansible-doc
// reads it.
func ExampleGetRoleArgspec() {
	spec, _, err := runner.GetRoleArgspec(context.Background(), runner.Config{}, "webserver", "", "/srv/project")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(spec["webserver"])
}
