package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/arunner/arunner/pool"
)

const poolWorkerUsage = `usage: arunner worker --nats URL --queue NAME [--queue NAME ...] [--capacity N]
                      [--name NAME] [--heartbeat DURATION] [--replicas N]
                      [--nats-creds FILE] [--nats-nkey FILE]
                      [--nats-tls-ca FILE] [--nats-tls-cert FILE --nats-tls-key FILE]

Runs jobs of a worker pool on NATS JetStream (package pool) until SIGINT or
SIGTERM: at most N at a time (default 1), only from the queues named, each
in a temporary private data dir removed after it. On SIGINT or SIGTERM it
takes no more jobs, cancels the running ones and exits once their results
are published. URL may list several servers, comma-separated. The server
must be nats-server 2.9 or later with JetStream (-js).
`

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
	help      bool
}

// isPoolWorker says whether `arunner worker`'s args are a pool worker's.
func isPoolWorker(args []string) bool {
	return slices.ContainsFunc(args, func(a string) bool { n, _, _ := splitFlag(a); return n == "--nats" })
}

func parsePoolWorkerArgs(args []string) (*poolWorkerOptions, error) {
	o := &poolWorkerOptions{capacity: 1}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, hasValue := splitFlag(a)
		next := func() (string, error) { return flagValue(args, &i, name, value, hasValue) }
		number := func(min int) (int, error) {
			s, err := next()
			if err != nil {
				return 0, err
			}
			n, err := strconv.Atoi(s)
			if err != nil || n < min {
				return 0, usagef(2, "%s needs a whole number of at least %d, got %q", name, min, s)
			}
			return n, nil
		}
		var err error
		switch name {
		case "-h", "--help":
			o.help = true
		case "--nats":
			o.url, err = next()
		case "--queue":
			var q string
			if q, err = next(); err == nil {
				o.queues = append(o.queues, q)
			}
		case "--capacity":
			o.capacity, err = number(1)
		case "--name":
			o.name, err = next()
		case "--heartbeat":
			var s string
			if s, err = next(); err == nil {
				if o.heartbeat, err = time.ParseDuration(s); err != nil || o.heartbeat <= 0 {
					err = usagef(2, "--heartbeat needs a duration such as 1s, got %q", s)
				}
			}
		case "--replicas":
			o.replicas, err = number(1)
		case "--nats-creds":
			o.creds, err = next()
		case "--nats-nkey":
			o.nkey, err = next()
		case "--nats-tls-ca":
			o.tlsCA, err = next()
		case "--nats-tls-cert":
			o.tlsCert, err = next()
		case "--nats-tls-key":
			o.tlsKey, err = next()
		default:
			err = usagef(2, "unknown argument %s", a)
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case o.help:
	case o.url == "":
		return nil, usagef(2, "--nats needs a URL")
	case len(o.queues) == 0:
		return nil, usagef(2, "a pool worker needs at least one --queue")
	case (o.tlsCert == "") != (o.tlsKey == ""):
		return nil, usagef(2, "--nats-tls-cert and --nats-tls-key go together")
	}
	return o, nil
}

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

// poolWorkerMain is `arunner worker --nats`.
func poolWorkerMain(args []string, stdout, stderr io.Writer) int {
	o, err := parsePoolWorkerArgs(args)
	if err != nil {
		return usageExit(err, poolWorkerUsage, stderr)
	}
	if o.help {
		fmt.Fprint(stdout, poolWorkerUsage)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runPoolWorker(ctx, o, stderr)
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
