package pool_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/arunner/arunner/pool"
	"github.com/arunner/arunner/runner"
)

// exampleJob lays out a private data dir whose "ansible-playbook" is a
// shell script printing one line, so that the example needs no ansible.
func exampleJob(dir string) runner.Config {
	os.MkdirAll(filepath.Join(dir, "job", "project"), 0o700)
	os.WriteFile(filepath.Join(dir, "job", "project", "site.yml"), []byte("[]\n"), 0o600)
	bin := filepath.Join(dir, "ansible-playbook")
	os.WriteFile(bin, []byte("#!/bin/sh\necho hello from the pool\n"), 0o700)
	return runner.Config{PrivateDataDir: filepath.Join(dir, "job"), Ident: "example", Target: runner.Playbook{Path: "site.yml"}, Binary: bin}
}

// A server, a worker and a controller in one program; across machines the
// worker is `arunner worker --nats URL --queue default`.
func Example() {
	dir, _ := os.MkdirTemp("", "pool-example-")
	defer os.RemoveAll(dir)
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: filepath.Join(dir, "nats"), NoLog: true, NoSigs: true})
	if err != nil {
		log.Fatal(err)
	}
	go ns.Start()
	defer ns.Shutdown()
	ns.ReadyForConnections(10 * time.Second)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	wctx, stopWorker := context.WithCancel(ctx)
	served := make(chan error)
	go func() { served <- pool.Serve(wctx, nc, pool.WorkerOptions{Queues: []string{"default"}, Capacity: 2}) }()

	c, err := pool.NewClient(ctx, nc, pool.Options{})
	if err != nil {
		log.Fatal(err)
	}
	cfg := exampleJob(dir)
	cfg.StatusHandler = func(u runner.StatusUpdate) { fmt.Println("status:", u.Status) }
	job, err := c.Submit(ctx, "default", cfg, pool.SubmitOptions{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := job.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}
	stdout, _ := os.ReadFile(filepath.Join(res.ArtifactDir, "stdout"))
	fmt.Printf("rc: %d stdout: %s", res.RC, stdout)
	stopWorker()
	<-served
	// Output:
	// status: starting
	// status: running
	// status: successful
	// rc: 0 stdout: hello from the pool
}
