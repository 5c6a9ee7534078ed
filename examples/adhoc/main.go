// Command adhoc runs an ad hoc command, `ansible localhost -m ping`, through
// runner.Run and prints each host's outcome as its event arrives, from the
// EventHandler hook.
//
//	go run ./examples/adhoc [-m MODULE] [-a ARGS]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

// Only localhost, over the local connection, with the python that runs
// ansible.
const hosts = "localhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n"

func main() {
	module := flag.String("m", "ping", "module")
	args := flag.String("a", "", "module arguments")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *module, *args); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, module, args string) error {
	pdd, err := os.MkdirTemp("", "adhoc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(pdd)

	var mu sync.Mutex // the handler runs on the runner's goroutine
	res, err := runner.Run(ctx, runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.AdHoc{Module: module, Args: args, Hosts: "localhost"},
		Inventory:      runner.Inventory{Text: hosts}, // for this run only
		EventHandler: func(ev *events.Event) bool {
			if outcome, ok := strings.CutPrefix(ev.Event, "runner_on_"); ok && outcome != "start" {
				mu.Lock()
				fmt.Fprintf(w, "%s: %s (changed=%t)\n", ev.Host(), outcome, ev.Changed())
				mu.Unlock()
			}
			return true // keep it in job_events
		},
	})
	if res != nil {
		fmt.Fprintf(w, "status=%s rc=%d\n", res.Status, res.RC)
	}
	return err
}
