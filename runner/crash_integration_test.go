package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/testsshd"
)

func init() {
	// An embedding program running real ansible over ssh with a machine
	// credential's key from CRASH_KEY; it writes FAKE_OUT once the first
	// task is done (an ssh control master is up) and waits to be killed.
	fakeModes["crash-embedder-ssh"] = func() int {
		key, err := os.ReadFile(os.Getenv("CRASH_KEY"))
		if err != nil {
			return 3
		}
		_, _ = Run(context.Background(), Config{
			PrivateDataDir: os.Getenv("CRASH_PDD"),
			Ident:          "crashed-ssh",
			Target:         Playbook{Path: "site.yml"},
			ExtraVars:      map[string]any{"secret": crashExtraVar},
			Credentials:    []credentials.Credential{credentials.Machine{Username: os.Getenv("CRASH_USER"), SSHKeyData: string(key)}},
			EventHandler: func(ev *events.Event) bool {
				if ev.Event == "runner_on_ok" {
					os.WriteFile(os.Getenv("FAKE_OUT"), []byte("first task done"), 0o600)
				}
				return true
			},
		})
		return 4
	}
}

// Real ansible over ssh, its embedding program killed with SIGKILL while a
// control master is up: the next run in the same private data dir stops
// the master and removes the agent socket, the control path dir and the
// key material.
func TestRealCrashedRunCleanedByNextRun(t *testing.T) {
	needBinaries(t, "ssh")
	priv, pub := testsshd.GenerateKey(t, "")
	srv := testsshd.Start(t, pub)
	cfg := realConfig(t, `- hosts: all
  gather_facts: false
  tasks:
    - command: echo first
    - pause:
        seconds: 60
`, sshInventory(srv, ""))
	pdd := cfg.PrivateDataDir
	keyFile := filepath.Join(t.TempDir(), "key")
	must(t, os.WriteFile(keyFile, priv, 0o600))
	ready := filepath.Join(t.TempDir(), "ready")

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	embedder := exec.CommandContext(ctx, os.Args[0])
	embedder.Env = append(os.Environ(), "ARUNNER_FAKE=crash-embedder-ssh", "CRASH_PDD="+pdd,
		"CRASH_KEY="+keyFile, "CRASH_USER="+srv.User, "FAKE_OUT="+ready)
	embedder.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, embedder.Start())
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "the embedder's first task did not finish")
		time.Sleep(50 * time.Millisecond)
	}
	scratch, err := os.Readlink(filepath.Join(pdd, "artifacts", "crashed-ssh", runtimeName, scratchLink))
	require.NoError(t, err)
	require.NoError(t, embedder.Process.Kill())
	_ = embedder.Wait()
	t.Cleanup(func() { // should the test fail: no master or dir is left
		removeScratch(scratch)
		for _, p := range processesNaming(scratch) {
			if pid, err := strconv.Atoi(p[:bytes.IndexByte([]byte(p), ':')]); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	require.NotEmpty(t, processesNaming(scratch), "an ssh control master outlives the crash")

	must(t, os.WriteFile(filepath.Join(pdd, "project", "next.yml"), []byte(`- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ping:
`), 0o600))
	cfg.Target, cfg.Ident = Playbook{Path: "next.yml"}, "next"
	res, err := Run(ctx, cfg)
	require.NoError(t, err, "stdout: %s", readArtifact(t, res, "stdout"))
	_, err = os.Lstat(filepath.Join(pdd, "artifacts", "crashed-ssh", runtimeName))
	assert.True(t, os.IsNotExist(err), "the crashed run's runtime dir is removed")
	_, err = os.Lstat(scratch)
	assert.True(t, os.IsNotExist(err), "the crashed run's scratch dir is removed")
	waitFor(t, "the control master to exit", func() bool { return len(processesNaming(scratch)) == 0 })
	must(t, walkFiles(pdd, func(rel string, data []byte) {
		assert.NotContains(t, string(data), crashExtraVar, "in %s", rel)
		assert.NotContains(t, string(data), pemLine(t, priv), "in %s", rel)
	}))
}

// processesNaming lists the live processes whose command line names s.
func processesNaming(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(s)) && !gone(pid) {
			found = append(found, fmt.Sprintf("%d: %s", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
	}
	return found
}
