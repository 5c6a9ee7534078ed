package pool

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

// slowPlay runs until it is killed: an event, then a long sleep.
var slowPlay = []runnertest.Step{
	runnertest.Play("first", "all", runnertest.Task("before", runnertest.OK("localhost"))),
	runnertest.Sleep(time.Minute),
	runnertest.Play("second", "all", runnertest.Task("after", runnertest.OK("localhost"))),
}

// waitState polls the job's record until it is in state.
func waitState(t testing.TB, c *Client, id, state string) record {
	var rec record
	eventually(t, 30*time.Second, "job "+id+" "+state, func() bool {
		r, _, err := c.s.getRecord(context.Background(), id)
		rec = r
		return err == nil && r.State == state
	})
	return rec
}

// A worker killed with -9 while it runs a job: the job ends in error,
// naming the worker, within the heartbeat timeout; the jobs it had not
// started run on another worker, once.
func TestPoolWorkerKilled(t *testing.T) {
	ns := startServer(t)
	slow := runnertest.New(t, slowPlay...)
	killFakes(t, slow)
	quick := runnertest.New(t, quickPlay...)
	want := localEventNames(t, jobConfig(t, quick, "local"))
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	doomed := startWorker(t, ns.ClientURL(), "doomed", 1, "default")
	cfg := jobConfig(t, slow, "slow")
	var got atomic.Int32
	cfg.EventHandler = func(*events.Event) bool { got.Add(1); return true }
	job, err := c.Submit(ctx, "default", cfg, SubmitOptions{})
	require.NoError(t, err)
	waitState(t, c, job.ID(), stateRunning)
	eventually(t, 30*time.Second, "the first events", func() bool { return len(procsOf(slow.Env[runnertest.ScriptEnv])) > 0 })

	// Queued behind the slow job: the doomed worker has no room for them.
	var ids []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		ids = runJobs(t, c, quick, "default", 5, want)
	}()
	time.Sleep(300 * time.Millisecond)
	waitRes := make(chan error, 1)
	var res *runner.Result
	go func() {
		var err error
		res, err = job.Wait(ctx)
		waitRes <- err
	}()
	eventually(t, 30*time.Second, "the slow job's first events", func() bool { return got.Load() > 0 })
	require.NoError(t, doomed.cmd.Process.Kill())
	killed := time.Now()
	rescuer := startWorker(t, ns.ClientURL(), "rescuer", 2, "default")

	select {
	case err = <-waitRes:
	case <-ctx.Done():
		t.Fatal("the lost job's Wait did not return")
	}
	took := time.Since(killed)
	var lost *WorkerLostError
	require.ErrorAs(t, err, &lost)
	assert.Contains(t, err.Error(), "worker doomed lost")
	assert.Equal(t, runner.StatusError, res.Status)
	status, _ := os.ReadFile(filepath.Join(res.ArtifactDir, "status"))
	assert.Equal(t, "error", string(status))
	assert.Less(t, took, testTimeout+2*time.Second, "the loss was seen %v after the kill", took)

	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the queued jobs did not run")
	}
	assertOnce(t, append(ids, job.ID()), doomed, rescuer)
	assertEmpty(t, c)
}

// A job fetched by a worker that died before it claimed it is delivered
// again, once the consumer's ack wait has passed, and runs once.
func TestPoolUnclaimedJobRedelivered(t *testing.T) {
	ns := startServer(t)
	quick := runnertest.New(t, quickPlay...)
	nc := connect(t, ns.ClientURL())
	c := newClient(t, nc, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// A worker's consumer, but no worker: the test fetches the job and
	// drops it, as a worker dying between fetch and claim does.
	w := &worker{s: c.s, opts: WorkerOptions{AckWait: testAckWait}}
	cons, err := w.consumer(ctx, "default")
	require.NoError(t, err)
	job, err := c.Submit(ctx, "default", jobConfig(t, quick, "again"), SubmitOptions{})
	require.NoError(t, err)
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	require.NoError(t, err)
	n := 0
	for range batch.Messages() {
		n++
	}
	require.Equal(t, 1, n)
	fetched := time.Now()

	wk := startWorker(t, ns.ClientURL(), "w", 1, "default")
	res, err := job.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, runner.StatusSuccessful, res.Status)
	assert.GreaterOrEqual(t, time.Since(fetched), testAckWait-100*time.Millisecond, "delivered again before the ack wait")
	assertOnce(t, []string{job.ID()}, wk)
}

// A worker pulls only from its queues.
func TestPoolQueues(t *testing.T) {
	ns := startServer(t)
	quick := runnertest.New(t, quickPlay...)
	want := localEventNames(t, jobConfig(t, quick, "local"))
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	a := startWorker(t, ns.ClientURL(), "a", 2, "a")
	b := startWorker(t, ns.ClientURL(), "b", 2, "b", "c")
	ida := runJobs(t, c, quick, "a", 3, want)
	idb := runJobs(t, c, quick, "b", 2, want)
	idc := runJobs(t, c, quick, "c", 2, want)
	assert.ElementsMatch(t, ida, a.started())
	assert.ElementsMatch(t, append(idb, idc...), b.started())
}

// The controller stops while a job runs; a new one attaches and gets
// every event of the job once, from the first.
func TestPoolAttachAfterRestart(t *testing.T) {
	ns := startServer(t)
	steps := append(append([]runnertest.Step{}, quickPlay...), runnertest.Sleep(1500*time.Millisecond))
	steps = append(steps, quickPlay...)
	fake := runnertest.New(t, steps...)
	want := localEventNames(t, jobConfig(t, fake, "local"))
	startWorker(t, ns.ClientURL(), "w", 1, "default")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	nc1 := connect(t, ns.ClientURL())
	c1 := newClient(t, nc1, Options{})
	cfg := jobConfig(t, fake, "attached")
	var first atomic.Int32
	cfg.EventHandler = func(*events.Event) bool { first.Add(1); return true }
	job, err := c1.Submit(ctx, "default", cfg, SubmitOptions{})
	require.NoError(t, err)
	waited := make(chan error, 1)
	go func() { _, err := job.Wait(ctx); waited <- err }()
	eventually(t, 30*time.Second, "the first events", func() bool { return first.Load() > 0 })
	nc1.Close() // the controller is gone
	select {
	case err := <-waited:
		require.Error(t, err)
	case <-ctx.Done():
		t.Fatal("Wait did not return when its connection closed")
	}
	require.Less(t, int(first.Load()), len(want), "the job had ended before the controller stopped")

	c2 := newClient(t, connect(t, ns.ClientURL()), Options{})
	cfg2 := jobConfig(t, fake, "attached")
	var names []string
	uuids := map[string]bool{}
	cfg2.EventHandler = func(ev *events.Event) bool {
		names = append(names, ev.Event)
		assert.False(t, uuids[ev.UUID], "event %s twice", ev.UUID)
		uuids[ev.UUID] = true
		return true
	}
	job2, err := c2.Attach(ctx, job.ID(), cfg2)
	require.NoError(t, err)
	res, err := job2.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, runner.StatusSuccessful, res.Status)
	assert.Equal(t, want, names)
	assertEmpty(t, c2)
	_, err = c2.Attach(ctx, job.ID(), cfg2)
	assert.ErrorIs(t, err, ErrUnknownJob, "a collected job is released")
}

// Canceling Wait's context cancels ansible on the worker: its process
// tree is gone, the run ends canceled, and the worker takes the next job.
func TestPoolCancel(t *testing.T) {
	ns := startServer(t)
	slow := runnertest.New(t, slowPlay...)
	killFakes(t, slow)
	quick := runnertest.New(t, quickPlay...)
	want := localEventNames(t, jobConfig(t, quick, "local"))
	wk := startWorker(t, ns.ClientURL(), "w", 1, "default")
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	cfg := jobConfig(t, slow, "canceled")
	var got atomic.Int32
	cfg.EventHandler = func(*events.Event) bool { got.Add(1); return true }
	job, err := c.Submit(ctx, "default", cfg, SubmitOptions{})
	require.NoError(t, err)
	wctx, wcancel := context.WithCancel(ctx)
	waited := make(chan struct{})
	var res *runner.Result
	go func() { defer close(waited); res, err = job.Wait(wctx) }()
	eventually(t, 30*time.Second, "the first events", func() bool { return got.Load() > 0 })
	require.NotEmpty(t, procsOf(slow.Env[runnertest.ScriptEnv]), "ansible runs on the worker")
	wcancel()
	select {
	case <-waited:
	case <-ctx.Done():
		t.Fatal("Wait did not return after cancel")
	}
	require.ErrorIs(t, err, runner.ErrCanceled)
	assert.Equal(t, runner.StatusCanceled, res.Status)
	assert.Empty(t, procsOf(slow.Env[runnertest.ScriptEnv]), "ansible left running on the worker")
	ids := runJobs(t, c, quick, "default", 2, want)
	assertOnce(t, append(ids, job.ID()), wk)
	assertEmpty(t, c)
	assertNoJobDirs(t, wk)
}

// A worker stopped by SIGTERM takes no more jobs and cancels the one it
// runs, whose controller sees it canceled; the worker exits.
func TestPoolWorkerStops(t *testing.T) {
	ns := startServer(t)
	slow := runnertest.New(t, slowPlay...)
	killFakes(t, slow)
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	wk := startWorker(t, ns.ClientURL(), "w", 1, "default")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	job, err := c.Submit(ctx, "default", jobConfig(t, slow, "stopped"), SubmitOptions{})
	require.NoError(t, err)
	waitState(t, c, job.ID(), stateRunning)
	eventually(t, 30*time.Second, "ansible started", func() bool { return len(procsOf(slow.Env[runnertest.ScriptEnv])) > 0 })
	require.NoError(t, wk.cmd.Process.Signal(syscall.SIGTERM))
	res, err := job.Wait(ctx)
	require.ErrorIs(t, err, runner.ErrCanceled)
	assert.Equal(t, runner.StatusCanceled, res.Status)
	select {
	case <-wk.done:
	case <-ctx.Done():
		t.Fatal("the worker did not exit")
	}
	assert.Empty(t, procsOf(slow.Env[runnertest.ScriptEnv]), "ansible left running")
	assertNoJobDirs(t, wk)
	assertEmpty(t, c)
}

// A job canceled before any worker took it never runs.
func TestPoolCancelQueued(t *testing.T) {
	ns := startServer(t)
	quick := runnertest.New(t, quickPlay...)
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	job, err := c.Submit(ctx, "default", jobConfig(t, quick, "never"), SubmitOptions{})
	require.NoError(t, err)
	require.NoError(t, job.Cancel(ctx))
	res, err := job.Wait(ctx)
	require.ErrorIs(t, err, runner.ErrCanceled)
	assert.Equal(t, runner.StatusCanceled, res.Status)
	wk := startWorker(t, ns.ClientURL(), "w", 1, "default")
	time.Sleep(500 * time.Millisecond)
	assert.Empty(t, wk.started())
	assertEmpty(t, c)
}

// With Rerun, a job whose worker was lost runs again on another worker;
// Wait returns the new attempt's run.
func TestPoolRerun(t *testing.T) {
	ns := startServer(t)
	// The first run sleeps (and is killed with its worker); later ones
	// run through.
	fake := runnertest.New(t, slowPlay...)
	killFakes(t, fake)
	quick := runnertest.New(t, quickPlay...)
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	doomed := startWorker(t, ns.ClientURL(), "doomed", 1, "default")
	cfg := jobConfig(t, fake, "rerun")
	var statuses []runner.Status
	cfg.StatusHandler = func(u runner.StatusUpdate) { statuses = append(statuses, u.Status) }
	job, err := c.Submit(ctx, "default", cfg, SubmitOptions{Rerun: true})
	require.NoError(t, err)
	waitState(t, c, job.ID(), stateRunning)
	eventually(t, 30*time.Second, "ansible started", func() bool { return len(procsOf(fake.Env[runnertest.ScriptEnv])) > 0 })
	// The second attempt runs the quick fake: the payload is the same,
	// but the script file it names now plays quickly.
	data, err := os.ReadFile(quick.Env[runnertest.ScriptEnv])
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(fake.Env[runnertest.ScriptEnv]+".tmp", data, 0o600))
	require.NoError(t, os.Rename(fake.Env[runnertest.ScriptEnv]+".tmp", fake.Env[runnertest.ScriptEnv]))
	require.NoError(t, doomed.cmd.Process.Signal(syscall.SIGKILL))
	rescuer := startWorker(t, ns.ClientURL(), "rescuer", 1, "default")
	res, err := job.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, runner.StatusSuccessful, res.Status)
	assert.Contains(t, statuses, runner.StatusError, "the lost attempt's end")
	assert.Equal(t, []string{job.ID()}, doomed.started())
	assert.Equal(t, []string{job.ID()}, rescuer.started())
	assertEmpty(t, c)
}

// A payload larger than a message goes through the object store, and
// leaves the server with the job.
func TestPoolLargePayload(t *testing.T) {
	ns := startServer(t)
	quick := runnertest.New(t, quickPlay...)
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	startWorker(t, ns.ClientURL(), "w", 1, "default")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := jobConfig(t, quick, "big")
	big := make([]byte, 3<<20)
	rand.Read(big) // zip does not shrink it
	require.NoError(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "project", "blob.bin"), big, 0o600))
	job, err := c.Submit(ctx, "default", cfg, SubmitOptions{})
	require.NoError(t, err)
	rec, _, err := c.s.getRecord(ctx, job.ID())
	require.NoError(t, err)
	assert.True(t, rec.Object, "a 3 MiB payload in the object store")
	res, err := job.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, runner.StatusSuccessful, res.Status)
	assertEmpty(t, c)
}

// A server without JetStream is refused with a clear error.
func TestPoolNeedsJetStream(t *testing.T) {
	plain, err := newPlainServer(t)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = NewClient(ctx, connect(t, plain), Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "JetStream is not enabled")
	err = Serve(ctx, connect(t, plain), WorkerOptions{Queues: []string{"q"}})
	assert.Contains(t, fmt.Sprint(err), "JetStream is not enabled")
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}
