package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/arunner/arunner/runner"
)

const usage = `usage: arunner run PRIVATE_DATA_DIR (-p PLAYBOOK | -m MODULE) [options]

  -p, --playbook PLAYBOOK   playbook to run, relative to the project dir
  -m, --module MODULE       run an ad hoc module instead of a playbook
  -a, --args ARGS           module arguments (with -m)
      --hosts PATTERN       host pattern (with -m; default all)
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
  -q, --quiet               print nothing but errors
  -j, --json                print one JSON event per line instead of ansible's text
      --version             print arunner's version

The exit code is ansible's rc, as with ansible-runner.
`

type options struct {
	help, version, quiet, json bool
	pdd                        string
	cfg                        runner.Config
}

func (o *options) config() runner.Config {
	c := o.cfg
	c.PrivateDataDir = o.pdd
	c.JSONOutput = o.json
	return c
}

// parseArgs reads ansible-runner's `run` command line. Flags and operands may
// come in any order; -v may be repeated or stacked (-vvv).
func parseArgs(args []string) (*options, error) {
	o := &options{}
	var operands []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "--") {
			name, hasValue = a, false
		}
		next := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		nextInt := func() (int, error) {
			s, err := next()
			if err != nil {
				return 0, err
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("%s needs a whole number, got %q", name, s)
			}
			return n, nil
		}
		var err error
		c := &o.cfg
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
			c.Playbook, err = next()
		case "-m", "--module":
			c.Module, err = next()
		case "-a", "--args":
			c.ModuleArgs, err = next()
		case "--hosts":
			c.HostPattern, err = next()
		case "-i", "--ident":
			c.Ident, err = next()
		case "--inventory":
			var inv string
			inv, err = next()
			c.Inventory = append(c.Inventory, inv)
		case "--limit":
			c.Limit, err = next()
		case "--cmdline":
			c.Cmdline, err = next()
		case "--forks":
			c.Forks, err = nextInt()
		case "--rotate-artifacts":
			c.RotateArtifacts, err = nextInt()
		case "--artifact-dir":
			c.ArtifactDir, err = next()
		case "--project-dir":
			c.ProjectDir, err = next()
		case "-b", "--binary":
			c.Binary, err = next()
		case "--job-timeout", "--idle-timeout":
			var n int
			n, err = nextInt()
			d := secs(n)
			if name == "--job-timeout" {
				c.JobTimeout = d
			} else {
				c.IdleTimeout = d
			}
		case "--verbose":
			c.Verbosity++
		default:
			switch {
			case len(a) > 1 && a[0] == '-' && strings.Trim(a[1:], "v") == "":
				c.Verbosity += len(a) - 1
			case strings.HasPrefix(a, "-") && a != "-":
				return nil, fmt.Errorf("unknown flag %s", a)
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
	if len(operands) != 2 || operands[0] != "run" {
		return nil, fmt.Errorf("expected `run PRIVATE_DATA_DIR`, got %q", operands)
	}
	o.pdd = operands[1]
	c := &o.cfg
	switch {
	case c.Verbosity > 5:
		return nil, fmt.Errorf("verbosity is at most 5 (-vvvvv)")
	case c.Playbook == "" && c.Module == "":
		return nil, fmt.Errorf("-p PLAYBOOK or -m MODULE is required")
	case c.Playbook != "" && c.Module != "":
		return nil, fmt.Errorf("-p and -m exclude each other")
	case c.Module == "" && (c.ModuleArgs != "" || c.HostPattern != ""):
		return nil, fmt.Errorf("-a and --hosts go with -m")
	}
	return o, nil
}

func secs(n int) time.Duration { return time.Duration(n) * time.Second }
