package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/pflag"

	"github.com/arunner/arunner/pool"
)

// poolWorkerOptions are `arunner worker --nats`'s flags.
type poolWorkerOptions struct {
	url       string
	queues    []string
	capacity  int
	name      string
	heartbeat time.Duration
	replicas  int
	creds     string // a .creds file (JWT and nkey seed)
	nkey      string // an nkey seed file
	tlsCA     string
	tlsCert   string
	tlsKey    string
}

// poolFlags are `arunner worker --nats`'s own flags: given without
// --nats, they are an error; the stream worker's flags go without it.
var poolFlags = []string{"queue", "capacity", "name", "heartbeat", "replicas",
	"nats-creds", "nats-nkey", "nats-tls-ca", "nats-tls-cert", "nats-tls-key"}

// addPoolFlags declares the pool worker's flags on worker's flag set fs.
func addPoolFlags(fs *pflag.FlagSet, o *poolWorkerOptions) {
	o.capacity = 1
	fs.StringVar(&o.url, "nats", "", "run a pool's jobs from NATS JetStream at `URL` (comma-separated servers) instead of one from stdin")
	fs.StringArrayVar(&o.queues, "queue", nil, "with --nats: a queue `NAME` to take jobs from; repeatable")
	fs.Var(atLeast{"--capacity", 1, &o.capacity}, "capacity", "with --nats: run at most N jobs at a time (default 1)")
	fs.StringVar(&o.name, "name", "", "with --nats: this worker's `NAME`")
	fs.Var(positiveDuration{"--heartbeat", &o.heartbeat}, "heartbeat", "with --nats: how often to tell the pool a job's worker is alive")
	fs.Var(atLeast{"--replicas", 1, &o.replicas}, "replicas", "with --nats: replicas of the pool's streams")
	fs.StringVar(&o.creds, "nats-creds", "", "with --nats: a .creds `FILE` (JWT and nkey seed)")
	fs.StringVar(&o.nkey, "nats-nkey", "", "with --nats: an nkey seed `FILE`")
	fs.StringVar(&o.tlsCA, "nats-tls-ca", "", "with --nats: the CA `FILE` to verify the server with")
	fs.StringVar(&o.tlsCert, "nats-tls-cert", "", "with --nats: a client certificate `FILE`")
	fs.StringVar(&o.tlsKey, "nats-tls-key", "", "with --nats: the client certificate's key `FILE`")
}

// check validates a pool worker's command line once cobra has read it:
// fs is worker's flag set, streamFlags the stream worker's own flags.
func (o *poolWorkerOptions) check(fs *pflag.FlagSet, streamFlags []string) error {
	for _, name := range streamFlags {
		if fs.Changed(name) {
			return usagef(2, "--%s does not go with --nats (a pool worker's jobs come from NATS)", name)
		}
	}
	switch {
	case o.url == "":
		return usagef(2, "--nats needs a URL")
	case len(o.queues) == 0:
		return usagef(2, "a pool worker needs at least one --queue")
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return usagef(2, "--nats-tls-cert and --nats-tls-key go together")
	}
	return nil
}

// atLeast is a flag holding a whole number of at least min.
type atLeast struct {
	name string
	min  int
	dst  *int
}

func (v atLeast) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < v.min {
		return usagef(2, "%s needs a whole number of at least %d, got %q", v.name, v.min, s)
	}
	*v.dst = n
	return nil
}
func (v atLeast) String() string { return "" }
func (v atLeast) Type() string   { return "N" }

// positiveDuration is a flag holding a duration above zero.
type positiveDuration struct {
	name string
	dst  *time.Duration
}

func (v positiveDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return usagef(2, "%s needs a duration such as 1s, got %q", v.name, s)
	}
	*v.dst = d
	return nil
}
func (v positiveDuration) String() string { return "" }
func (v positiveDuration) Type() string   { return "DURATION" }

// natsOptions are the connection's options: credentials and TLS as the
// NATS tools take them, and reconnects for ever (a worker outlives a
// server's restart).
func (o *poolWorkerOptions) natsOptions() ([]nats.Option, error) {
	opts := []nats.Option{nats.Name("arunner worker"), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second)}
	if o.creds != "" {
		opts = append(opts, nats.UserCredentials(o.creds))
	}
	if o.nkey != "" {
		opt, err := nats.NkeyOptionFromSeed(o.nkey)
		if err != nil {
			return nil, fmt.Errorf("--nats-nkey: %w", err)
		}
		opts = append(opts, opt)
	}
	if o.tlsCA != "" {
		opts = append(opts, nats.RootCAs(o.tlsCA))
	}
	if o.tlsCert != "" {
		opts = append(opts, nats.ClientCert(o.tlsCert, o.tlsKey))
	}
	return opts, nil
}

// parsePoolWorkerArgs reads `arunner worker --nats ...`'s arguments (after
// "worker") as realMain does, and returns them without running anything.
func parsePoolWorkerArgs(args []string) (*poolWorkerOptions, error) {
	var got *poolWorkerOptions
	a := &app{stdout: io.Discard, stderr: io.Discard, parsedPool: func(o *poolWorkerOptions) { got = o }}
	root := a.rootCommand()
	root.SetArgs(listArgs(append([]string{"worker"}, args...)))
	if _, err := root.ExecuteC(); err != nil {
		return nil, err
	}
	if got == nil {
		return nil, usagef(2, "--nats needs a URL")
	}
	return got, nil
}

// runPoolWorker serves the pool with o until ctx ends; 1 when it cannot.
func runPoolWorker(ctx context.Context, o *poolWorkerOptions, stderr io.Writer) int {
	nopts, err := o.natsOptions()
	if err != nil {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
		return 1
	}
	nc, err := nats.Connect(o.url, nopts...)
	if err != nil {
		fmt.Fprintf(stderr, "arunner: connecting to %s: %v\n", o.url, err)
		return 1
	}
	defer nc.Close()
	err = pool.Serve(ctx, nc, pool.WorkerOptions{
		Queues: o.queues, Capacity: o.capacity, Name: o.name, Heartbeat: o.heartbeat, Replicas: o.replicas,
		Logf: func(format string, args ...any) { fmt.Fprintf(stderr, "arunner worker: "+format+"\n", args...) },
	})
	if err != nil {
		fmt.Fprintf(stderr, "arunner: %v\n", err)
		return 1
	}
	return 0
}
