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

	"golang.org/x/sys/unix"

	"github.com/arunner/arunner/internal/lazyio"
	"github.com/arunner/arunner/runner"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	if pct, ok := gcPercent(os.Getenv("GOGC")); ok {
		debug.SetGCPercent(pct)
	}
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
// CLI does, or 1 (usage: 2) when arunner itself could not run it.
func realMain(args []string, stdout, stderr io.Writer) int {
	opts, err := parseArgs(args)
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) && ue.code != 2 {
			fmt.Fprintf(stderr, "arunner: %v\n", err)
			return ue.code
		}
		fmt.Fprintf(stderr, "arunner: %v\n\n%s", err, usage)
		return 2
	}
	switch {
	case opts.help:
		fmt.Fprint(stdout, usage)
		return 0
	case opts.version:
		fmt.Fprintln(stdout, "arunner", version)
		return 0
	}
	cfg := opts.config()
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
		cfg.Output = stdout
		if f, ok := stdout.(*os.File); ok && !isTerminal(f) {
			// To a file or a pipe, output goes out in batches, as C's stdio
			// buffers it there, but at most lazyio.Delay late, so that
			// tail -f still follows it.
			lw := lazyio.New(f, lazyio.Delay)
			defer lw.Flush()
			cfg.Output = lw
		}
	}

	// The library installs no signal handlers; the CLI turns ^C and SIGTERM
	// into a cancel, which ends ansible's whole process group.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runner.Run(ctx, cfg)
	if res == nil {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
		return 1
	}
	// ansible's own output says why it failed; a signal from outside it
	// does not.
	var exitErr *runner.ExitError
	if err != nil && (!errors.As(err, &exitErr) || exitErr.Signal != 0) {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
	}
	if res.RC == 0 && err != nil && exitErr == nil {
		return 1
	}
	return res.RC
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var terr error
	if err := rc.Control(func(fd uintptr) { _, terr = unix.IoctlGetTermios(int(fd), unix.TCGETS) }); err != nil {
		return false
	}
	return terr == nil
}
