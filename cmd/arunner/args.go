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

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/arunner/arunner/isolation"
	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/stream"
)

// runLong is the part of run's help (and start's, transmit's, process's)
// that the flag list cannot say.
const runLong = `Runs ansible-playbook (-p), an ad hoc module (-m) or a role (-r) the way
ansible-runner does: the same private data dir, artifacts and exit code.

An args file in PRIVATE_DATA_DIR, when present, is what runs, whatever -p,
-m, -r or -b say (as with ansible-runner). Not supported, and refused:
--directory-isolation-base-path. Process isolation flags fill what
env/settings does not say.

At the end, a summary goes to stderr (ident, artifact dir, status, rc,
elapsed, the per-host recap and the failed tasks), also with -q and -j.
With -q on a terminal, one status line shows the run's progress instead of
ansible's text; when stderr is not a terminal, -q prints a plain line per
play and task.

The exit code is ansible's rc, as with ansible-runner; 2 for a malformed
command line, 1 when arunner could not run ansible.`

// usageError is a command line arunner will not run, with the exit code
// ansible-runner's CLI gives the same mistake: 2 for what its argument
// parser rejects (printed with the usage), 1 for what it refuses after
// parsing (printed alone).
type usageError struct {
	msg  string
	code int
}

func (e *usageError) Error() string { return e.msg }

func usagef(code int, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), code: code}
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

// flagError turns pflag's errors into arunner's wording: the flag by the
// name it was given, and a value's own complaint. unknown is what an
// unknown flag is called ("flag", or "argument" as worker's argparse says).
func flagError(unknown string) func(*cobra.Command, error) error {
	return func(_ *cobra.Command, err error) error {
		var notExist *pflag.NotExistError
		var required *pflag.ValueRequiredError
		var invalid *pflag.InvalidValueError
		switch {
		case errors.As(err, &notExist):
			name := "--" + notExist.GetSpecifiedName()
			if s := notExist.GetSpecifiedShortnames(); s != "" {
				name = "-" + s
			}
			return usagef(2, "unknown %s %s", unknown, name)
		case errors.As(err, &required):
			name := "--" + required.GetSpecifiedName()
			if s := required.GetSpecifiedShortnames(); s != "" {
				name = "-" + s
			}
			return usagef(2, "%s needs a value", name)
		case errors.As(err, &invalid):
			if ue := (*usageError)(nil); errors.As(invalid.Unwrap(), &ue) {
				return ue
			}
		}
		return usagef(2, "%v", err)
	}
}

// argparseLists are the flags that take nargs='*' in ansible-runner: the
// arguments after one, up to the next flag, are its values. pflag knows
// no such flag, so listArgs packs each occurrence into one --name=value
// argument that a listValue unpacks.
var argparseLists = map[string]bool{
	"--process-isolation-hide-paths": true,
	"--process-isolation-ro-paths":   true,
	"--process-isolation-show-paths": true,
	"--exclude-strings":              true,
	"--remove-images":                true,
}

// listSep joins a list flag's values: no argument can hold a NUL.
const listSep = "\x00"

// listArgs packs each argparse list (--name [=v] a b ...) into
// --name=\0v\0a\0b: what follows the flag up to the next flag, as argparse
// takes it. An empty list is --name=.
func listArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		if !argparseLists[name] {
			out = append(out, args[i])
			if args[i] == "--" {
				return append(out, args[i+1:]...)
			}
			continue
		}
		var vals []string
		if hasValue {
			vals = append(vals, value)
		}
		for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			vals = append(vals, args[i])
		}
		packed := ""
		for _, v := range vals {
			packed += listSep + v
		}
		out = append(out, name+"="+packed)
	}
	return out
}

// listValue is an argparse nargs='*' flag packed by listArgs: the last
// occurrence wins, as with argparse, unless appends is set.
type listValue struct {
	dst     *[]string
	appends bool
}

func (v listValue) Set(s string) error {
	var vals []string
	if s != "" {
		vals = strings.Split(strings.TrimPrefix(s, listSep), listSep)
	}
	if v.appends {
		*v.dst = append(*v.dst, vals...)
	} else {
		*v.dst = vals
	}
	return nil
}
func (v listValue) String() string { return strings.Join(*v.dst, " ") }
func (v listValue) Type() string   { return "PATH..." }

// wholeNumber is a flag holding a whole number in [0, max], as
// env/settings' numbers are checked: a larger one would overflow.
type wholeNumber struct {
	name string
	max  int64
	set  func(int64)
}

func (v wholeNumber) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || n < 0 {
		return usagef(2, "%s needs a whole number, got %q", v.name, s)
	}
	if err != nil || n > v.max {
		return usagef(2, "%s needs a whole number in [0, %d], got %q", v.name, v.max, s)
	}
	v.set(n)
	return nil
}
func (v wholeNumber) String() string { return "" }
func (v wholeNumber) Type() string   { return "N" }

// roleVarsValue is --role-vars: space-separated KEY=VALUE pairs.
type roleVarsValue struct{ dst *map[string]any }

func (v roleVarsValue) Set(s string) (err error) {
	*v.dst, err = parseRoleVars(s)
	return err
}
func (v roleVarsValue) String() string { return "" }
func (v roleVarsValue) Type() string   { return "'K=V ...'" }

type options struct {
	quiet, json   bool
	debug, dryRun bool
	logfile       string
	command       string // run, start, transmit or process
	pdd           string
	cfg           runner.Config
	t             target
	iso           isolation.Options
	dirIsolation  string
	flags         *pflag.FlagSet
	daemonChild   bool // start's background process
	transmit      stream.TransmitOptions
}

// target holds the flags that say what runs, until check has checked them
// and made them a runner.Target.
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

func (o *options) config() runner.Config {
	c := o.cfg
	c.PrivateDataDir = o.pdd
	c.JSONOutput = o.json
	c.Target = o.t.runnerTarget()
	return c
}

// isolationFlags are the flags that fill Config.Isolation: without one,
// env/settings decides.
var isolationFlags = []string{"process-isolation", "process-isolation-executable", "process-isolation-path",
	"container-image", "container-volume-mount", "container-option",
	"process-isolation-hide-paths", "process-isolation-ro-paths", "process-isolation-show-paths"}

// addRunFlags declares `ansible-runner run`'s flags on fs, read into o.
func addRunFlags(fs *pflag.FlagSet, o *options) {
	o.flags = fs
	c, t := &o.cfg, &o.t
	fs.StringVarP(&t.playbook, "playbook", "p", "", "`PLAYBOOK` to run, relative to the project dir")
	fs.StringVarP(&t.module, "module", "m", "", "run an ad hoc `MODULE` instead of a playbook")
	fs.StringVarP(&t.args, "args", "a", "", "module `ARGS` (with -m)")
	fs.StringVar(&t.hosts, "hosts", "", "host `PATTERN` (with -m or -r; default all)")
	fs.StringVarP(&t.role, "role", "r", "", "run one `ROLE` through a generated playbook")
	fs.StringArrayVar(&t.rolesPath, "roles-path", nil, "`DIR` where roles are found, before PDD/roles; repeatable")
	fs.Var(roleVarsValue{&t.roleVars}, "role-vars", "variables for the role (values read as literals)")
	fs.BoolVar(&t.roleSkipFacts, "role-skip-facts", false, "do not gather facts before the role")
	fs.StringVarP(&c.Ident, "ident", "i", "", "the `IDENT` naming this run's artifacts dir (default: a UUID)")
	fs.StringArrayVar(&c.Inventory.Sources, "inventory", nil, "inventory file or dir `PATH`; repeatable (default: PDD/inventory)")
	fs.StringVar(&t.sw.Limit, "limit", "", "--limit `PATTERN` for ansible")
	fs.StringVar(&c.Cmdline, "cmdline", "", "extra ansible `ARGS`, shell-quoted (replaces env/cmdline)")
	fs.Var(wholeNumber{"--forks", math.MaxInt, func(n int64) { t.sw.Forks = int(n) }}, "forks", "--forks for ansible")
	fs.CountVarP(&t.sw.Verbosity, "verbose", "v", "verbosity: -v ... -vvvvv")
	fs.Var(wholeNumber{"--rotate-artifacts", math.MaxInt, func(n int64) { c.RotateArtifacts = int(n) }}, "rotate-artifacts", "keep only the newest N artifact dirs (0: keep all)")
	fs.StringVar(&c.ArtifactDir, "artifact-dir", "", "`DIR` where artifact dirs go (default: PDD/artifacts)")
	fs.StringVar(&c.ProjectDir, "project-dir", "", "project `DIR` (default: PDD/project)")
	fs.StringVarP(&c.Binary, "binary", "b", "", "ansible binary `PATH` to run instead of ansible-playbook/ansible")
	fs.Var(wholeNumber{"--job-timeout", maxSeconds, func(n int64) { c.JobTimeout = secs(n) }}, "job-timeout", "end the run after N seconds")
	fs.Var(wholeNumber{"--idle-timeout", maxSeconds, func(n int64) { c.IdleTimeout = secs(n) }}, "idle-timeout", "end the run after N seconds without output")
	fs.BoolVar(&c.OmitEventData, "omit-event-data", false, "leave event_data out of every event")
	fs.BoolVar(&c.OnlyFailedEventData, "only-failed-event-data", false, "keep event_data only on failure events")
	fs.Bool("omit-env-files", false, "accepted: arunner never writes env/ files")
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "print no ansible text: a progress line (on a terminal) and the summary")
	fs.BoolVarP(&o.json, "json", "j", false, "print one JSON event per line instead of ansible's text")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print what would run (command, dir, env, files; secrets redacted) and exit, starting and writing nothing")
	fs.BoolVar(&o.debug, "debug", false, "print how the run is set up (command, dir, redacted env) on stderr")
	fs.StringVar(&o.logfile, "logfile", "", "with --debug, append those lines to `FILE` too")

	iso := &o.iso
	fs.BoolVar(&iso.Enabled, "process-isolation", false, "run ansible in a container or a bubblewrap sandbox")
	fs.StringVar(&iso.Executable, "process-isolation-executable", "", "`EXE`: podman (default) or docker run a container; any other name is bubblewrap's binary")
	fs.StringVar(&iso.Path, "process-isolation-path", "", "accepted, and nothing is put in `DIR`")
	fs.StringVar(&iso.Image, "container-image", "", "the execution environment `IMAGE`")
	fs.StringArrayVar(&iso.VolumeMounts, "container-volume-mount", nil, "`SRC:DST[:OPTS]` mounted in the container; repeatable")
	fs.StringArrayVar(&iso.ContainerOptions, "container-option", nil, "`OPT`, an engine argument; repeatable")
	fs.Var(listValue{dst: &iso.HidePaths}, "process-isolation-hide-paths", "paths hidden in the sandbox")
	fs.Var(listValue{dst: &iso.ROPaths}, "process-isolation-ro-paths", "paths read-only in the sandbox")
	fs.Var(listValue{dst: &iso.ShowPaths}, "process-isolation-show-paths", "paths writable in the sandbox")
	fs.StringVar(&o.dirIsolation, "directory-isolation-base-path", "", "a `DIR` for copies of the project: not supported, and refused (arunner does not copy the project)")
	fs.SortFlags = false
}

// check validates a run-like command line once cobra has read its flags:
// operands are the arguments left. It fills o.command and o.pdd.
func (o *options) check(command string, operands []string) error {
	if len(operands) != 1 {
		return usagef(2, "expected `%s PRIVATE_DATA_DIR`, got %q", command, append([]string{command}, operands...))
	}
	o.command, o.pdd = command, operands[0]
	for _, name := range isolationFlags {
		if o.flags.Changed(name) {
			o.cfg.Isolation = &o.iso
			break
		}
	}
	t := &o.t
	switch {
	case t.sw.Verbosity > 5:
		return usagef(2, "verbosity is at most 5 (-vvvvv)")
	case btoi(t.playbook != "")+btoi(t.module != "")+btoi(t.role != "") > 1:
		return usagef(2, "-p, -m and -r exclude each other")
	case t.module == "" && t.args != "":
		return usagef(2, "-a goes with -m")
	case t.role == "" && (t.rolesPath != nil || t.roleVars != nil || t.roleSkipFacts):
		return usagef(2, "--roles-path, --role-vars and --role-skip-facts go with -r")
	case t.module == "" && t.role == "" && t.hosts != "":
		return usagef(1, "--hosts goes with -m or -r")
	case o.flags.Changed("directory-isolation-base-path"):
		return usagef(1, "--directory-isolation-base-path is not supported: arunner does not copy the project for a run")
	case t.playbook == "" && t.module == "" && t.role == "" && o.command != "process" && !hasArgsFile(o.pdd):
		return usagef(1, "-p PLAYBOOK, -m MODULE or -r ROLE is required (or an args file in %s)", o.pdd)
	}
	return nil
}

// parseArgs reads a run-like command line (run, start, transmit or
// process) as realMain does, and returns its options without running
// anything.
func parseArgs(args []string) (*options, error) {
	var got *options
	a := &app{stdout: io.Discard, stderr: io.Discard, parsed: func(o *options) { got = o }}
	root := a.rootCommand()
	root.SetArgs(listArgs(args))
	if _, err := root.ExecuteC(); err != nil {
		return nil, err
	}
	if got == nil {
		return nil, usagef(2, "expected `run PRIVATE_DATA_DIR`, got %q", args)
	}
	return got, nil
}

// maxSeconds is the largest number of seconds a time.Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// hasArgsFile reports whether the private data dir pdd has an args file,
// which runs when no playbook, module or role is given.
func hasArgsFile(pdd string) bool {
	_, err := os.Stat(filepath.Join(pdd, "args"))
	return err == nil
}

func secs[N int | int64](n N) time.Duration { return time.Duration(n) * time.Second }

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
