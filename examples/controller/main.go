// Command controller is a small AWX-shaped controller built on arunner's
// public packages: an HTTP API for credentials, inventories, projects and
// job templates; a dispatcher that runs jobs through runner.Run within a
// capacity; a callback receiver that stores every event once and streams it
// on a WebSocket; a web page to launch, watch and cancel jobs.
//
// With no flags it keeps everything in SQLite under -data and queues events
// in process, so it runs on a machine with nothing but ansible installed:
//
//	go run . [-listen 127.0.0.1:8052] [-data DIR] [-db postgres://...] [-redis HOST:PORT] [-capacity N] [-demo=false]
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/arunner/arunner/runner"
)

// Options configure a controller.
type Options struct {
	DataDir     string // SQLite's file, the key of the secrets, the jobs' private data dirs, the projects' checkouts
	DatabaseURL string // PostgreSQL instead of SQLite
	RedisAddr   string // a Redis stream instead of the in-process queue
	Capacity    int
	Log         *slog.Logger
	// Prepare adjusts each run's Config (tests point it at a fake ansible).
	Prepare func(*runner.Config)
	// Worker runs the jobs through arunner's transmit | worker | process
	// stream, the way remote jobs go, with the worker in process.
	Worker bool
}

// App is a running controller: the store, the queue, the dispatcher and
// the callback receiver, and the HTTP API over them.
type App struct {
	Store      Store
	Queue      Queue
	Dispatcher *Dispatcher
	Receiver   *Receiver
	Controller *Controller

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Open starts a controller: it reaps the jobs a previous one left running,
// then dispatches and receives until Close.
func Open(ctx context.Context, o Options) (*App, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Capacity <= 0 {
		o.Capacity = 20
	}
	secrets, err := openSecretBox(o.DataDir)
	if err != nil {
		return nil, err
	}
	store, err := OpenStore(ctx, o.DatabaseURL, o.DataDir)
	if err != nil {
		return nil, err
	}
	var q Queue = newMemQueue()
	if o.RedisAddr != "" {
		q = newRedisQueue(o.RedisAddr)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	hub := NewHub()
	a := &App{
		Store: store, Queue: q, cancel: cancel,
		Dispatcher: &Dispatcher{Store: store, Queue: q, DataDir: o.DataDir, Capacity: o.Capacity, Log: o.Log, Prepare: o.Prepare, Secrets: secrets},
		Receiver:   &Receiver{Store: store, Queue: q, Hub: hub, Log: o.Log},
	}
	if o.Worker {
		a.Dispatcher.Run = runThroughWorker
	}
	a.Controller = &Controller{Store: store, Dispatcher: a.Dispatcher, Hub: hub}
	if err := a.Dispatcher.Start(ctx); err != nil {
		cancel()
		store.Close()
		return nil, err
	}
	a.wg.Go(func() { _ = a.Receiver.Run(ctx) })
	return a, nil
}

// Close stops dispatching, cancels the running jobs and waits for them,
// then closes the queue and the store.
func (a *App) Close() error {
	a.cancel()
	a.Dispatcher.Wait()
	a.wg.Wait()
	return errors.Join(a.Queue.Close(), a.Store.Close())
}

func main() {
	home, _ := os.UserHomeDir()
	var o Options
	listen := flag.String("listen", "127.0.0.1:8052", "HTTP address of the API and the web page")
	flag.StringVar(&o.DataDir, "data", filepath.Join(home, ".local/share/arunner-controller"), "data directory")
	flag.StringVar(&o.DatabaseURL, "db", os.Getenv("DATABASE_URL"), "PostgreSQL URL (default: SQLite in the data directory)")
	flag.StringVar(&o.RedisAddr, "redis", os.Getenv("REDIS_ADDR"), "Redis address for the event queue (default: in process)")
	flag.IntVar(&o.Capacity, "capacity", 20, "capacity in AWX's units: a job weighs forks+1")
	flag.BoolVar(&o.Worker, "worker", false, "run jobs through the transmit | worker | process stream (worker in process)")
	demo := flag.Bool("demo", true, "when there is no job template, create a demo inventory, project and template")
	flag.Parse()
	// ansible inherits the controller's environment, and job_env records
	// it: the database URL (its password) goes no further than here.
	os.Unsetenv("DATABASE_URL")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app, err := Open(ctx, o)
	if err != nil {
		log.Fatal(err)
	}
	if *demo {
		if _, err := seedDemo(ctx, app.Controller, o.DataDir); err != nil {
			log.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: app.Controller.Handler()}
	go func() { <-ctx.Done(); srv.Close() }()
	slog.Info("controller listening", "url", "http://"+ln.Addr().String(), "data", o.DataDir)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
	}
	if err := app.Close(); err != nil {
		log.Fatal(err)
	}
}
