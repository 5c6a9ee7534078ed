package isolation_test

import (
	"fmt"
	"strings"

	"github.com/arunner/arunner/isolation"
)

// Options.Wrap puts a run's command in a podman container, as
// ansible-runner builds it; nothing is started.
func ExampleOptions_Wrap() {
	opts := isolation.Options{Enabled: true, Image: "localhost/ee:1", ContainerOptions: []string{"--network=host"}}
	plan, err := opts.Wrap(isolation.Run{
		Argv:           []string{"ansible-playbook", "-i", "/srv/pdd/inventory", "site.yml"},
		Dir:            "/srv/pdd/project",
		Env:            map[string]string{"FOO": "bar"},
		Name:           "job-42",
		PrivateDataDir: "/srv/pdd",
		EnvFile:        "/srv/pdd/artifacts/job-42/.arunner/env.list",
		TTY:            true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Join(plan.Argv, " "))
	fmt.Printf("%s", plan.EnvFile)
	fmt.Println(strings.Join(plan.Remove(), " "))
	// Output:
	// podman run --rm --tty --interactive --workdir /srv/pdd/project -v /srv/pdd/:/runner/:Z -v /srv/pdd/:/srv/pdd/:Z --env-file /srv/pdd/artifacts/job-42/.arunner/env.list --quiet --name ansible_runner_job-42 --network=host localhost/ee:1 ansible-playbook -i /srv/pdd/inventory site.yml
	// FOO=bar
	// podman rm --force --time 0 ansible_runner_job-42
}

// A value of the wrong type in env/settings is an error naming the key.
func ExampleFromSettings() {
	_, err := isolation.FromSettings(map[string]any{"process_isolation": true, "process_isolation_hide_paths": "/root"}, isolation.Options{})
	fmt.Println(err)
	// Output:
	// process_isolation_hide_paths: want a list of strings, got string
}
