package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// app is one arunner invocation: where it writes, and the exit code its
// command set.
type app struct {
	stdout, stderr io.Writer
	stdin          *os.File
	args           []string // the command line, for start's background run
	code           int
	// parsed, when set, receives a run-like command's checked options
	// instead of running them (parseArgs).
	parsed func(*options)
	// parsedPool, when set, receives a pool worker's checked options
	// instead of running it (parsePoolWorkerArgs).
	parsedPool func(*poolWorkerOptions)
}

// usageTemplate is every command's help: argparse's "usage:" line, what
// the command does, its subcommands and its flags.
const usageTemplate = `usage: {{.UseLine}}{{if .HasAvailableSubCommands}}

Commands:{{range .Commands}}{{if .IsAvailableCommand}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}
`

const helpTemplate = `{{with (or .Long .Short)}}{{. | trimTrailingWhitespaces}}

{{end}}{{.UsageString}}`

// rootCommand builds arunner's command tree. cobra reads the flags, gives
// each command its own --help and makes the shell completion scripts;
// argparse's spelling of ansible-runner's flags is kept (listArgs).
func (a *app) rootCommand() *cobra.Command {
	var showVersion bool
	root := &cobra.Command{
		Use:   "arunner COMMAND",
		Short: "arunner runs ansible the way ansible-runner does",
		Long: `arunner runs ansible the way ansible-runner does: the same private data dir,
flags, artifacts and exit code.

  arunner run PRIVATE_DATA_DIR -p site.yml [--limit web] [-vvv] [-j]
  arunner run PRIVATE_DATA_DIR -m ping --hosts all`,
		Args:          cobra.ArbitraryArgs,
		SilenceErrors: true,
		SilenceUsage:  true,
		// --version, as ansible-runner's, goes with any command.
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if showVersion {
				fmt.Fprintln(a.stdout, "arunner", version)
				return errVersionShown
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef(2, "unknown command %q: expected `run PRIVATE_DATA_DIR` or another command", args[0])
			}
			return usagef(2, "expected a command, such as `run PRIVATE_DATA_DIR`")
		},
	}
	root.PersistentFlags().BoolVar(&showVersion, "version", false, "print arunner's version")
	// A flag before an unknown command is that command's problem.
	root.FParseErrWhitelist.UnknownFlags = true
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetUsageTemplate(usageTemplate)
	root.SetHelpTemplate(helpTemplate)
	// Help goes to stdout in one write whose error is not reported: a
	// reader that stopped early (arunner run --help | head) is no fault.
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(c *cobra.Command, args []string) {
		var b bytes.Buffer
		c.SetOut(&b)
		defaultHelp(c, args)
		c.SetOut(a.stdout)
		a.stdout.Write(b.Bytes())
	})
	root.SetFlagErrorFunc(flagError("flag"))
	root.CompletionOptions.HiddenDefaultCmd = false

	for _, c := range []struct{ name, short string }{
		{"run", "run ansible in the foreground"},
		{"start", "run ansible in the background (pid file and daemon.log in PRIVATE_DATA_DIR)"},
		{"transmit", "write a run's job to stdout for `arunner worker` (or ansible-runner's)"},
		{"process", "read a worker's stream from stdin into PRIVATE_DATA_DIR's artifacts"},
	} {
		root.AddCommand(a.runCommand(c.name, c.short))
	}
	root.AddCommand(a.stopCommand(), a.isAliveCommand(), a.workerCommand(), a.inventoryCommand(),
		a.showCommand(), a.reportCommand())
	return root
}

// runCommand is run, or one of the commands that take run's command line:
// start runs it in the background, transmit sends it to a worker, process
// takes the worker's stream back (stream.go).
func (a *app) runCommand(name, short string) *cobra.Command {
	o := &options{}
	use := name + " PRIVATE_DATA_DIR (-p PLAYBOOK | -m MODULE | -r ROLE) [flags]"
	if name == "process" {
		use = "process PRIVATE_DATA_DIR [-i IDENT] [flags]"
	}
	cmd := &cobra.Command{
		Use:               use,
		Short:             short,
		Long:              runLong,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveFilterDirs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(name, args); err != nil {
				return err
			}
			if a.parsed != nil {
				a.parsed(o)
				return nil
			}
			a.code = a.runLike(o)
			return nil
		},
	}
	addRunFlags(cmd.Flags(), o)
	if name == "transmit" {
		// ansible-runner's run() argument only_transmit_kwargs, which its
		// CLI does not offer, spelt as its CLI spells the others.
		cmd.Flags().BoolVar(&o.transmit.OnlyKwargs, "only-transmit-kwargs", false,
			"send the kwargs line and eof without the zip of the private data dir")
	}
	if name == "start" {
		cmd.Flags().BoolVar(&o.daemonChild, daemonChildFlag, false, "")
		cmd.Flags().MarkHidden(daemonChildFlag)
	}
	for _, f := range []string{"playbook", "project-dir", "artifact-dir", "logfile", "inventory", "binary"} {
		cmd.MarkFlagFilename(f)
	}
	return cmd
}

// errVersionShown ends a command line with --version, once the version
// is printed.
var errVersionShown = errors.New("version shown")

// execute runs the command line args and returns the exit code.
func (a *app) execute(args []string) int {
	a.args = args
	root := a.rootCommand()
	root.SetArgs(listArgs(args))
	cmd, err := root.ExecuteC()
	if err == errVersionShown {
		return 0
	}
	// A reader that stopped early (arunner completion bash | head) is no
	// fault, as for help, and no cause for the usage.
	if errors.Is(err, syscall.EPIPE) {
		return 0
	}
	if err != nil {
		usage := cmd.UsageString()
		if cmd == root && !strings.HasPrefix(err.Error(), "unknown command") {
			usage = root.UsageString()
		}
		return usageExit(err, usage, a.stderr)
	}
	return a.code
}
