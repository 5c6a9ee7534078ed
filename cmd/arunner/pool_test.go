package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/pool"
	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

func TestPoolWorkerArgs(t *testing.T) {
	o, err := parsePoolWorkerArgs(strings.Fields("--nats nats://127.0.0.1:4222 --queue a --queue=b --capacity 3 --name w1 --heartbeat 2s --replicas 3 --nats-creds /c --nats-tls-ca /ca --nats-tls-cert /crt --nats-tls-key /key"))
	require.NoError(t, err)
	assert.Equal(t, &poolWorkerOptions{url: "nats://127.0.0.1:4222", queues: []string{"a", "b"}, capacity: 3, name: "w1",
		heartbeat: 2 * time.Second, replicas: 3, creds: "/c", tlsCA: "/ca", tlsCert: "/crt", tlsKey: "/key"}, o)
	for args, want := range map[string]string{
		"--nats u":                             "at least one --queue",
		"--queue q":                            "--nats needs a URL",
		"--nats u --queue q --capacity 0":      "--capacity needs a whole number",
		"--nats u --queue q --heartbeat x":     "--heartbeat needs a duration",
		"--nats u --queue q --nats-tls-cert c": "go together",
		"--nats u --queue q --delete":          "--delete does not go with --nats",
		"--nats u --queue q --bogus":           "unknown argument --bogus",
	} {
		_, err := parsePoolWorkerArgs(strings.Fields(args))
		assert.ErrorContains(t, err, want, args)
	}
}

// `arunner worker --nats` runs a pool's jobs; SIGINT (here: its context)
// stops it.
func TestPoolWorkerRuns(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	require.NoError(t, err)
	go ns.Start()
	require.True(t, ns.ReadyForConnections(10*time.Second))
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	wctx, stop := context.WithCancel(ctx)
	var stderr bytes.Buffer
	var wg sync.WaitGroup
	rc := -1
	wg.Go(func() {
		rc = runPoolWorker(wctx, &poolWorkerOptions{url: ns.ClientURL(), queues: []string{"cli"}, capacity: 2, name: "cli-worker"}, &stderr)
	})

	nc, err := nats.Connect(ns.ClientURL())
	require.NoError(t, err)
	defer nc.Close()
	c, err := pool.NewClient(ctx, nc, pool.Options{})
	require.NoError(t, err)
	fake := runnertest.New(t, runnertest.Play("deploy", "web", runnertest.Task("install", runnertest.Changed("web1"))))
	cfg := runner.Config{PrivateDataDir: runnertest.PrivateDataDir(t), Ident: "cli", Target: runner.Playbook{Path: "site.yml"}}
	fake.Apply(&cfg)
	job, err := c.Submit(ctx, "cli", cfg, pool.SubmitOptions{})
	require.NoError(t, err)
	res, err := job.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, runner.StatusSuccessful, res.Status)
	stop()
	wg.Wait()
	assert.Equal(t, 0, rc, stderr.String())
	assert.Contains(t, stderr.String(), "arunner worker: job "+job.ID())
}
