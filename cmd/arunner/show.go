package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/arunner/arunner/runner"
)

// showCommand is `arunner show ARTIFACT_DIR`: a finished run's output, as
// it was shown, and its summary, from its artifacts (arunner's or
// ansible-runner's).
func (a *app) showCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show ARTIFACT_DIR",
		Short: "replay a finished run's output and summary from its artifacts dir",
		Long: `Prints a finished run's stdout, as it was shown, then its summary on
stderr, from PRIVATE_DATA_DIR/artifacts/IDENT, written by arunner or by
ansible-runner. The exit code is the run's rc.`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: cobra.FixedCompletions(nil, cobra.ShellCompDirectiveFilterDirs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef(2, "expected `show ARTIFACT_DIR`, got %q", args)
			}
			a.code = a.showMain(args[0])
			return nil
		},
	}
}

func (a *app) showMain(dir string) int {
	res, err := runner.LoadResult(dir)
	if err != nil {
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	t := newTally(true)
	for ev, err := range res.Events() {
		if err != nil {
			fmt.Fprintf(a.stderr, "arunner: %v\n", err)
			continue
		}
		t.see(ev)
	}
	f, err := os.Open(res.StdoutPath())
	if err != nil {
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	defer f.Close()
	// A reader that stopped early (arunner show DIR | head) is no fault:
	// the summary still says how the run went.
	if _, err := io.Copy(a.stdout, f); err != nil && !errors.Is(err, syscall.EPIPE) {
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	writeSummary(a.stderr, res, t, elapsedOf(res, t))
	return res.RC
}
