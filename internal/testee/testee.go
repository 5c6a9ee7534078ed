// Package testee gives tests a local execution-environment image for podman:
// built once per test binary from the host's own python3 and ansible-core
// (testdata/isolation/ee-image.sh; no registry is needed), with a
// containers.conf that makes rootful podman work on machines whose crun
// fails on the cgroup setup. A test that needs it calls Image; the test
// binary's TestMain calls Cleanup after the tests.
package testee

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var image struct {
	once  sync.Once
	name  string // set once a build was tried
	dir   string // holds containers.conf
	built bool
	skip  string // why podman cannot run here
}

// containersConf: runc, cgroupfs and no default ulimits, for this test
// binary only (CONTAINERS_CONF); the machine's own configuration is left
// alone.
const containersConf = `[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
`

// Image returns the shared image's name, or skips t saying exactly why
// podman cannot run it here. It sets CONTAINERS_CONF in this process's
// environment, which podman started by the runner inherits.
func Image(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (apt-get install podman runc)")
	}
	image.once.Do(build)
	if image.skip != "" {
		t.Skip(image.skip)
	}
	return image.name
}

func build() {
	dir, err := os.MkdirTemp("", "arunner-podman-")
	if err != nil {
		image.skip = err.Error()
		return
	}
	image.dir = dir
	conf := filepath.Join(dir, "containers.conf")
	if err := os.WriteFile(conf, []byte(containersConf), 0o600); err != nil {
		image.skip = err.Error()
		return
	}
	os.Setenv("CONTAINERS_CONF", conf)
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "testdata", "isolation", "ee-image.sh")
	name := fmt.Sprintf("localhost/arunner-ee-test:t%d", os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", script, name).CombinedOutput()
	image.built, image.name = true, name
	if err != nil {
		image.skip = fmt.Sprintf("building the image failed: %v: %s", err, Tail(out))
		return
	}
	out, err = exec.CommandContext(ctx, "podman", "run", "--rm", name, "/usr/bin/python3", "-c", "pass").CombinedOutput()
	if err != nil {
		image.skip = fmt.Sprintf("podman cannot run a container here: %v: %s", err, Tail(out))
	}
}

// Cleanup removes the image and its configuration, if Image built them.
func Cleanup() {
	if image.built {
		_ = exec.Command("podman", "rmi", "--force", image.name).Run()
	}
	if image.dir != "" {
		os.RemoveAll(image.dir)
	}
}

// Left lists the containers of the run ident that are still there.
func Left(t testing.TB, ident string) string {
	t.Helper()
	out, err := exec.Command("podman", "ps", "--all", "--format", "{{.Names}}", "--filter", "name=ansible_runner_"+ident).CombinedOutput()
	if err != nil {
		t.Fatalf("podman ps: %v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// Tail is the end of a command's output, short enough for a message.
func Tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = "..." + s[len(s)-500:]
	}
	return s
}
