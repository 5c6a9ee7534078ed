package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/arunner/arunner/runner"
)

// debugLog is what --debug and --logfile do, as in ansible-runner: --debug
// shows how the run was set up (its command, working dir and environment)
// and each status it goes through; --logfile FILE appends those lines to
// FILE too, each stamped with the time. As there, --logfile alone creates
// FILE and writes nothing to it. Unlike there, the lines go to stderr, not
// among ansible's output on stdout, and the environment is the redacted one
// of the command artifact.
type debugLog struct {
	mu   sync.Mutex
	w    io.Writer // nil without --debug
	file *os.File  // nil without --logfile
}

func newDebugLog(opts *options, stderr io.Writer) (*debugLog, error) {
	d := &debugLog{}
	if opts.logfile != "" {
		f, err := os.OpenFile(opts.logfile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("--logfile: %w", err)
		}
		d.file = f
	}
	if !opts.debug {
		return d, nil
	}
	d.w = stderr
	d.printf("starting debug logging")
	return d, nil
}

// status is the run's StatusHandler.
func (d *debugLog) status(u runner.StatusUpdate) {
	if d.w == nil {
		return
	}
	if u.Status == runner.StatusStarting {
		d.printf("env:")
		keys := make([]string, 0, len(u.Env))
		for k := range u.Env {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			d.printf(" %s: %s", k, u.Env[k])
		}
		d.printf("cwd: %s", u.Cwd)
		d.printf("command: %s", strings.Join(u.Command, " "))
	}
	d.printf("status: %s", u.Status)
}

func (d *debugLog) printf(format string, args ...any) {
	if d.w == nil {
		return
	}
	line := fmt.Sprintf(format, args...)
	d.mu.Lock()
	defer d.mu.Unlock()
	fmt.Fprintln(d.w, line)
	if d.file != nil {
		// ansible-runner's logging format: "%(asctime)s: %(message)s".
		fmt.Fprintf(d.file, "%s: %s\n", time.Now().Format("2006-01-02 15:04:05,000"), line)
	}
}

func (d *debugLog) close() {
	if d.file != nil {
		d.file.Close()
	}
}
