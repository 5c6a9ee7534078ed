package runner

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/conformance"
	"github.com/arunner/arunner/isolation"
)

// isolationPlay exercises what a local run has: facts gathered and cached,
// a module run (command), a registered result, a file written to the
// private data dir, and a prompt answered through the terminal.
var isolationFiles = map[string]string{
	"inventory/hosts": "h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
	"project/site.yml": `- hosts: all
  gather_facts: false
  vars_prompt:
  - name: answer
    prompt: "Say the word"
    private: true
  tasks:
  - command: cat {{ playbook_dir }}/data.txt
    register: r
  - debug: msg="{{ r.stdout }} {{ answer }}"
  - set_fact: {cached: 42, cacheable: true}
  - shell: echo written > {{ playbook_dir }}/out.txt
`,
	"project/data.txt": "from the project\n",
}

func needBwrap(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bubblewrap is not installed (make deps-test installs it)")
	}
	if out, err := exec.Command("bwrap", "--unshare-pid", "--ro-bind", "/", "/", "true").CombinedOutput(); err != nil {
		t.Skipf("bubblewrap cannot create namespaces on this machine: %v: %s", err, out)
	}
}

// isolatedRun runs isolationFiles in a fresh private data dir with iso and
// returns the run's artifacts as conformance reads them.
func isolatedRun(t *testing.T, iso *isolation.Options, ident string) (*Result, conformance.Run) {
	t.Helper()
	pdd := t.TempDir()
	writeTree(t, pdd, isolationFiles)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{
		PrivateDataDir: pdd, Ident: ident, Target: Playbook{Path: "site.yml"}, Isolation: iso,
		Passwords: []Password{{Pattern: "Say the word", Response: "bird"}},
	})
	require.NoError(t, err)
	return res, conformance.ReadArtifacts(t, res.ArtifactDir)
}

// A run under bubblewrap gives the same events, stdout, stats and
// artifacts as the same run on the host.
func TestBubblewrapRunMatchesHost(t *testing.T) {
	needAnsible(t)
	needBwrap(t)
	t.Parallel()
	hostRes, host := isolatedRun(t, nil, "host")
	res, boxed := isolatedRun(t, &isolation.Options{Enabled: true, Executable: "bwrap"}, "boxed")

	assert.Equal(t, "bwrap", res.Command[0], "the run was sandboxed")
	assert.Equal(t, StatusSuccessful, res.Status)
	assert.Contains(t, boxed.Stdout, "from the project bird")
	assert.Positive(t, res.sideRecords)
	assert.Equal(t, hostRes.sideRecords, res.sideRecords, "the events came through descriptor 3, as on the host")
	conformance.CompareEventData(t, boxed, host, conformance.Options{NoCommand: true})
	conformance.Compare(t, boxed, host, conformance.Options{NoCommand: true})
	pdd := filepath.Dir(filepath.Dir(res.ArtifactDir))
	assert.Equal(t, "written\n", readTrim(t, filepath.Join(pdd, "project", "out.txt"))+"\n", "the project is writable")
	assert.FileExists(t, filepath.Join(res.ArtifactDir, "fact_cache", "h1"), "the fact cache is on the host")
	assert.NoDirExists(t, filepath.Join(res.ArtifactDir, ".arunner"), "the run's private dir is removed")
}

// The sandbox is one: the host's /tmp is not there, hidden paths are
// empty, read-only paths cannot be written, the host's system dirs cannot
// be written.
func TestBubblewrapSandbox(t *testing.T) {
	needAnsible(t)
	needBwrap(t)
	t.Parallel()
	secretDir := t.TempDir() // in the host's /tmp
	must(t, os.WriteFile(filepath.Join(secretDir, "secret"), []byte("s3cret"), 0o600))
	roDir := t.TempDir()
	showDir := t.TempDir()
	pdd := t.TempDir()
	writeTree(t, pdd, map[string]string{
		"inventory/hosts": "h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
		"project/probe.yml": `- hosts: all
  gather_facts: false
  tasks:
  - shell: |
      test -e ` + secretDir + `/secret && echo tmp-visible
      ls /etc/ssh 2>/dev/null | head -1 | grep -q . && echo hidden-visible
      touch ` + roDir + `/x 2>/dev/null && echo ro-writable
      touch /usr/x 2>/dev/null && echo usr-writable
      touch ` + showDir + `/x && echo show-writable
      echo done
    register: p
  - debug: var=p.stdout_lines
`,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{PrivateDataDir: pdd, Ident: "probe", Target: Playbook{Path: "probe.yml"}, Isolation: &isolation.Options{
		Enabled: true, Executable: "bwrap", HidePaths: []string{"/etc/ssh"}, ROPaths: []string{roDir}, ShowPaths: []string{showDir},
	}})
	require.NoError(t, err)
	out := readArtifact(t, res, "stdout")
	assert.Contains(t, out, "show-writable")
	for _, leak := range []string{"tmp-visible", "hidden-visible", "ro-writable", "usr-writable"} {
		assert.NotContains(t, out, leak)
	}
	assert.FileExists(t, filepath.Join(showDir, "x"))
}

// Bad isolation settings end the run with status error before ansible
// starts, never on the host.
func TestIsolationBadInput(t *testing.T) {
	needBwrap(t)
	fakeNS := filepath.Join(t.TempDir(), "bwrap-no-ns")
	must(t, os.WriteFile(fakeNS, []byte("#!/bin/sh\necho 'bwrap: Creating new namespace failed: Operation not permitted' >&2\nexit 1\n"), 0o755))
	for name, tt := range map[string]struct {
		iso  isolation.Options
		want string
	}{
		"engine missing": {isolation.Options{Enabled: true, Executable: "podman", Image: "x"}, "podman not found"},
		"bwrap missing":  {isolation.Options{Enabled: true, Executable: "/nonexistent/bwrap"}, "/nonexistent/bwrap not found"},
		"no namespaces":  {isolation.Options{Enabled: true, Executable: fakeNS}, "Creating new namespace failed"},
		"hide path":      {isolation.Options{Enabled: true, Executable: "bwrap", HidePaths: []string{"/nonexistent"}}, "process_isolation_hide_paths: /nonexistent"},
		"dir isolation":  {isolation.Options{Enabled: true, Executable: "bwrap", DirectoryIsolationBasePath: "/tmp"}, "not supported"},
		"mount source":   {isolation.Options{Enabled: true, Executable: "podman", Image: "x", VolumeMounts: []string{"/nonexistent:/x"}}, "container_volume_mounts: mount source: stat /nonexistent"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := fakeConfig(t, "env")
			started := filepath.Join(t.TempDir(), "started")
			cfg.EnvVars["FAKE_OUT"] = started
			cfg.Isolation = &tt.iso
			switch name {
			case "engine missing":
				t.Setenv("PATH", t.TempDir())
			case "mount source":
				if _, err := exec.LookPath("podman"); err != nil {
					t.Skip("podman is not installed: the missing engine would be the error")
				}
			}
			res, err := Run(context.Background(), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, StatusError, res.Status)
			assert.NoFileExists(t, started, "ansible ran")
			assert.NoFileExists(t, filepath.Join(res.ArtifactDir, "command"), "nothing was started")
			assert.Contains(t, readArtifact(t, res, "stdout"), tt.want)
		})
	}
}

// Cancel and job timeout reach the whole sandbox: nothing of the run is
// left, even a child that ignores SIGINT.
func TestBubblewrapStopLeavesNothing(t *testing.T) {
	needBwrap(t)
	t.Parallel()
	for _, mode := range []string{"sleep", "ignoreint"} {
		t.Run(mode, func(t *testing.T) {
			cfg := fakeConfig(t, mode)
			cfg.Isolation = &isolation.Options{Enabled: true, Executable: "bwrap"}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			want := StatusCanceled
			if mode == "ignoreint" {
				cfg.JobTimeout, want = time.Second, StatusTimeout
			} else {
				time.AfterFunc(time.Second, cancel)
			}
			// While it runs, the check below sees it: it can fail.
			seen := make(chan int, 1)
			time.AfterFunc(700*time.Millisecond, func() {
				ps, _ := exec.Command("ps", "-eo", "pid,args").Output()
				seen <- strings.Count(string(ps), cfg.PrivateDataDir)
			})
			res, err := Run(ctx, cfg)
			require.Error(t, err)
			assert.Equal(t, want, res.Status)
			assert.Equal(t, "bwrap", res.Command[0])
			assert.Positive(t, <-seen, "the run's processes, seen while it ran")
			// Every process of the run has the private data dir in its
			// command line (-i <pdd>/inventory).
			ps, err := exec.Command("ps", "-eo", "pid,args").Output()
			require.NoError(t, err)
			for _, l := range strings.Split(string(ps), "\n") {
				assert.NotContains(t, l, cfg.PrivateDataDir, "a process was left behind")
			}
		})
	}
}
