package runner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/conformance"
	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/internal/testee"
	"github.com/arunner/arunner/internal/testsshd"
	"github.com/arunner/arunner/isolation"
)

// needPodman returns the shared execution-environment image, or skips the
// test saying exactly why podman cannot run it here.
func needPodman(t *testing.T) string {
	t.Helper()
	needAnsible(t)
	return testee.Image(t)
}

// podmanLeft lists the containers of ident that are still there.
func podmanLeft(t *testing.T, ident string) string { return testee.Left(t, ident) }

// A real playbook in a container from a locally built image gives the same
// events, stdout, stats and artifacts as on the host: the prompt is
// answered through the engine's terminal, the events come through the
// side band (descriptor 3 passed in), the files it writes are on the host.
func TestPodmanRunMatchesHost(t *testing.T) {
	image := needPodman(t)
	t.Parallel()
	hostRes, host := isolatedRun(t, nil, "host")
	res, boxed := isolatedRun(t, &isolation.Options{Enabled: true, Image: image}, "pod")

	assert.Equal(t, "podman", res.Command[0], "the run was in a container")
	assert.Contains(t, res.Command, "--preserve-fds")
	assert.Equal(t, StatusSuccessful, res.Status)
	assert.Contains(t, boxed.Stdout, "from the project bird")
	assert.Empty(t, res.FrameErrors)
	assert.Positive(t, res.sideRecords)
	assert.Equal(t, hostRes.sideRecords, res.sideRecords, "the events came through descriptor 3, as on the host")
	conformance.CompareEventData(t, boxed, host, conformance.Options{NoCommand: true})
	conformance.Compare(t, boxed, host, conformance.Options{NoCommand: true})
	pdd := filepath.Dir(filepath.Dir(res.ArtifactDir))
	assert.Equal(t, "written", readTrim(t, filepath.Join(pdd, "project", "out.txt")), "the project is writable")
	assert.FileExists(t, filepath.Join(res.ArtifactDir, "fact_cache", "h1"), "the fact cache is on the host")
	assert.NoDirExists(t, filepath.Join(res.ArtifactDir, ".arunner"), "the env file and the run's private dir are removed")
	// The command artifact records the container's environment, as
	// ansible-runner's does, not the engine's (the host's).
	assert.Equal(t, "1", boxed.Command.Env["PYTHONUNBUFFERED"])
	assert.NotContains(t, boxed.Command.Env, "PATH")
	assert.NotContains(t, boxed.Command.Env, eventproto.KeyEnv)
	assert.Empty(t, podmanLeft(t, "pod"))
}

// Cancel and job timeout stop the playbook in the container, and leave no
// container and no process behind.
func TestPodmanStopLeavesNothing(t *testing.T) {
	image := needPodman(t)
	t.Parallel()
	for _, how := range []string{"cancel", "timeout"} {
		t.Run(how, func(t *testing.T) {
			pdd := t.TempDir()
			marker := fmt.Sprintf("%d.%d", os.Getpid(), time.Now().UnixNano()%1000000)
			writeTree(t, pdd, map[string]string{
				"inventory/hosts":  "h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
				"project/site.yml": "- hosts: all\n  gather_facts: false\n  tasks:\n  - command: sleep 6" + marker + "\n",
			})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cfg := Config{PrivateDataDir: pdd, Ident: how, Target: Playbook{Path: "site.yml"}, CancelGrace: 2 * time.Second,
				Isolation: &isolation.Options{Enabled: true, Image: image}}
			if how == "timeout" {
				cfg.JobTimeout = 4 * time.Second
			} else {
				cfg.EventHandler = func(ev *events.Event) bool {
					if ev.Event == "runner_on_start" {
						time.AfterFunc(time.Second, cancel)
					}
					return true
				}
			}
			begin := time.Now()
			res, err := Run(ctx, cfg)
			require.Error(t, err)
			want := map[string]Status{"cancel": StatusCanceled, "timeout": StatusTimeout}[how]
			assert.Equal(t, want, res.Status)
			assert.Equal(t, rcStopped, res.RC)
			assert.Less(t, time.Since(begin), 40*time.Second)
			assert.Empty(t, podmanLeft(t, how), "a container was left behind")
			ps, _ := exec.Command("ps", "-eo", "pid,args").Output()
			for _, l := range strings.Split(string(ps), "\n") {
				assert.NotContains(t, l, "sleep 6"+marker, "a process was left behind")
			}
		})
	}
}

// A missing image is an error before the run, with status error: never a
// failed run, never the host.
func TestPodmanMissingImage(t *testing.T) {
	needPodman(t)
	t.Parallel()
	cfg := fakeConfig(t, "env")
	started := filepath.Join(cfg.PrivateDataDir, "started")
	cfg.EnvVars["FAKE_OUT"] = started
	cfg.Isolation = &isolation.Options{Enabled: true, Image: "localhost/arunner-no-such-image:1"}
	res, err := Run(context.Background(), cfg)
	require.ErrorIs(t, err, ErrIsolationUnavailable)
	assert.Contains(t, err.Error(), "image localhost/arunner-no-such-image:1 is not there and could not be pulled")
	assert.Equal(t, StatusError, res.Status)
	assert.NoFileExists(t, started)
	assert.Empty(t, podmanLeft(t, res.Ident))
}

// Credentials work inside as on the host: a machine credential's key is
// served by the runner's agent, whose socket is mounted in, to ssh in the
// sandbox and in the container (on the host's network, where the test's
// sshd listens on loopback); a custom credential's file (in the run's
// private dir, mounted, never copied into an image), env and extra vars
// reach the playbook; nothing is left after the run.
func TestIsolatedSSHKey(t *testing.T) {
	needBinaries(t, "ssh")
	priv, pub := testsshd.GenerateKey(t, "")
	srv := testsshd.Start(t, pub)
	const playbook = "- hosts: all\n  gather_facts: false\n  tasks:\n  - name: remote\n    command: echo reached-over-ssh\n" +
		"  - name: file\n    debug: msg={{ lookup('file', lookup('env', 'TOKEN_FILE')) | length }}\n" +
		"  - name: var\n    debug: msg={{ api_token | length }}\n"
	const token = "tok-secret-2207"
	ct, err := credentials.ParseCredentialType([]byte("fields: [{id: token, secret: true}]"),
		[]byte("file: {template: '{{ token }}'}\nenv: {TOKEN_FILE: '{{ tower.filename }}'}\nextra_vars: {api_token: '{{ token }}'}"))
	require.NoError(t, err)
	for _, engine := range []string{"bwrap", "podman"} {
		t.Run(engine, func(t *testing.T) {
			cfg := realConfig(t, playbook, sshInventory(srv, ""))
			cfg.Isolation = &isolation.Options{Enabled: true, Executable: engine}
			if engine == "podman" {
				cfg.Isolation.Image = needPodman(t)
				cfg.Isolation.ContainerOptions = []string{"--network=host"}
			} else {
				needBwrap(t)
			}
			cfg.Credentials = []credentials.Credential{credentials.Machine{Username: srv.User, SSHKeyData: string(priv)},
				credentials.Custom{Type: ct, Inputs: map[string]any{"token": token}}}
			res, err := runTracked(t, cfg, pemLine(t, priv), token)
			require.NoError(t, err)
			assert.Equal(t, engine, res.Command[0])
			assert.Equal(t, "reached-over-ssh", taskResult(t, res, "remote")["stdout"])
			assert.Equal(t, fmt.Sprint(len(token)), taskResult(t, res, "file")["msg"], "the credential's file, mounted")
			assert.Equal(t, fmt.Sprint(len(token)), taskResult(t, res, "var")["msg"], "the credential's extra vars")
		})
	}
}

// Without a pty (the helpers' mode), the container gets no --tty, stdout
// comes through the engine's pipe.
func TestPodmanNoPTY(t *testing.T) {
	image := needPodman(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{PrivateDataDir: t.TempDir(), Target: RawCommand{Argv: []string{"ansible", "--version"}}, NoPTY: true,
		Isolation: &isolation.Options{Enabled: true, Image: image}})
	require.NoError(t, err)
	assert.NotContains(t, res.Command, "--tty")
	assert.Contains(t, readArtifact(t, res, "stdout"), "ansible [core 2.14")
	assert.Empty(t, podmanLeft(t, res.Ident))
}
