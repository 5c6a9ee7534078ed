package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/arunner/arunner/isolation"
	"github.com/arunner/arunner/runner"
)

const usage = `usage: arunner run PRIVATE_DATA_DIR (-p PLAYBOOK | -m MODULE | -r ROLE) [options]
       arunner run PRIVATE_DATA_DIR [options]     (runs PRIVATE_DATA_DIR/args)
       arunner transmit PRIVATE_DATA_DIR (-p ... | -m ...) [options] | arunner worker | arunner process PRIVATE_DATA_DIR [-i IDENT]
                                                  (a remote run over ansible-runner's stream; arunner worker --help)

  -p, --playbook PLAYBOOK   playbook to run, relative to the project dir
  -m, --module MODULE       run an ad hoc module instead of a playbook
  -a, --args ARGS           module arguments (with -m)
      --hosts PATTERN       host pattern (with -m or -r; default all)
  -r, --role ROLE           run one role through a generated playbook
      --roles-path DIR      where roles are found, before PDD/roles; repeatable
      --role-vars 'K=V ...' variables for the role (values read as literals)
      --role-skip-facts     do not gather facts before the role
  -i, --ident IDENT         name of this run's artifacts dir (default: a UUID)
      --inventory PATH      inventory file or dir; repeatable (default: PDD/inventory)
      --limit PATTERN       --limit for ansible
      --cmdline ARGS        extra ansible arguments, shell-quoted (replaces env/cmdline)
      --forks N             --forks for ansible
  -v, -vv ... -vvvvv        verbosity
      --rotate-artifacts N  keep only the newest N artifact dirs (0: keep all)
      --artifact-dir DIR    where artifact dirs go (default: PDD/artifacts)
      --project-dir DIR     project dir (default: PDD/project)
  -b, --binary PATH         ansible binary to run instead of ansible-playbook/ansible
      --job-timeout SECS    end the run after SECS seconds
      --idle-timeout SECS   end the run after SECS seconds without output
      --omit-event-data     leave event_data out of every event
      --only-failed-event-data  keep event_data only on failure events
      --omit-env-files      accepted: arunner never writes env/ files
  -q, --quiet               print nothing but errors
  -j, --json                print one JSON event per line instead of ansible's text
      --dry-run             print what would run (command, dir, env, files; secrets
                            redacted) and exit, starting and writing nothing
      --debug               print how the run is set up (command, dir, redacted env) on stderr
      --logfile FILE        with --debug, append those lines to FILE too
      --version             print arunner's version

Process isolation, as ansible-runner's (env/settings wins over these):
      --process-isolation   run ansible in a container or a bubblewrap sandbox
      --process-isolation-executable EXE  podman (default) or docker run a
                            container; any other name is bubblewrap's binary
      --container-image IMAGE            the execution environment image
      --container-volume-mount SRC:DST[:OPTS]  repeatable
      --container-option=OPT             an engine argument; repeatable
      --process-isolation-hide-paths P...  hidden in the sandbox
      --process-isolation-ro-paths P...    read-only in the sandbox
      --process-isolation-show-paths P...  writable in the sandbox
      --process-isolation-path DIR         accepted (nothing is put there)

An args file in PRIVATE_DATA_DIR, when present, is what runs, whatever -p,
-m, -r or -b say (as with ansible-runner). Not supported, and refused:
--directory-isolation-base-path.

The exit code is ansible's rc, as with ansible-runner; 2 for a malformed
command line, 1 when arunner could not run ansible.
`

// notYet are the `ansible-runner run` flags arunner reads but does not
// honour: a copy of the project per run. Each takes one value (1), none (0)
// or any number (-1, argparse's nargs='*'). A command line that gives one
// is refused rather than run without what it asked for.
var notYet = map[string]int{
	"--directory-isolation-base-path": 1,
}

// usageError is a command line arunner will not run, with the exit code
// ansible-runner's CLI gives the same mistake: 2 for what its argument
// parser rejects (printed with the usage), 1 for what it refuses after
// parsing (printed alone).
type usageError struct {
	msg  string
	code int
}

func (e *usageError) Error() string { return e.msg }

// splitFlag splits a command line argument as argparse does: --name=value
// into its name and value; anything else is a name alone.
func splitFlag(a string) (name, value string, hasValue bool) {
	name, value, hasValue = strings.Cut(a, "=")
	if !strings.HasPrefix(a, "--") {
		return a, "", false
	}
	return name, value, hasValue
}

// flagValue is the value of the flag name at args[*i]: the one after '='
// when it had one, else the next argument, which it moves *i past.
func flagValue(args []string, i *int, name, value string, hasValue bool) (string, error) {
	if hasValue {
		return value, nil
	}
	if *i+1 >= len(args) {
		return "", usagef(2, "%s needs a value", name)
	}
	*i++
	return args[*i], nil
}

// flagList takes the arguments after args[*i] up to the next flag, as
// argparse's nargs='*' does, and moves *i past them.
func flagList(args []string, i *int) []string {
	start := *i + 1
	for *i+1 < len(args) && !strings.HasPrefix(args[*i+1], "-") {
		*i++
	}
	return args[start : *i+1]
}

// usageExit prints a command line error on stderr and returns the exit
// code: a usage error's own, with the usage text after it when that is 2
// (argparse's way); any other error is a usage error.
func usageExit(err error, usage string, stderr io.Writer) int {
	var ue *usageError
	if errors.As(err, &ue) && ue.code != 2 {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
		return ue.code
	}
	fmt.Fprintf(stderr, "arunner: %v\n\n%s", err, usage)
	return 2
}

func usagef(code int, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), code: code}
}

type options struct {
	help, version, quiet, json bool
	debug, dryRun              bool
	logfile                    string
	command                    string // run, transmit or process
	pdd                        string
	cfg                        runner.Config
	t                          target
}

// target holds the flags that say what runs, until parseArgs has checked
// them and made them a runner.Target.
type target struct {
	playbook, module, args, role, hosts string
	rolesPath                           []string
	roleVars                            map[string]any
	roleSkipFacts                       bool
	sw                                  runner.Switches
}

// runnerTarget is the runner.Target the flags name; nil when none does (the
// private data dir's args file runs).
func (t *target) runnerTarget() runner.Target {
	switch {
	case t.playbook != "":
		return runner.Playbook{Path: t.playbook, Switches: t.sw}
	case t.module != "":
		return runner.AdHoc{Module: t.module, Args: t.args, Hosts: t.hosts, Switches: t.sw}
	case t.role != "":
		return runner.Role{Name: t.role, Vars: t.roleVars, Hosts: t.hosts, SkipFacts: t.roleSkipFacts, RolesPath: t.rolesPath, Switches: t.sw}
	}
	return nil
}

// iso is the run's isolation options, made on the first isolation flag.
func (o *options) iso() *isolation.Options {
	if o.cfg.Isolation == nil {
		o.cfg.Isolation = &isolation.Options{}
	}
	return o.cfg.Isolation
}

func (o *options) config() runner.Config {
	c := o.cfg
	c.PrivateDataDir = o.pdd
	c.JSONOutput = o.json
	c.Target = o.t.runnerTarget()
	return c
}

// runLike are the commands whose command line is `run`'s: transmit sends
// the run to a worker, process takes its stream back (see stream.go).
var runLike = map[string]bool{"run": true, "transmit": true, "process": true}

// parseArgs reads ansible-runner's `run` command line (or transmit's or
// process's, which are the same). Flags and operands may
// come in any order; -v may be repeated or stacked (-vvv).
func parseArgs(args []string) (*options, error) {
	o := &options{}
	var operands []string
	var unsupported string // the first notYet flag given
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := splitFlag(a)
		next := func() (string, error) { return flagValue(args, &i, name, value, hasValue) }
		// nextInt reads a whole number in [0, max], as env/settings'
		// timeouts are checked: a larger one would overflow.
		nextInt := func(max int64) (int, error) {
			s, err := next()
			if err != nil {
				return 0, err
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil && !errors.Is(err, strconv.ErrRange) || n < 0 {
				return 0, usagef(2, "%s needs a whole number, got %q", name, s)
			}
			if err != nil || n > max {
				return 0, usagef(2, "%s needs a whole number in [0, %d], got %q", name, max, s)
			}
			return int(n), nil
		}
		var err error
		c, t := &o.cfg, &o.t
		switch name {
		case "-h", "--help":
			o.help = true
		case "--version":
			o.version = true
		case "-q", "--quiet":
			o.quiet = true
		case "-j", "--json":
			o.json = true
		case "-p", "--playbook":
			t.playbook, err = next()
		case "-m", "--module":
			t.module, err = next()
		case "-a", "--args":
			t.args, err = next()
		case "-r", "--role":
			t.role, err = next()
		case "--roles-path":
			var p string
			p, err = next()
			t.rolesPath = append(t.rolesPath, p)
		case "--role-vars":
			var v string
			if v, err = next(); err == nil {
				t.roleVars, err = parseRoleVars(v)
			}
		case "--role-skip-facts":
			t.roleSkipFacts = true
		case "--hosts":
			t.hosts, err = next()
		case "-i", "--ident":
			c.Ident, err = next()
		case "--inventory":
			var inv string
			inv, err = next()
			c.Inventory.Sources = append(c.Inventory.Sources, inv)
		case "--limit":
			t.sw.Limit, err = next()
		case "--cmdline":
			c.Cmdline, err = next()
		case "--forks":
			t.sw.Forks, err = nextInt(math.MaxInt)
		case "--rotate-artifacts":
			c.RotateArtifacts, err = nextInt(math.MaxInt)
		case "--artifact-dir":
			c.ArtifactDir, err = next()
		case "--project-dir":
			c.ProjectDir, err = next()
		case "-b", "--binary":
			c.Binary, err = next()
		case "--job-timeout", "--idle-timeout":
			var n int
			n, err = nextInt(maxSeconds)
			d := secs(n)
			if name == "--job-timeout" {
				c.JobTimeout = d
			} else {
				c.IdleTimeout = d
			}
		case "--omit-event-data":
			c.OmitEventData = true
		case "--only-failed-event-data":
			c.OnlyFailedEventData = true
		case "--verbose":
			t.sw.Verbosity++
		case "--debug":
			o.debug = true
		case "--dry-run":
			o.dryRun = true
		case "--logfile":
			o.logfile, err = next()
		case "--process-isolation":
			o.iso().Enabled = true
		case "--process-isolation-executable":
			o.iso().Executable, err = next()
		case "--process-isolation-path":
			o.iso().Path, err = next()
		case "--container-image":
			o.iso().Image, err = next()
		case "--container-volume-mount":
			var v string
			v, err = next()
			o.iso().VolumeMounts = append(o.iso().VolumeMounts, v)
		case "--container-option":
			var v string
			v, err = next()
			o.iso().ContainerOptions = append(o.iso().ContainerOptions, v)
		case "--process-isolation-hide-paths", "--process-isolation-ro-paths", "--process-isolation-show-paths":
			// nargs='*': what follows up to the next flag; the last
			// occurrence wins, as with argparse.
			var paths []string
			if hasValue {
				paths = []string{value}
			}
			paths = append(paths, flagList(args, &i)...)
			switch name {
			case "--process-isolation-hide-paths":
				o.iso().HidePaths = paths
			case "--process-isolation-ro-paths":
				o.iso().ROPaths = paths
			default:
				o.iso().ShowPaths = paths
			}
		case "--omit-env-files":
			// ansible-runner's CLI writes --cmdline and role variables to
			// env/ unless given this; arunner never writes them.
		default:
			switch n, ok := notYet[name]; {
			case ok:
				if unsupported == "" {
					unsupported = name
				}
				switch {
				case n == 1:
					_, err = next()
				case n < 0 && !hasValue:
					flagList(args, &i)
				}
			case len(a) > 1 && a[0] == '-' && strings.Trim(a[1:], "v") == "":
				t.sw.Verbosity += len(a) - 1
			case strings.HasPrefix(a, "-") && a != "-":
				return nil, usagef(2, "unknown flag %s", a)
			default:
				operands = append(operands, a)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if o.help || o.version {
		return o, nil
	}
	if len(operands) != 2 || !runLike[operands[0]] {
		return nil, usagef(2, "expected `run PRIVATE_DATA_DIR`, got %q", operands)
	}
	o.command, o.pdd = operands[0], operands[1]
	t := &o.t
	switch {
	case t.sw.Verbosity > 5:
		return nil, usagef(2, "verbosity is at most 5 (-vvvvv)")
	case btoi(t.playbook != "")+btoi(t.module != "")+btoi(t.role != "") > 1:
		return nil, usagef(2, "-p, -m and -r exclude each other")
	case t.module == "" && t.args != "":
		return nil, usagef(2, "-a goes with -m")
	case t.role == "" && (t.rolesPath != nil || t.roleVars != nil || t.roleSkipFacts):
		return nil, usagef(2, "--roles-path, --role-vars and --role-skip-facts go with -r")
	case t.module == "" && t.role == "" && t.hosts != "":
		return nil, usagef(1, "--hosts goes with -m or -r")
	case unsupported != "":
		return nil, usagef(1, "%s is not supported: arunner does not copy the project for a run", unsupported)
	case t.playbook == "" && t.module == "" && t.role == "" && o.command != "process" && !hasArgsFile(o.pdd):
		return nil, usagef(1, "-p PLAYBOOK, -m MODULE or -r ROLE is required (or an args file in %s)", o.pdd)
	}
	return o, nil
}

// maxSeconds is the largest number of seconds a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// hasArgsFile reports whether the private data dir pdd has an args file,
// which runs when no playbook, module or role is given.
func hasArgsFile(pdd string) bool {
	_, err := os.Stat(filepath.Join(pdd, "args"))
	return err == nil
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parseRoleVars reads --role-vars as ansible-runner does: space-separated
// KEY=VALUE pairs whose values are read as Python literals where they are
// one (numbers, True/False/None, quoted strings), else kept as text.
func parseRoleVars(s string) (map[string]any, error) {
	vars := map[string]any{}
	for _, item := range strings.Fields(s) {
		k, v, ok := strings.Cut(item, "=")
		if !ok || k == "" {
			return nil, usagef(2, "--role-vars: %q is not KEY=VALUE", item)
		}
		vars[k] = literal(v)
	}
	return vars, nil
}

func literal(v string) any {
	switch v {
	case "True":
		return true
	case "False":
		return false
	case "None":
		return nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f
	}
	if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}
