// Command pool runs a worker pool on NATS JetStream in one program: an
// embedded nats-server on a loopback port, two workers (pool.Serve) and a
// controller that submits a few playbook runs (pool.Client.Submit) and
// prints each one's events and result as its Wait collects them. Across
// machines the workers are `arunner worker --nats URL --queue default`;
// with -server URL the program is only the controller, submitting to the
// queue "default" of that server, for workers started by hand.
//
//	go run ./examples/pool [-jobs N] [-server nats://127.0.0.1:4222]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/pool"
	"github.com/arunner/arunner/runner"
)

// The playbook each job runs, against localhost.
const (
	playbook = `- hosts: all
  gather_facts: false
  tasks:
    - name: say hello
      debug:
        msg: "hello from {{ job }}"
`
	hosts = "localhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n"
)

func main() {
	jobs := flag.Int("jobs", 3, "jobs to submit")
	url := flag.String("server", "", "a NATS server with JetStream whose workers take the queue \"default\"; empty: an embedded server and two workers of its own")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout, *jobs, *url); err != nil {
		log.Fatal(err)
	}
}

// run submits jobs to the server at url, or to a server and workers of its
// own when url is empty, and prints what comes back.
func run(ctx context.Context, w io.Writer, jobs int, url string) error {
	dir, err := os.MkdirTemp("", "pool-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if url == "" {
		var stop func()
		url, stop, err = startPool(ctx, dir)
		if err != nil {
			return err
		}
		defer stop()
	}
	return submit(ctx, w, dir, jobs, url)
}

// startPool starts an embedded server and two workers; stop ends them.
func startPool(ctx context.Context, dir string) (url string, stop func(), err error) {
	// The server: what `nats-server -js -a 127.0.0.1 -sd DIR` runs.
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: filepath.Join(dir, "nats"), NoLog: true, NoSigs: true})
	if err != nil {
		return "", nil, err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return "", nil, fmt.Errorf("nats-server did not start")
	}

	// Two workers, one job at a time each; in production, each on its
	// machine with a connection of its own (credentials, TLS).
	wctx, stopWorkers := context.WithCancel(ctx)
	var workers sync.WaitGroup
	stop = func() {
		stopWorkers()
		workers.Wait()
		ns.Shutdown()
		ns.WaitForShutdown()
	}
	for _, name := range []string{"worker-a", "worker-b"} {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			stop()
			return "", nil, err
		}
		workers.Go(func() {
			defer nc.Close()
			if err := pool.Serve(wctx, nc, pool.WorkerOptions{Queues: []string{"default"}, Capacity: 1, Name: name}); err != nil {
				log.Print(err)
			}
		})
	}
	return ns.ClientURL(), stop, nil
}

// submit is the controller: it submits jobs to the queue "default" of the
// server at url and waits for each.
func submit(ctx context.Context, w io.Writer, dir string, jobs int, url string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	c, err := pool.NewClient(ctx, nc, pool.Options{})
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, jobs)
	for i := range jobs {
		pdd := filepath.Join(dir, fmt.Sprintf("job%d", i))
		if err := os.MkdirAll(filepath.Join(pdd, "project"), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte(playbook), 0o600); err != nil {
			return err
		}
		name := fmt.Sprintf("job%d", i)
		job, err := c.Submit(ctx, "default", runner.Config{
			PrivateDataDir: pdd,
			Ident:          name,
			Target:         runner.Playbook{Path: "site.yml"},
			ExtraVars:      map[string]any{"job": name},
			Inventory:      runner.Inventory{Text: hosts},
			EventHandler: func(ev *events.Event) bool {
				var res struct{ Msg string }
				if ev.Event == "runner_on_ok" && json.Unmarshal(ev.Res(), &res) == nil {
					mu.Lock()
					fmt.Fprintf(w, "%s: %s: %s\n", name, ev.Host(), res.Msg)
					mu.Unlock()
				}
				return true
			},
		}, pool.SubmitOptions{})
		if err != nil {
			return err
		}
		wg.Go(func() {
			res, err := job.Wait(ctx)
			errs[i] = err
			if res != nil {
				mu.Lock()
				fmt.Fprintf(w, "%s: status=%s rc=%d\n", name, res.Status, res.RC)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
