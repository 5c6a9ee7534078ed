// Command report runs a small bundled playbook (site.yml on the hosts of
// hosts, all of them this machine, one unreachable, one failing) through
// runner.Run and writes the run's report with report.Write: the page that
// docs/report.png shows (scripts/report-screenshot.sh takes the picture).
//
//	go run ./examples/report -o run.html
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/arunner/arunner/report"
	"github.com/arunner/arunner/runner"
)

var (
	//go:embed site.yml
	playbook []byte
	//go:embed hosts
	hosts string
)

func main() {
	out := flag.String("o", "run.html", "the report to write")
	flag.Parse()
	if err := run(context.Background(), *out, os.Stderr); err != nil {
		log.Fatal(err)
	}
}

// run runs the playbook and writes its report to out. A failed run is what
// the report is for: it is told on log, not returned.
func run(ctx context.Context, out string, logw io.Writer) error {
	pdd, err := os.MkdirTemp("", "report-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(pdd)
	res, err := runner.Run(ctx, runner.Config{
		PrivateDataDir: pdd,
		Ident:          "shop-rollout",
		Target:         runner.Playbook{Content: playbook},
		Inventory:      runner.Inventory{Text: hosts},
	})
	if res == nil {
		return err
	}
	fmt.Fprintf(logw, "run %s: status %s, rc %d (%v)\n", res.Ident, res.Status, res.RC, err)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := report.Write(f, res); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	abs, _ := filepath.Abs(out)
	fmt.Fprintf(logw, "report: %s\n", abs)
	return nil
}
