// Package pool runs jobs on a pool of workers joined by NATS JetStream: a
// controller submits a runner.Config to a named queue, one worker of that
// queue runs it through stream.Worker, and the controller sees the run
// through stream.Process, with the same hooks, Result and artifacts as a
// local run. A job is the transmit stream of package stream; its results
// are the worker's stream, kept on the server until the controller has
// collected them, so that a restarted controller can Attach to a job and
// replay it from the start.
//
//	c, err := pool.NewClient(ctx, nc, pool.Options{})
//	job, err := c.Submit(ctx, "default", cfg, pool.SubmitOptions{})
//	res, err := job.Wait(ctx)
//
//	// on each worker machine
//	err := pool.Serve(ctx, nc, pool.WorkerOptions{Queues: []string{"default"}, Capacity: 4})
//
// Delivery: a job no worker has started is delivered again until one
// does: a worker that dies after claiming a job and before starting
// ansible for it (while it unpacks the private data dir) has its job
// queued again as a new attempt once its heartbeats stop, and the
// caller's hooks see only the attempt that runs. A job whose worker dies
// after it started ansible is not run again silently: it ends with
// StatusError and a *WorkerLostError once its heartbeats stop for
// Options.HeartbeatTimeout, unless it was submitted with
// SubmitOptions.Rerun. A job runs at most once unless Rerun is set, and
// none is lost while the server keeps its streams.
package pool
