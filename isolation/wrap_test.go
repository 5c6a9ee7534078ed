package isolation

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// referencePython is the interpreter ansible-runner 2.3.1 is installed for.
const referencePython = "/usr/bin/python3"

// referenceArgv is the command ansible-runner 2.3.1 builds for the same
// settings (RunnerConfig.prepare, nothing started): kwargs is a Python
// dict literal.
func referenceArgv(t *testing.T, pdd, kwargs string) []string {
	t.Helper()
	script := `import json, sys
from ansible_runner.config.runner import RunnerConfig
rc = RunnerConfig(sys.argv[1], playbook='x.yml', process_isolation=True, ` + kwargs + `)
rc.prepare()
print(json.dumps(rc.command))`
	out, err := exec.Command(referencePython, "-c", script, pdd).Output()
	if err != nil {
		t.Skipf("ansible-runner 2.3.1 is not importable by %s: %v", referencePython, err)
	}
	var argv []string
	require.NoError(t, json.Unmarshal(out, &argv))
	return argv
}

// fixture is a private data dir as ansible-runner wants it, and a volume
// source.
func fixture(t *testing.T) (pdd, vol string) {
	t.Helper()
	root := t.TempDir()
	pdd, vol = filepath.Join(root, "pdd"), filepath.Join(root, "vol")
	for _, d := range []string{"project", "inventory", "env", "artifacts"} {
		require.NoError(t, os.MkdirAll(filepath.Join(pdd, d), 0o700))
	}
	require.NoError(t, os.MkdirAll(vol, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "project", "x.yml"), []byte("- hosts: all\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "inventory", "hosts"), []byte("localhost\n"), 0o600))
	return pdd, vol
}

// insertAfter returns s with add inserted after the first occurrence of
// the sequence at.
func insertAfter(t *testing.T, s []string, at []string, add ...string) []string {
	t.Helper()
	for i := 0; i+len(at) <= len(s); i++ {
		if slices.Equal(s[i:i+len(at)], at) {
			return slices.Concat(s[:i+len(at)], add, s[i+len(at):])
		}
	}
	t.Fatalf("%q not in %q", at, s)
	return nil
}

// The container argv is ansible-runner 2.3.1's for the same settings, with
// the documented differences only: the private data dir is also mounted at
// its own path (our inner command names host paths), and, when asked,
// descriptor 3 is passed (podman), values are passed by name from the
// engine's environment, and podman run by another user than root keeps
// its id.
func TestContainerArgvMatchesAnsibleRunner(t *testing.T) {
	pdd, vol := fixture(t)
	for _, engine := range []string{"podman", "docker"} {
		t.Run(engine, func(t *testing.T) {
			ident := "g_" + engine
			ref := referenceArgv(t, pdd, `ident='`+ident+`', process_isolation_executable='`+engine+`',
				container_image='localhost/ee:1', container_volume_mounts=['`+vol+`:/data:Z', '`+vol+`/:/data/:Z'],
				container_options=['--net=none', '--cap-drop=ALL']`)
			inner := ref[slices.Index(ref, "localhost/ee:1")+1:]
			o := Options{Enabled: true, Executable: engine, Image: "localhost/ee:1",
				VolumeMounts: []string{vol + ":/data:Z", vol + "/:/data/:Z"}, ContainerOptions: []string{"--net=none", "--cap-drop=ALL"}}
			run := Run{Argv: inner, Dir: "/runner/project", Env: map[string]string{"FOO": "bar"}, Name: ident,
				PrivateDataDir: pdd, EnvFile: filepath.Join(pdd, "artifacts", ident, "env.list"), TTY: true, UID: os.Getuid()}
			plan, err := o.Wrap(run)
			require.NoError(t, err)
			want := insertAfter(t, ref, []string{"-v", pdd + "/:/runner/:Z"}, "-v", pdd+"/:"+pdd+"/:Z")
			assert.Equal(t, want, plan.Argv)
			assert.Equal(t, "FOO=bar\n", string(plan.EnvFile))

			// What arunner adds: the side band and the event key by name.
			run.Env = map[string]string{"FOO": "bar", "KEY": "k", "FD": "3", "ML": "a\nb"}
			run.PassThrough, run.SideBand = []string{"KEY", "FD"}, "FD"
			plan, err = o.Wrap(run)
			require.NoError(t, err)
			extra := []string{"-e", "FD", "-e", "KEY", "-e", "ML"}
			if engine == "docker" {
				// docker cannot pass a descriptor: the events go in-band.
				extra = []string{"-e", "KEY", "-e", "ML"}
				assert.NotContains(t, plan.Env, "FD")
				assert.NotContains(t, plan.JobEnv, "FD")
			} else {
				assert.Equal(t, "3", plan.JobEnv["FD"])
			}
			assert.Equal(t, "bar", plan.JobEnv["FOO"])
			want = insertAfter(t, want, []string{"--env-file", run.EnvFile}, extra...)
			if engine == "podman" {
				want = insertAfter(t, want, []string{"--quiet"}, "--preserve-fds", "1")
			}
			assert.Equal(t, want, plan.Argv)
			assert.Equal(t, "FOO=bar\n", string(plan.EnvFile), "no secret, no line break in the env file")
			assert.Equal(t, "k", plan.Env["KEY"])
			assert.Equal(t, "a\nb", plan.Env["ML"])
			assert.Equal(t, []string{engine, "kill", "--signal", "INT", "ansible_runner_" + ident}, plan.Kill("INT"))
		})
	}
}

// Without the reference at hand, the argv is still pinned down.
func TestContainerArgv(t *testing.T) {
	pdd, vol := fixture(t)
	o := Options{Enabled: true, Image: "img", VolumeMounts: []string{vol + ":rel:ro"}}
	plan, err := o.Wrap(Run{Argv: []string{"ansible-playbook", "x.yml"}, Dir: pdd + "/project", Name: "a.b",
		PrivateDataDir: pdd, Binds: []string{pdd + "/artifacts", vol, "/nonexistent"}, ReadOnly: []string{"/etc/hostname"},
		EnvFile: "/e", UID: 1000})
	require.NoError(t, err)
	assert.Equal(t, []string{"podman", "run", "--rm", "--interactive", "--workdir", pdd + "/project",
		"-v", pdd + "/:/runner/:Z", "-v", pdd + "/:" + pdd + "/:Z", "-v", vol + ":" + vol, "-v", "/etc/hostname:/etc/hostname:ro",
		"-v", vol + "/:" + pdd + "/project/rel/:ro", "--env-file", "/e", "--quiet", "--userns=keep-id",
		"--name", "ansible_runner_a_b", "img", "ansible-playbook", "x.yml"}, plan.Argv)
	assert.Equal(t, []string{"podman", "rm", "--force", "--time", "0", "ansible_runner_a_b"}, plan.Remove())
}

func TestContainerBadInput(t *testing.T) {
	pdd, vol := fixture(t)
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{Enabled: true}, "container_image: required"},
		{Options{Enabled: true, Image: "i", VolumeMounts: []string{"/nonexistent:/x"}}, "container_volume_mounts: mount source: stat /nonexistent"},
		{Options{Enabled: true, Image: "i", VolumeMounts: []string{vol}}, "want src:dst[:options]"},
		{Options{Enabled: true, Image: "i", VolumeMounts: []string{"/usr:/x"}}, "refusing to mount /usr"},
		{Options{Enabled: true, Image: "i", VolumeMounts: []string{vol + ":/"}}, "refusing to mount /"},
		{Options{Enabled: true, Image: "i", DirectoryIsolationBasePath: "/tmp"}, "not supported"},
	} {
		_, err := tt.o.Wrap(Run{Argv: []string{"x"}, Dir: pdd, PrivateDataDir: pdd})
		require.Error(t, err, "%+v", tt.o)
		assert.Contains(t, err.Error(), tt.want)
	}
}

// The sandbox binds what ansible-runner 2.3.1 binds for the same settings
// (system dirs read-only, the read-only and shown paths, the private data
// dir writable, the same working dir and command), with the documented
// differences: /lib and the other links exist so that programs start, /dev
// is the sandbox's own, /tmp a tmpfs, and a hidden dir a tmpfs rather than
// a stand-in dir left on disk.
func TestSandboxArgvMatchesAnsibleRunner(t *testing.T) {
	pdd, vol := fixture(t)
	hide, ro := t.TempDir(), t.TempDir()
	ref := referenceArgv(t, pdd, `ident='s1', process_isolation_executable='bwrap', process_isolation_path='`+filepath.Dir(pdd)+`',
		process_isolation_hide_paths=['`+hide+`'], process_isolation_ro_paths=['`+ro+`'], process_isolation_show_paths=['`+vol+`']`)
	chdir := slices.Index(ref, "--chdir")
	require.Positive(t, chdir)
	o := Options{Enabled: true, Executable: "bwrap", HidePaths: []string{hide}, ROPaths: []string{ro}, ShowPaths: []string{vol}}
	plan, err := o.Wrap(Run{Argv: ref[chdir+2:], Dir: ref[chdir+1], PrivateDataDir: pdd})
	require.NoError(t, err)
	got := strings.Join(plan.Argv, " ")
	for i := 0; i < chdir; i++ {
		switch ref[i] {
		case "--ro-bind", "--bind":
			src, dst := ref[i+1], ref[i+2]
			if dst == hide {
				assert.Contains(t, got, "--tmpfs "+hide)
				assert.NotContains(t, got, src, "no stand-in on disk")
				continue
			}
			if fi, err := os.Lstat(src); err == nil && fi.Mode()&os.ModeSymlink != 0 {
				assert.Contains(t, got, "--symlink "+mustReadlink(t, src)+" "+dst)
				continue
			}
			assert.Contains(t, got, ref[i]+" "+src+" "+dst)
		}
	}
	assert.Contains(t, got, "--ro-bind "+ro+" "+ro)
	assert.Contains(t, got, "--bind "+vol+" "+vol)
	assert.Contains(t, got, "--tmpfs /tmp")
	if fi, err := os.Lstat("/lib"); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		assert.Contains(t, got, "--symlink "+mustReadlink(t, "/lib")+" /lib", "ansible-runner#1310")
	}
	assert.Equal(t, ref[chdir:], plan.Argv[len(plan.Argv)-len(ref)+chdir:], "same working dir and command")
	assert.Equal(t, "bwrap --die-with-parent --unshare-pid", strings.Join(plan.Argv[:3], " "))
}

func mustReadlink(t *testing.T, p string) string {
	t.Helper()
	s, err := os.Readlink(p)
	require.NoError(t, err)
	return s
}

func TestSandboxBadInput(t *testing.T) {
	pdd, _ := fixture(t)
	for key, o := range map[string]Options{
		"process_isolation_hide_paths": {Enabled: true, Executable: "bwrap", HidePaths: []string{"/nonexistent"}},
		"process_isolation_ro_paths":   {Enabled: true, Executable: "bwrap", ROPaths: []string{"/nonexistent"}},
		"process_isolation_show_paths": {Enabled: true, Executable: "bwrap", ShowPaths: []string{"/nonexistent"}},
	} {
		_, err := o.Wrap(Run{Argv: []string{"x"}, Dir: pdd, PrivateDataDir: pdd})
		var se *SettingError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, key, se.Key)
	}
}

func TestMode(t *testing.T) {
	for exe, want := range map[string]Mode{"": Container, "podman": Container, "docker": Container,
		"bwrap": Sandbox, "/usr/bin/podman": Sandbox} {
		assert.Equal(t, want, (&Options{Enabled: true, Executable: exe}).Mode(), exe)
	}
	assert.Equal(t, None, (&Options{Executable: "bwrap"}).Mode())
	assert.Equal(t, None, (*Options)(nil).Mode())
}
