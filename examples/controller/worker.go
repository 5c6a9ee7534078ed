package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/stream"
)

// runThroughWorker runs a job the way a remote one goes, over
// ansible-runner's transmit | worker | process stream: Transmit packs the
// Config and its private data dir, a Worker unpacks and runs it, Process
// hands its events and status to the Config's hooks. Here the worker is in
// process, joined by pipes; for a worker on another machine, replace it
// with stream.RunSSH (`arunner worker` over SSH) or Receptor.
func runThroughWorker(ctx context.Context, cfg runner.Config) (*runner.Result, error) {
	// A worker elsewhere has no checkout of the project: it goes into the
	// private data dir, which Transmit packs, as AWX copies the project
	// into each job's dir.
	if cfg.ProjectDir != "" {
		if err := os.CopyFS(filepath.Join(cfg.PrivateDataDir, "project"), os.DirFS(cfg.ProjectDir)); err != nil {
			return nil, fmt.Errorf("copy the project for the worker: %w", err)
		}
		cfg.ProjectDir = ""
	}
	jobR, jobW := io.Pipe()
	resR, resW := io.Pipe()
	workerCtx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	done := make(chan struct{})
	go func() { jobW.CloseWithError(stream.Transmit(jobW, cfg)) }()
	go func() {
		defer close(done)
		// Nothing of the job stays on the worker.
		_, err := stream.Worker(workerCtx, jobR, resW, stream.WorkerOptions{Delete: true})
		resW.CloseWithError(err)
	}()
	res, err := stream.Process(ctx, resR, cfg)
	// Process ends first when the job is canceled: the worker's run is
	// canceled then, and the job ends once it is over, its process tree
	// gone, as a local run's does.
	stopWorker()
	resR.Close()
	jobR.Close()
	<-done
	return res, err
}
