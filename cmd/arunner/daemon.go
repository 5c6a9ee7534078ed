package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// start, stop and is-alive are ansible-runner's background run: start runs
// `run`'s command line in a process of its own session, which keeps its
// pid in PRIVATE_DATA_DIR/pid while it runs and writes its stderr (the
// progress lines and the summary) to PRIVATE_DATA_DIR/daemon.log; stop
// ends it and is-alive tells whether it still runs.

// daemonChildFlag marks the background process start starts: a hidden flag
// of start, so that it runs the command line instead of starting another.
const daemonChildFlag = "daemon-child"

// stopWait is how long stop waits for the background run to cancel
// ansible (SIGINT, the runner's grace, SIGKILL) before it kills it.
const stopWait = 30 * time.Second

func pidFile(pdd string) string { return filepath.Join(pdd, "pid") }

// startMain starts the background run and returns once it holds its pid
// file, or has already ended.
func (a *app) startMain(opts *options) int {
	pdd, err := filepath.Abs(opts.pdd)
	if err == nil {
		err = os.MkdirAll(pdd, 0o700)
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	if pid, err := readPid(pdd); err == nil && alive(pid) {
		fmt.Fprintf(a.stderr, "arunner: a run is already going in the background in %s (pid %d)\n", pdd, pid)
		return 1
	}
	logPath := filepath.Join(pdd, "daemon.log")
	log, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	defer log.Close()
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	cmd := exec.Command(exe, append(append([]string{}, a.args...), "--"+daemonChildFlag)...)
	cmd.Stderr = log // stdin and stdout are /dev/null
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	for deadline := time.Now().Add(stopWait); ; time.Sleep(10 * time.Millisecond) {
		if pid, err := readPid(pdd); err == nil && pid == cmd.Process.Pid {
			fmt.Fprintf(a.stderr, "arunner: started in the background, pid %d; its log is %s\n", pid, logPath)
			return 0
		}
		select {
		case <-exited:
			// Done already, or it could not start: daemon.log says.
			code := cmd.ProcessState.ExitCode()
			fmt.Fprintf(a.stderr, "arunner: the background run ended with exit code %d; its log is %s\n", code, logPath)
			return code
		default:
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(a.stderr, "arunner: the background run (pid %d) did not write %s; its log is %s\n", cmd.Process.Pid, pidFile(pdd), logPath)
			return 1
		}
	}
}

// holdPidFile writes this process's pid to the private data dir's pid
// file, refusing when it names another live process, and returns what
// removes it. The file appears whole or not at all (a link of a written
// temporary file), and only one of two runs started at once gets it.
func holdPidFile(pdd string) (release func(), err error) {
	p := pidFile(pdd)
	tmp, err := os.CreateTemp(pdd, ".pid-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	_, err = fmt.Fprintf(tmp, "%d\n", os.Getpid())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	for attempt := 0; err == nil; attempt++ {
		if err = os.Link(tmp.Name(), p); !errors.Is(err, os.ErrExist) || attempt > 0 {
			break
		}
		if pid, perr := readPid(pdd); perr == nil && alive(pid) {
			return nil, fmt.Errorf("%s: a run is already going (pid %d)", p, pid)
		}
		err = os.Remove(p) // a stale one, left by a run killed hard
	}
	if err != nil {
		return nil, err
	}
	return func() {
		if pid, err := readPid(pdd); err == nil && pid == os.Getpid() {
			os.Remove(p)
		}
	}, nil
}

// readPid reads the pid file of the private data dir pdd.
func readPid(pdd string) (int, error) {
	b, err := os.ReadFile(pidFile(pdd))
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s does not hold a pid", pidFile(pdd))
	}
	return pid, nil
}

// alive reports whether process pid runs: it exists and is no zombie
// (the background run's parent, init, may not have reaped it yet).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// pddCommand is a command whose one operand is a private data dir.
func pddCommand(use, short string, run func(pdd string) int, a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:               use + " PRIVATE_DATA_DIR",
		Short:             short,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveFilterDirs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef(2, "expected `%s PRIVATE_DATA_DIR`, got %q", use, args)
			}
			a.code = run(args[0])
			return nil
		},
	}
	addIgnoredLogFlags(cmd.Flags())
	return cmd
}

// stopCommand is `arunner stop`: it cancels the background run (SIGTERM,
// which the run turns into a cancel that ends ansible's whole process
// tree), waits for it to end, kills what is left of it, and removes the
// pid file. Without a pid file it exits 1, as ansible-runner's does.
func (a *app) stopCommand() *cobra.Command {
	return pddCommand("stop", "stop the run `arunner start` left in the background", func(pdd string) int {
		return stopRun(pdd, a.stderr)
	}, a)
}

func stopRun(pdd string, stderr io.Writer) int {
	pid, err := readPid(pdd)
	if err != nil {
		fmt.Fprintf(stderr, "arunner: no run in the background: %v\n", err)
		return 1
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGTERM)
		deadline := time.Now().Add(stopWait)
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) {
			// As ansible-runner stops it: SIGKILL to its process group.
			if err := syscall.Kill(-pid, syscall.SIGKILL); errors.Is(err, syscall.ESRCH) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	os.Remove(pidFile(pdd))
	return 0
}

// isAliveCommand is `arunner is-alive`: exit 0 while the background run
// runs, 1 when it does not (or never did); it prints nothing, as
// ansible-runner's.
func (a *app) isAliveCommand() *cobra.Command {
	return pddCommand("is-alive", "exit 0 while the background run of PRIVATE_DATA_DIR runs, else 1", func(pdd string) int {
		if pid, err := readPid(pdd); err == nil && alive(pid) {
			return 0
		}
		return 1
	}, a)
}
