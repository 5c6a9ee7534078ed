package cmdbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runAnsible executes argv with ansible-core, keeping its temp and home
// files inside the test's directory, and returns the combined output.
func runAnsible(t *testing.T, dir string, argv []string) string {
	t.Helper()
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"ANSIBLE_HOME="+filepath.Join(dir, ".ansible"),
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"),
		"ANSIBLE_NOCOLOR=1",
		"ANSIBLE_LOCALHOST_WARNING=0",
	)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s\n%s", Quote(argv), out)
	return string(out)
}

// TestAnsiblePlaybookAcceptsArgs checks with real ansible-core that every
// non-prompting flag parses, including the "--opt=-value" and "--" forms
// used for values that start with a dash.
func TestAnsiblePlaybookAcceptsArgs(t *testing.T) {
	dir := t.TempDir()
	play := "- hosts: all\n  gather_facts: false\n  tasks:\n" +
		"    - name: first\n      debug: {msg: one}\n      tags: [-t]\n" +
		"    - name: second\n      debug: {msg: two}\n      tags: [other]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "-site.yml"), []byte(play), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "vars.yml"), []byte("x: 1\n"), 0o600))
	argv, err := Playbook{
		Cmdline:        []string{"--list-tasks"},
		Inventory:      []string{"localhost,"},
		ExtraVarsFiles: []string{"vars.yml"},
		Tags:           []string{"-t"},
		SkipTags:       []string{"never"},
		StartAtTask:    "second",
		ForceHandlers:  true,
		Playbook:       "-site.yml",
		Switches:       Switches{Limit: "localhost", Verbosity: 1, Forks: 2, Check: true, Diff: true, Become: true, BecomeMethod: "sudo", BecomeUser: "root", User: "-me", Timeout: 5},
	}.Args()
	require.NoError(t, err)
	require.Contains(t, argv, "--")
	out := runAnsible(t, dir, argv)
	// --list-tasks ignores --start-at-task, so the tag filter is what
	// shows the dash-valued --tags reached ansible as a value.
	assert.Contains(t, out, "first\tTAGS: [-t]")
	assert.NotContains(t, out, "second\tTAGS", "--tags=-t was not applied")
}

func TestAnsibleAdHocRuns(t *testing.T) {
	dir := t.TempDir()
	argv, err := AdHoc{
		Cmdline:   []string{"-c", "local"},
		Inventory: []string{"localhost,"},
		// debug runs on the controller: no module shipping, so the test
		// stays fast while still going through ansible's full CLI.
		Module:      "debug",
		ModuleArgs:  "msg=arunner-42",
		HostPattern: "localhost",
		Switches:    Switches{Forks: 1, Timeout: 5},
	}.Args()
	require.NoError(t, err)
	out := runAnsible(t, dir, argv)
	assert.Contains(t, out, "arunner-42")
}

func TestAnsibleInventoryHost(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hosts"), []byte("web1 color=blue\n"), 0o600))
	argv, err := Inventory{
		Binary: "ansible-inventory", Action: "host", Host: "web1",
		Inventory: []string{"hosts"}, Yaml: true, PlaybookDir: dir,
	}.Args()
	require.NoError(t, err)
	out := runAnsible(t, dir, argv)
	assert.Equal(t, "color: blue", strings.TrimSpace(out))
}
