package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/arunner/arunner/report"
)

// reportCommand is `arunner report ARTIFACT_DIR -o run.html`: one
// self-contained HTML page of a finished run (package report), from
// arunner's artifacts or ansible-runner's.
func (a *app) reportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report ARTIFACT_DIR [-o FILE]",
		Short: "write a finished run's report: one self-contained HTML page",
		Long: `Writes one self-contained HTML page (no network, no script) of a finished
run, from PRIVATE_DATA_DIR/artifacts/IDENT written by arunner or by
ansible-runner: a timeline of tasks per host, the slowest tasks, the
failures with their messages, the recap and the coloured stdout. Without
-o, the page goes to stdout.`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveFilterDirs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef(2, "expected `report ARTIFACT_DIR`, got %q", args)
			}
			a.code = a.reportMain(args[0], out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the `FILE` to write (default: stdout)")
	cmd.MarkFlagFilename("output", "html")
	return cmd
}

// reportMain writes the report of the run in dir to out, or to stdout
// when out is "" or "-". A file is written whole or not at all: the page
// goes to a temporary file beside it, renamed into place.
func (a *app) reportMain(dir, out string) int {
	if out == "" || out == "-" {
		// A reader that stopped early (arunner report DIR | head) is no
		// fault.
		if err := report.WriteDir(a.stdout, dir); err != nil && !errors.Is(err, syscall.EPIPE) {
			fmt.Fprintf(a.stderr, "arunner: %v\n", err)
			return 1
		}
		return 0
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
	if err != nil {
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	err = report.WriteDir(f, dir)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), out)
	}
	if err != nil {
		os.Remove(f.Name())
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	return 0
}
