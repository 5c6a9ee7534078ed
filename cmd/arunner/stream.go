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
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/stream"
)

// The streaming commands: transmit and process take run's command line
// (args.go); worker has its own, as ansible-runner's does.

// runnerVersion is the ansible-runner version whose stream arunner speaks,
// which --worker-info reports as AWX expects.
const runnerVersion = "2.3.1"

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
	pattern   string
	excludes  []string
	grace     int
}

// workerCommand is `arunner worker` and `arunner worker cleanup`, with
// ansible-runner's flags.
func (a *app) workerCommand() *cobra.Command {
	o := &workerOptions{grace: 60}
	po := &poolWorkerOptions{}
	cmd := &cobra.Command{
		Use:   "worker [--private-data-dir DIR] [--delete] [--keepalive-seconds N] | worker --worker-info | worker --nats URL --queue NAME [--capacity N]",
		Short: "run a job read from stdin (arunner or ansible-runner transmit), streaming its results to stdout",
		Long: `Reads a job from stdin (arunner or ansible-runner transmit), runs it and
writes its stream (status lines, events, artifacts, eof) to stdout.
Without --private-data-dir it runs in a temporary dir; one that a worker
killed hard left is removed by the next worker and by cleanup.

With --nats, it runs jobs of a worker pool on NATS JetStream (package pool)
until SIGINT or SIGTERM: at most N at a time (default 1), only from the
queues named, each in a temporary private data dir removed after it. On
SIGINT or SIGTERM it takes no more jobs, cancels the running ones and exits
once their results are published. URL may list several servers,
comma-separated. The server must be nats-server 2.9 or later with
JetStream (-js).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			if !fs.Changed("nats") && !slices.ContainsFunc(poolFlags, fs.Changed) {
				a.code = a.workerMain(o)
				return nil
			}
			if err := po.check(fs, []string{"private-data-dir", "delete", "worker-info", "keepalive-seconds"}); err != nil {
				return err
			}
			if a.parsedPool != nil {
				a.parsedPool(po)
				return nil
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			a.code = runPoolWorker(ctx, po, a.stderr)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.pdd, "private-data-dir", "", "`DIR` where the job is unpacked (default: a temporary dir, removed after)")
	fs.BoolVar(&o.delete, "delete", false, "empty --private-data-dir first, and remove it after the job")
	fs.BoolVar(&o.info, "worker-info", false, "print this node's capacity and ansible-runner version, and exit")
	fs.Var(wholeNumber{"--keepalive-seconds", maxSeconds, func(n int64) { o.keepalive = int(n) }}, "keepalive-seconds", "send a keepalive line every N seconds of silence")
	addPoolFlags(fs, po)
	addIgnoredLogFlags(fs)
	cmd.SetFlagErrorFunc(flagError("argument"))
	cmd.MarkFlagDirname("private-data-dir")

	cleanup := &cobra.Command{
		Use:   "cleanup [--file-pattern GLOB [--exclude-strings S ...] [--grace-period MINUTES]]",
		Short: "remove the private data dirs of finished jobs",
		Long: `Removes the temporary private data dirs of workers killed hard, and the
private data dirs that match --file-pattern, unless one of
--exclude-strings is in the path, it was modified within --grace-period
minutes, or its pid file names a live process.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, name := range []string{"remove-images", "image-prune", "process-isolation-executable"} {
				if cmd.Flags().Changed(name) {
					return usagef(1, "--%s is not supported: arunner worker cleanup removes no container images", name)
				}
			}
			a.code = cleanupMain(o, a.stdout, a.stderr)
			return nil
		},
	}
	cfs := cleanup.Flags()
	cfs.StringVar(&o.pattern, "file-pattern", "", "a `GLOB` of private data dirs to remove")
	cfs.Var(listValue{dst: &o.excludes, appends: true}, "exclude-strings", "keep the paths holding one of these (comma-separated) words")
	cfs.Var(wholeNumber{"--grace-period", math.MaxInt32, func(n int64) { o.grace = int(n) }}, "grace-period", "keep what was modified within this many minutes (default 60)")
	cfs.Var(listValue{dst: new([]string)}, "remove-images", "not supported")
	cfs.Bool("image-prune", false, "not supported")
	cfs.String("process-isolation-executable", "", "not supported")
	addIgnoredLogFlags(cfs)
	cleanup.SetFlagErrorFunc(flagError("argument"))
	cmd.AddCommand(cleanup)
	return cmd
}

// addIgnoredLogFlags adds --debug and --logfile, which worker accepts as
// ansible-runner's does; its stream is its output.
func addIgnoredLogFlags(fs *pflag.FlagSet) {
	fs.Bool("debug", false, "accepted")
	fs.String("logfile", "", "accepted; arunner worker logs to stderr, not to `FILE`")
}

// workerMain is `arunner worker`: its exit code is ansible's rc, as
// ansible-runner's, or 1 when the job could not be read or run (the stream
// then says why, in an error status line).
func (a *app) workerMain(o *workerOptions) int {
	stdout, stderr := a.stdout, a.stderr
	if o.info {
		fmt.Fprintln(stdout, workerInfo())
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var out io.Writer = stdout
	if f, ok := stdout.(*os.File); ok {
		out = pollable(f) // so that a stalled reader can be given up on
	}
	res, err := stream.Worker(ctx, pollable(a.stdin), out, stream.WorkerOptions{
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
			if pid, err := readPid(m); err == nil && alive(pid) {
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
