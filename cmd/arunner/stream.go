package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/stream"
)

// The streaming commands: transmit and process take run's command line
// (args.go); worker has its own, as ansible-runner's does.

const workerUsage = `usage: arunner worker [--private-data-dir DIR] [--delete] [--keepalive-seconds N]
       arunner worker --worker-info
       arunner worker cleanup [--file-pattern GLOB [--exclude-strings S ...] [--grace-period MINUTES]]
       arunner worker --nats URL --queue NAME [--capacity N] ...   (a pool worker: see --nats URL --help)

Reads a job from stdin (arunner or ansible-runner transmit), runs it and
writes its stream (status lines, events, artifacts, eof) to stdout.
Without --private-data-dir it runs in a temporary dir; one that a worker
killed hard left is removed by the next worker and by cleanup.
`

// runnerVersion is the ansible-runner version whose stream arunner speaks,
// which --worker-info reports as AWX expects.
const runnerVersion = "2.3.1"

// onlyKwargsFlag is transmit's own flag: ansible-runner's run() argument
// only_transmit_kwargs, which its CLI does not offer, spelt as its CLI
// spells the others.
const onlyKwargsFlag = "--only-transmit-kwargs"

// transmitArgs takes transmit's own flags out of its command line (before
// a "--"); the rest is run's.
func transmitArgs(args []string) ([]string, stream.TransmitOptions) {
	var opts stream.TransmitOptions
	rest := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			rest = append(rest, args[i:]...)
			break
		}
		if a == onlyKwargsFlag {
			opts.OnlyKwargs = true
			continue
		}
		rest = append(rest, a)
	}
	return rest, opts
}

func transmitMain(cfg runner.Config, opts stream.TransmitOptions, stdout, stderr io.Writer) int {
	w := bufio.NewWriterSize(stdout, 64<<10)
	if err := stream.TransmitWith(w, cfg, opts); err != nil {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
		return 1
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
		return 1
	}
	return 0
}

// processMain reads the worker's stream from stdin. Made non-blocking, stdin
// can be closed under a blocked read, which is how a cancel (^C, SIGTERM)
// stops it.
func processMain(ctx context.Context, cfg runner.Config, stdin *os.File) (*runner.Result, error) {
	return stream.Process(ctx, pollable(stdin), cfg)
}

// pollable returns f on Go's poller when it is a pipe or socket, so that
// Close ends a read or write blocked on it; else f itself.
func pollable(f *os.File) *os.File {
	fd := int(f.Fd())
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO && st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return f
	}
	if syscall.SetNonblock(fd, true) != nil {
		return f
	}
	return os.NewFile(uintptr(fd), f.Name())
}

type workerOptions struct {
	pdd       string
	delete    bool
	keepalive int
	info      bool
	cleanup   bool
	pattern   string
	excludes  []string
	grace     int
	help      bool
}

func parseWorkerArgs(args []string) (*workerOptions, error) {
	o := &workerOptions{grace: 60}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := splitFlag(a)
		next := func() (string, error) { return flagValue(args, &i, name, value, hasValue) }
		var err error
		switch name {
		case "-h", "--help":
			o.help = true
		case "cleanup":
			o.cleanup = true
		case "--private-data-dir":
			o.pdd, err = next()
		case "--delete":
			o.delete = true
		case "--worker-info":
			o.info = true
		case "--keepalive-seconds":
			var s string
			if s, err = next(); err == nil {
				o.keepalive, err = strconv.Atoi(s)
				if err != nil || o.keepalive < 0 || int64(o.keepalive) > maxSeconds {
					err = usagef(2, "--keepalive-seconds needs a whole number, got %q", s)
				}
			}
		case "--file-pattern":
			o.pattern, err = next()
		case "--exclude-strings":
			o.excludes = append(o.excludes, flagList(args, &i)...)
		case "--grace-period":
			var s string
			if s, err = next(); err == nil {
				o.grace, err = strconv.Atoi(s)
				if err != nil || o.grace < 0 || o.grace > math.MaxInt32 {
					err = usagef(2, "--grace-period needs a whole number of minutes, got %q", s)
				}
			}
		case "--remove-images", "--image-prune", "--process-isolation-executable":
			err = usagef(1, "%s is not supported: arunner worker cleanup removes no container images", name)
		case "--debug":
		case "--logfile":
			_, err = next()
		default:
			err = usagef(2, "unknown argument %s", a)
		}
		if err != nil {
			return nil, err
		}
	}
	// --delete without --private-data-dir changes nothing: the temporary
	// dir is removed anyway (as with ansible-runner).
	return o, nil
}

// workerMain is `arunner worker`: its exit code is ansible's rc, as
// ansible-runner's, or 1 when the job could not be read or run (the stream
// then says why, in an error status line).
func workerMain(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	o, err := parseWorkerArgs(args)
	if err != nil {
		return usageExit(err, workerUsage, stderr)
	}
	switch {
	case o.help:
		fmt.Fprint(stdout, workerUsage)
		return 0
	case o.info:
		fmt.Fprintln(stdout, workerInfo())
		return 0
	case o.cleanup:
		return cleanupMain(o, stdout, stderr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var out io.Writer = stdout
	if f, ok := stdout.(*os.File); ok {
		out = pollable(f) // so that a stalled reader can be given up on
	}
	res, err := stream.Worker(ctx, pollable(stdin), out, stream.WorkerOptions{
		PrivateDataDir: o.pdd,
		Delete:         o.delete,
		Keepalive:      secs(o.keepalive),
	})
	failed := errors.As(err, new(*runner.ExitError)) // ansible's own failure, told in the stream
	if err != nil && !failed {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
	}
	if res == nil || res.RC == 0 && err != nil && !failed {
		return 1
	}
	return res.RC
}

// workerInfo is --worker-info's line: ansible-runner's YAML flow map, keys
// sorted.
func workerInfo() string {
	var errs []string
	mem := "null"
	if n, err := memTotal(); err == nil {
		mem = strconv.FormatInt(n, 10)
	} else {
		errs = append(errs, err.Error())
	}
	id, err := nodeUUID()
	if err != nil {
		errs = append(errs, err.Error())
		id = "null"
	}
	errList := "[]"
	if len(errs) > 0 {
		errList = "['" + strings.Join(errs, "', '") + "']"
	}
	return fmt.Sprintf("{cpu_count: %d, errors: %s, mem_in_bytes: %s, runner_version: %s, uuid: %s}",
		runtime.NumCPU(), errList, mem, runnerVersion, id)
}

func memTotal() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, errors.New("Could not find memory information")
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb * 1024, nil
				}
			}
		}
	}
	return 0, errors.New("Could not find MemTotal in /proc/meminfo")
}

// nodeUUID is the node's id kept in ~/.ansible_runner_uuid, the file
// ansible-runner keeps it in, made on first use.
func nodeUUID() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", errors.New("Could not find home directory for the node uuid")
	}
	p := filepath.Join(home, ".ansible_runner_uuid")
	if b, err := os.ReadFile(p); err == nil {
		os.Chmod(p, 0o600)
		return strings.TrimSpace(string(b)), nil
	}
	id, err := uuid.NewRandomFromReader(rand.Reader)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(p, []byte(id.String()), 0o600); err != nil {
		return "", fmt.Errorf("Could not find or write %s", p)
	}
	return id.String(), nil
}

// cleanupMain is `worker cleanup`: it removes the temporary private data
// dirs of workers killed hard (stream.CleanWorkerDirs), and the private
// data dirs that match --file-pattern, unless one of --exclude-strings is in
// the path, it was modified within --grace-period minutes, or its pid file
// names a live process.
func cleanupMain(o *workerOptions, stdout, stderr io.Writer) int {
	changed := 0
	// With or without a pattern: the temporary dirs of workers killed hard.
	if removed, err := stream.CleanWorkerDirs(""); err != nil {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
	} else if len(removed) > 0 {
		changed += len(removed)
		fmt.Fprintf(stdout, "Removed %d private data dir(s) left by killed workers in %s\n", len(removed), os.TempDir())
	}
	if o.pattern != "" {
		matches, err := filepath.Glob(o.pattern)
		if err != nil {
			fmt.Fprintf(stderr, "arunner: --file-pattern: %v\n", err)
			return 2
		}
		for _, m := range matches {
			if protected(m) {
				fmt.Fprintf(stderr, "Provided pattern could result in deleting system folders:\n%s\nRefusing to continue for user system safety.\n", m)
				return 1
			}
		}
		for _, m := range matches {
			if excluded(m, o.excludes) {
				continue
			}
			st, err := os.Stat(m)
			if err != nil || o.grace > 0 && time.Since(st.ModTime()) < time.Duration(o.grace)*time.Minute {
				continue
			}
			if alive(m) {
				fmt.Fprintf(stdout, "Excluding running project %s from cleanup\n", m)
				continue
			}
			if err := os.RemoveAll(m); err != nil {
				fmt.Fprintf(stderr, "arunner: %v\n", err)
				continue
			}
			changed++
		}
		if changed > 0 {
			fmt.Fprintf(stdout, "Removed %d private data dir(s) in pattern %s\n", changed, o.pattern)
		}
	}
	fmt.Fprintf(stdout, "(changed: %s)\n", map[bool]string{true: "True", false: "False"}[changed > 0])
	return 0
}

func excluded(path string, excludes []string) bool {
	for _, e := range excludes {
		for _, s := range strings.Split(e, ",") {
			if s != "" && strings.Contains(path, s) {
				return true
			}
		}
	}
	return false
}

func protected(p string) bool {
	abs, err := filepath.Abs(p)
	if err != nil {
		return true
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	switch abs {
	case "/", "/bin", "/dev", "/home", "/lib", "/mnt", "/proc", "/run", "/sys", "/usr", "/boot", "/etc", "/opt", "/sbin", "/var", filepath.Clean(os.TempDir()):
		return true
	}
	return false
}

func alive(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "pid"))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	return syscall.Kill(pid, 0) == nil
}
