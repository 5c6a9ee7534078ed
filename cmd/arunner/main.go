// Command arunner runs ansible the way `ansible-runner run` does, with the
// same private data dir, flags, artifacts and exit code.
//
//	arunner run PRIVATE_DATA_DIR -p site.yml [--limit web] [-vvv] [-j]
//	arunner run PRIVATE_DATA_DIR -m ping --hosts all
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/arunner/arunner/runner"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	if pct, ok := gcPercent(os.Getenv("GOGC")); ok {
		debug.SetGCPercent(pct)
	}
	// A write to a closed pipe on stdout (arunner run ... | head) would
	// kill arunner by SIGPIPE, and with it ansible mid-run, leaving the
	// artifacts without a status. Notified, the write fails with EPIPE
	// instead: Output is dropped and the run goes on (realMain). Notify,
	// unlike Ignore, is not inherited by ansible.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

// defaultGCPercent is the garbage collector's target unless GOGC says
// otherwise. The runner keeps little (1-2 MB live) while every event it
// decodes allocates ~1.3 KB, so at Go's default (100) the heap's 4 MB goal
// is reached every ~2,000 events, and each cycle's freed pages are handed
// back to the kernel and faulted in again. At 200 a 300,000-event replay
// under a pty took 20% less CPU and ran 17% faster, for 4 MB more RSS
// (BENCHMARKS.md).
const defaultGCPercent = 200

// gcPercent returns the GC percent to set, and false when GOGC (env) is
// set: the user's choice stands.
func gcPercent(env string) (int, bool) {
	if env != "" {
		return 0, false
	}
	return defaultGCPercent, true
}

// realMain returns the process exit code: ansible's rc, as ansible-runner's
// CLI does, or 1 (usage: 2) when arunner itself could not run it, or when
// that rc is 0 but an artifact or stdout lost some of the output.
func realMain(args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, stdin: os.Stdin}
	return a.execute(args)
}

// runLike runs a checked run-like command line and returns its exit code.
func (a *app) runLike(opts *options) int {
	stdout, stderr := a.stdout, a.stderr
	cfg := opts.config()
	if opts.command == "transmit" {
		return transmitMain(cfg, opts.transmit, stdout, stderr)
	}
	if opts.dryRun {
		plan, err := runner.Prepare(context.Background(), cfg)
		if err != nil {
			fmt.Fprintf(stderr, "arunner: %v\n", err)
			return 1
		}
		fmt.Fprint(stdout, plan)
		return 0
	}
	if opts.command == "start" && !opts.daemonChild {
		return a.startMain(opts)
	}
	if opts.daemonChild {
		release, err := holdPidFile(opts.pdd)
		if err != nil {
			fmt.Fprintf(stderr, "arunner: %v\n", err)
			return 1
		}
		defer release()
		// Its stdout is /dev/null: daemon.log, its stderr, gets the
		// progress lines and the summary.
		opts.quiet = true
	}
	if opts.debug || opts.logfile != "" {
		dl, err := newDebugLog(opts, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "arunner: %v\n", err)
			return 1
		}
		defer dl.close()
		cfg.StatusHandler = dl.status
	}
	if !opts.quiet {
		// The runner writes Output in batches, as C's stdio buffers a file
		// or a pipe, but at most lazyio's delay late, so that tail -f still
		// follows it.
		cfg.Output = stdout
	}
	// With -q the progress line replaces ansible's text. Otherwise no hook
	// sees the events: the summary reads what it needs back afterwards.
	var prog *progress
	if opts.quiet {
		prog = newProgress(stderr, time.Now())
		cfg.EventHandler = prog.event
	}

	// The library installs no signal handlers; the CLI turns ^C and SIGTERM
	// into a cancel, which ends ansible's whole process group.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var res *runner.Result
	var err error
	if opts.command == "process" {
		res, err = processMain(ctx, cfg, a.stdin)
	} else {
		res, err = runner.Run(ctx, cfg)
	}
	var t *tally
	if prog != nil {
		prog.stop()
		t = prog.tally
	}
	if res == nil {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
		return 1
	}
	var exitErr *runner.ExitError
	if err != nil && (!saidOnStdout(opts, res, err, &exitErr) || res.ArtifactErr != nil) {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
	}
	if res.OutputErr != nil && !opts.quiet {
		fmt.Fprintf(stderr, "arunner: %v (the run went on; its artifacts are in %s)\n", res.OutputErr, res.ArtifactDir)
	}
	if t == nil {
		t = readBack(res, opts.t.module != "")
	}
	elapsed := elapsedOf(res, t)
	if t == nil && opts.command == "process" {
		elapsed = elapsedOf(res, spanTally(res))
	}
	writeSummary(stderr, res, t, elapsed)
	if res.RC == 0 && (err != nil && exitErr == nil || res.OutputErr != nil) {
		return 1
	}
	return res.RC
}

// saidOnStdout reports whether stdout already told why the run failed, so
// that err is not printed twice: ansible's own output for its exit (a
// signal from outside it does not say), and the runner's message for an
// error found before ansible started, which goes out as ansible-runner's
// verbose event does. With -q nothing is on stdout, and with -j it is
// inside JSON lines: stderr then says it plainly, a failed playbook's
// *ExitError included (which hosts failed, the last failure). It sets
// *exitErr from err.
func saidOnStdout(opts *options, res *runner.Result, err error, exitErr **runner.ExitError) bool {
	isExit := errors.As(err, exitErr)
	if opts.quiet || opts.json {
		return false // ansible's text is not on stdout
	}
	if isExit {
		return (*exitErr).Signal == 0
	}
	var ce *runner.ConfigError
	var me *runner.ManagedEnvError
	switch {
	case errors.Is(err, runner.ErrBinaryNotFound), res.Status == runner.StatusFailed, errors.As(err, &me):
		return true
	case errors.As(err, &ce):
		return ce.Field != "ArtifactDir" // its stdout could not be written
	}
	return false
}
