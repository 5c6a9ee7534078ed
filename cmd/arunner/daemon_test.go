package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// arunnerCmd runs the test binary as arunner with args, bounded by a
// minute, and returns its exit code, stdout and stderr.
func arunnerCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "ARUNNER_TEST_MAIN=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("arunner %q: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// descendants are the processes below pid, from /proc.
func descendants(pid int) []int {
	children := map[int][]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			out = append(out, c)
			walk(c)
		}
	}
	walk(pid)
	return out
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return strings.ReplaceAll(string(b), "\x00", " ")
}

// start runs a real playbook in the background: is-alive says so while
// it runs; stop ends it, and with it its whole process tree (ansible, its
// workers, the task's command); is-alive then says it is not. The pid
// file and daemon.log are in the private data dir, as ansible-runner's.
func TestStartStopIsAlive(t *testing.T) {
	pdd := realPlaybook(t, `- hosts: all
  gather_facts: false
  tasks:
    - name: wait
      command: sleep 300
`)
	reap := adoptOrphans(t)
	code, _, stderr := arunnerCmd(t, "start", pdd, "-p", "site.yml", "--ident", "bg")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stderr, "started in the background")
	pid, err := readPid(pdd)
	require.NoError(t, err)
	defer reap(pid)
	defer func() { // should the test fail early
		for _, p := range append(descendants(pid), pid) {
			_ = syscallKill(p)
		}
	}()

	code, out, _ := arunnerCmd(t, "is-alive", pdd)
	assert.Equal(t, 0, code)
	assert.Empty(t, out, "is-alive prints nothing, as ansible-runner's")

	// Wait for the task's sleep, so that the whole tree is there.
	var tree []int
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		tree = descendants(pid)
		found := false
		for _, p := range tree {
			found = found || strings.HasPrefix(cmdline(p), "sleep 300")
		}
		if found {
			break
		}
		require.False(t, time.Now().After(deadline), "the task's sleep never ran; daemon.log: %s", readFile(filepath.Join(pdd, "daemon.log")))
	}
	require.Greater(t, len(tree), 2, "ansible, a worker and the sleep")

	code, _, stderr = arunnerCmd(t, "stop", pdd)
	assert.Equal(t, 0, code, stderr)
	for _, p := range append(tree, pid) {
		assert.False(t, alive(p), "process %d (%s) is left", p, cmdline(p))
	}
	code, _, _ = arunnerCmd(t, "is-alive", pdd)
	assert.Equal(t, 1, code)
	assert.NoFileExists(t, pidFile(pdd))
	assert.Equal(t, "canceled", readFile(filepath.Join(pdd, "artifacts", "bg", "status")))
	log := readFile(filepath.Join(pdd, "daemon.log"))
	assert.Contains(t, log, "arunner: run bg canceled", "the summary is in daemon.log")
	st, err := os.Stat(filepath.Join(pdd, "daemon.log"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	// Without a background run: stop and is-alive exit 1.
	code, _, stderr = arunnerCmd(t, "stop", pdd)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "no run in the background")
}

// A run that ends by itself removes its pid file; start waits for the
// pid file, so is-alive is right as soon as start returns; a second start
// is refused while the first runs.
func TestStartRunEndsByItself(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "gate")
	open := func() { os.WriteFile(gate, nil, 0o600) }
	defer open() // should the test fail early: the fake must not wait forever
	pdd, fake := fakeRun(t, "while [ ! -e "+gate+" ]; do sleep 0.05; done\necho done\n")
	reap := adoptOrphans(t)
	code, _, stderr := arunnerCmd(t, "start", pdd, "-p", "site.yml", "-b", fake, "--ident", "short")
	require.Equal(t, 0, code, stderr)
	pid, err := readPid(pdd)
	require.NoError(t, err)
	defer reap(pid)
	code, _, _ = arunnerCmd(t, "is-alive", pdd)
	assert.Equal(t, 0, code)
	// One background run per private data dir.
	code, _, stderr = arunnerCmd(t, "start", pdd, "-p", "site.yml", "-b", fake, "--ident", "second")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "a run is already going in the background in ")
	assert.Equal(t, strconv.Itoa(pid)+"\n", readFile(pidFile(pdd)), "the first run's pid file stays")
	open()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(pidFile(pdd)); os.IsNotExist(err) {
			break
		}
		require.False(t, time.Now().After(deadline), "the pid file stayed")
	}
	code, _, _ = arunnerCmd(t, "is-alive", pdd)
	assert.Equal(t, 1, code)
	assert.Equal(t, "successful", readFile(filepath.Join(pdd, "artifacts", "short", "status")))
	assert.Contains(t, readFile(filepath.Join(pdd, "daemon.log")), "arunner: run short successful, rc 0")

	// start's own usage, not run's.
	code, out, _ := arunnerCmd(t, "start", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "usage: arunner start PRIVATE_DATA_DIR")
	assert.NotContains(t, out, "daemon-child")
	code, out, _ = arunnerCmd(t, "stop", "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "usage: arunner stop PRIVATE_DATA_DIR")
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }

// adoptOrphans makes the test process the reaper of the background runs
// it starts (whose parent, start, exits), so that none is left a zombie
// under an init that does not reap. The returned func reaps pid.
func adoptOrphans(t *testing.T) func(pid int) {
	require.NoError(t, unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
	t.Cleanup(func() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0) })
	return func(pid int) {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var ws syscall.WaitStatus
			if n, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil); n == pid || err != nil {
				return
			}
		}
	}
}

// The background run takes the pid file over from a run killed hard (its
// pid is gone), never from a live one, and removes it only while it is its
// own.
func TestHoldPidFile(t *testing.T) {
	pdd := t.TempDir()
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	require.NoError(t, os.WriteFile(pidFile(pdd), []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o600))
	release, err := holdPidFile(pdd)
	require.NoError(t, err, "a stale pid file is taken over")
	assert.Equal(t, strconv.Itoa(os.Getpid())+"\n", readFile(pidFile(pdd)))
	st, err := os.Stat(pidFile(pdd))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	release()
	assert.NoFileExists(t, pidFile(pdd))

	// A live process's (here this test's parent's) is refused and kept.
	live := strconv.Itoa(os.Getppid()) + "\n"
	require.NoError(t, os.WriteFile(pidFile(pdd), []byte(live), 0o600))
	_, err = holdPidFile(pdd)
	assert.ErrorContains(t, err, "a run is already going")
	assert.Equal(t, live, readFile(pidFile(pdd)))
	entries, _ := os.ReadDir(pdd)
	assert.Len(t, entries, 1, "no temporary file is left")
}
