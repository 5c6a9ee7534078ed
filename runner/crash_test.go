package runner

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/credentials"
)

// Secrets the crashing embedder hands its run.
const (
	crashExtraVar = "crash-extra-var-value"
	crashTFConfig = "crash-terraform-config"
	crashRoleVar  = "crash-role-var-value"
)

func init() {
	// An embedding program: it runs the "sleep" fake with extra vars, an
	// ssh key and a credential file in CRASH_PDD, writes the run's
	// artifacts dir to FAKE_OUT once the run is running, and waits to be
	// killed.
	fakeModes["crash-embedder"] = func() int {
		key, err := os.ReadFile(os.Getenv("CRASH_KEY"))
		if err != nil {
			return 3
		}
		cfg := Config{
			PrivateDataDir: os.Getenv("CRASH_PDD"),
			Ident:          os.Getenv("CRASH_IDENT"),
			Target:         Playbook{Path: "site.yml"},
			Binary:         os.Args[0],
			EnvVars:        map[string]string{"ARUNNER_FAKE": "sleep"},
			ExtraVars:      map[string]any{"secret": crashExtraVar},
			SSHKeys:        []SSHKey{{PEM: key, Comment: "crash"}},
			Credentials:    []credentials.Credential{credentials.Terraform{Configuration: crashTFConfig}},
			StatusHandler: func(u StatusUpdate) {
				if u.Status == StatusRunning {
					os.WriteFile(os.Getenv("FAKE_OUT"), []byte("running"), 0o600)
				}
			},
		}
		switch os.Getenv("CRASH_ROLE") {
		case "role":
			cfg.Target = Role{Name: "r", Vars: map[string]any{"rv": crashRoleVar}}
		case "playbook":
			cfg.Target = Playbook{Content: []byte("- hosts: all\n  vars: {rv: " + crashRoleVar + "}\n")}
		}
		_, _ = Run(context.Background(), cfg)
		return 4
	}
}

// An embedding program killed with SIGKILL mid-run leaves its runtime dir
// (credential files, extra vars, a dead agent socket), its scratch dir (the
// control path dir) and a generated playbook (a role's, an inline one); the next run in the same private data dir removes them, and
// nothing secret, no socket and no process of the crashed run is left.
func TestCrashedRunCleanedByNextRun(t *testing.T) {
	t.Run("playbook", func(t *testing.T) { testCrashedRun(t, "", false) })
	t.Run("role", func(t *testing.T) { testCrashedRun(t, "role", false) })
	t.Run("inline playbook", func(t *testing.T) { testCrashedRun(t, "playbook", false) })
	// Rotating the artifacts would remove the crashed run's runtime dir
	// and with it the way to its scratch dir.
	t.Run("rotated", func(t *testing.T) { testCrashedRun(t, "", true) })
}

func testCrashedRun(t *testing.T, generated string, rotate bool) {
	cfg := fakeConfig(t, "ok")
	pdd := cfg.PrivateDataDir
	const crashIdent = "crashed:2024-01-01T10:00:00"
	ready := filepath.Join(t.TempDir(), "ready")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	embedder := exec.CommandContext(ctx, os.Args[0])
	embedder.Env = append(os.Environ(), "ARUNNER_FAKE=crash-embedder", "CRASH_PDD="+pdd, "CRASH_IDENT="+crashIdent,
		"CRASH_KEY=../credentials/testdata/id_plain", "FAKE_OUT="+ready)
	if generated != "" {
		embedder.Env = append(embedder.Env, "CRASH_ROLE="+generated)
	}
	embedder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, embedder.Start())
	waitFor(t, "the embedder's run to start", func() bool {
		_, err := os.Stat(ready)
		return err == nil
	})
	crashed := filepath.Join(pdd, "artifacts", crashIdent)
	runtimeDir := filepath.Join(crashed, runtimeName)
	scratch, err := os.Readlink(filepath.Join(runtimeDir, scratchLink))
	require.NoError(t, err)
	t.Cleanup(func() { removeScratch(scratch) }) // should the test fail
	var cmd struct {
		Env map[string]string `json:"env"`
	}
	data, err := os.ReadFile(filepath.Join(crashed, "command"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &cmd))
	leftovers := []string{runtimeDir, scratch, cmd.Env["SSH_AUTH_SOCK"], cmd.Env["ANSIBLE_SSH_CONTROL_PATH_DIR"], cmd.Env["TF_BACKEND_CONFIG_FILE"]}
	if generated != "" {
		playbooks, err := filepath.Glob(filepath.Join(pdd, "project", playbookPrefix[generated]+"*"))
		require.NoError(t, err)
		require.Len(t, playbooks, 1)
		leftovers = append(leftovers, playbooks[0])
	}

	require.NoError(t, embedder.Process.Kill())
	_ = embedder.Wait()
	for _, p := range leftovers {
		require.NotEmpty(t, p)
		_, err := os.Lstat(p)
		require.NoError(t, err, "the crash leaves %s", p)
	}

	before, err := os.Stat(crashed)
	require.NoError(t, err)
	if rotate {
		cfg.RotateArtifacts = 1
	}
	trackLeaks(t, &cfg)
	res, err := Run(ctx, cfg)
	require.NoError(t, err)
	assert.Equal(t, StatusSuccessful, res.Status)
	for _, p := range leftovers {
		_, err := os.Lstat(p)
		assert.ErrorIs(t, err, fs.ErrNotExist, "%s is removed by the next run", p)
	}
	// Also: no process of the crashed run (its cwd is in pdd) is alive.
	assertNoSecrets(t, res, err, crashExtraVar, crashTFConfig, crashRoleVar)
	// assertNoSecrets exempts what was there before this run: the crashed
	// run's files are searched here.
	must(t, walkFiles(pdd, func(rel string, data []byte) {
		for _, s := range []string{crashExtraVar, crashTFConfig, crashRoleVar, "PRIVATE KEY"} {
			assert.NotContains(t, string(data), s, "in %s", rel)
		}
	}))
	if rotate {
		return
	}
	after, err := os.Stat(crashed)
	require.NoError(t, err)
	assert.Equal(t, before.ModTime(), after.ModTime(), "artifacts are rotated by their dir's time")
	// The crashed run's artifacts are its record, and stay.
	for _, name := range []string{"command", "stdout"} {
		_, err := os.Stat(filepath.Join(crashed, name))
		assert.NoError(t, err)
	}
	_, err = os.Stat(filepath.Join(crashed, "status"))
	assert.True(t, errors.Is(err, fs.ErrNotExist), "a crashed run has no status")
}

// A live run's runtime and scratch dirs are not a crashed run's: another run
// in the same private data dir leaves them alone.
func TestLiveRunKeptByNextRun(t *testing.T) {
	cfg := fakeConfig(t, "sleep")
	cfg.Ident = "live"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	job, err := Start(ctx, cfg)
	require.NoError(t, err)
	waitFor(t, "the first run to start", func() bool { return job.Status() == StatusRunning })
	runtimeDir := filepath.Join(cfg.PrivateDataDir, "artifacts", "live", runtimeName)
	scratch, err := os.Readlink(filepath.Join(runtimeDir, scratchLink))
	require.NoError(t, err)

	next := cfg
	next.Ident, next.EnvVars = "next", map[string]string{"ARUNNER_FAKE": "ok"}
	res, err := Run(ctx, next)
	require.NoError(t, err)
	assert.Equal(t, StatusSuccessful, res.Status)
	for _, p := range []string{runtimeDir, scratch} {
		_, err := os.Lstat(p)
		assert.NoError(t, err, "the live run keeps %s", p)
	}

	job.Cancel()
	res, _ = job.Wait()
	assert.Equal(t, StatusCanceled, res.Status)
	for _, p := range []string{runtimeDir, scratch} {
		_, err := os.Lstat(p)
		assert.ErrorIs(t, err, fs.ErrNotExist, "%s is removed at the run's end", p)
	}
}
