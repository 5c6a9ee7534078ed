package pool

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	"github.com/arunner/arunner/stream"
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

// holdingWorker starts a worker that stops between its claim of a job and
// the start of ansible, for as long as the returned file exists.
func holdingWorker(t *testing.T, url, name string) (*workerProc, string) {
	hold := filepath.Join(t.TempDir(), "hold")
	require.NoError(t, os.WriteFile(hold, nil, 0o600))
	return startWorkerEnv(t, url, name, 1, []string{workerHold + "=" + hold}, "default"), hold
}

// recordingConfig is a job of fake whose statuses and event names are
// recorded; an event seen twice fails the test.
func recordingConfig(t *testing.T, fake *runnertest.Fake, ident string) (runner.Config, *[]runner.Status, *[]string) {
	cfg := jobConfig(t, fake, ident)
	var statuses []runner.Status
	var names []string
	uuids := map[string]bool{}
	cfg.StatusHandler = func(u runner.StatusUpdate) { statuses = append(statuses, u.Status) }
	cfg.EventHandler = func(ev *events.Event) bool {
		names = append(names, ev.Event)
		assert.False(t, uuids[ev.UUID], "event %s twice", ev.UUID)
		uuids[ev.UUID] = true
		return true
	}
	return cfg, &statuses, &names
}

// A worker killed -9 after it claimed a job and before ansible started:
// the job is not lost but queued again, runs once on another worker, and
// Wait returns that run; the hooks see nothing of the lost attempt.
func TestPoolWorkerKilledBeforeStart(t *testing.T) {
	ns := startServer(t)
	quick := runnertest.New(t, quickPlay...)
	want := localEventNames(t, jobConfig(t, quick, "local"))
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	doomed, hold := holdingWorker(t, ns.ClientURL(), "doomed")
	cfg, statuses, names := recordingConfig(t, quick, "requeued")
	job, err := c.Submit(ctx, "default", cfg, SubmitOptions{})
	require.NoError(t, err)
	eventually(t, 30*time.Second, "the worker holding the job", func() bool { _, err := os.Stat(hold + ".held"); return err == nil })
	rec := waitState(t, c, job.ID(), stateRunning)
	assert.Equal(t, "doomed", rec.Worker)
	assert.False(t, rec.Started)
	require.NoError(t, doomed.cmd.Process.Kill())
	killed := time.Now()
	rescuer := startWorker(t, ns.ClientURL(), "rescuer", 1, "default")

	res, err := job.Wait(ctx)
	require.NoError(t, err)
	took := time.Since(killed)
	assert.Equal(t, runner.StatusSuccessful, res.Status)
	assert.Equal(t, want, *names)
	assert.NotContains(t, *statuses, runner.StatusError, "the hooks saw the lost attempt")
	assert.Equal(t, runner.StatusStarting, (*statuses)[0])
	// Lost after the heartbeat timeout, delivered again after the ack
	// wait, taken at the next delivery a worker does not put off.
	assert.Less(t, took, testTimeout+testAckWait+5*time.Second, "the job ran %v after the kill", took)
	assertOnce(t, []string{job.ID()}, doomed, rescuer)
	assert.Contains(t, doomed.log.String(), "job "+job.ID()+" (queue default, attempt 1): claimed")
	assert.Contains(t, rescuer.log.String(), "job "+job.ID()+" (queue default, attempt 2): claimed")
	assertEmpty(t, c)
}

// A worker paused after it claimed a job and before ansible started: the
// job runs on another worker; when the first one wakes up its record
// compare-and-set fails and it does not start ansible.
func TestPoolWorkerPausedBeforeStart(t *testing.T) {
	ns := startServer(t)
	quick := runnertest.New(t, quickPlay...)
	want := localEventNames(t, jobConfig(t, quick, "local"))
	c := newClient(t, connect(t, ns.ClientURL()), Options{Keep: true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	paused, hold := holdingWorker(t, ns.ClientURL(), "paused")
	t.Cleanup(func() { paused.cmd.Process.Signal(syscall.SIGCONT) })
	cfg, _, names := recordingConfig(t, quick, "requeued")
	job, err := c.Submit(ctx, "default", cfg, SubmitOptions{})
	require.NoError(t, err)
	eventually(t, 30*time.Second, "the worker holding the job", func() bool { _, err := os.Stat(hold + ".held"); return err == nil })
	require.NoError(t, paused.cmd.Process.Signal(syscall.SIGSTOP))
	rescuer := startWorker(t, ns.ClientURL(), "rescuer", 1, "default")
	res, err := job.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, runner.StatusSuccessful, res.Status)
	assert.Equal(t, want, *names)

	// Awake, and let go on to the start of ansible.
	require.NoError(t, paused.cmd.Process.Signal(syscall.SIGCONT))
	require.NoError(t, os.Remove(hold))
	eventually(t, 30*time.Second, "the paused worker ending the job", func() bool {
		return strings.Contains(paused.log.String(), "job "+job.ID()+" (attempt 1): ")
	})
	assertOnce(t, []string{job.ID()}, paused, rescuer)
	rec, _, err := c.s.getRecord(ctx, job.ID())
	require.NoError(t, err)
	assert.Equal(t, record{State: stateDone, Worker: "rescuer", Attempt: 2, Started: true, Requeued: true},
		record{State: rec.State, Worker: rec.Worker, Attempt: rec.Attempt, Started: rec.Started, Requeued: rec.Requeued})
	require.NoError(t, job.Release(ctx))
	assertEmpty(t, c)
	assertNoJobDirs(t, paused, rescuer)
}

// A job canceled while its worker holds it before ansible started, the
// worker then killed: the job ends canceled, not queued again.
func TestPoolCanceledBeforeStart(t *testing.T) {
	ns := startServer(t)
	quick := runnertest.New(t, quickPlay...)
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	doomed, hold := holdingWorker(t, ns.ClientURL(), "doomed")
	cfg, _, names := recordingConfig(t, quick, "canceled")
	job, err := c.Submit(ctx, "default", cfg, SubmitOptions{})
	require.NoError(t, err)
	eventually(t, 30*time.Second, "the worker holding the job", func() bool { _, err := os.Stat(hold + ".held"); return err == nil })
	require.NoError(t, job.Cancel(ctx))
	waitState(t, c, job.ID(), stateCancel)
	require.NoError(t, doomed.cmd.Process.Kill())
	other := startWorker(t, ns.ClientURL(), "other", 1, "default")
	res, err := job.Wait(ctx)
	require.ErrorIs(t, err, runner.ErrCanceled)
	assert.Equal(t, runner.StatusCanceled, res.Status)
	assert.Empty(t, *names)
	time.Sleep(time.Second + testAckWait) // a message left behind would be delivered by now
	assertOnce(t, nil, doomed, other)
	assert.NotContains(t, other.log.String(), job.ID())
	assertEmpty(t, c)
}

// A controller that stopped between creating a job's record and queueing
// its message: a controller waiting for the job finds its message missing
// and queues it again when its payload is in the object store, or ends it
// with ErrNotQueued when the payload was only in the message.
func TestPoolNeverQueued(t *testing.T) {
	ns := startServer(t)
	quick := runnertest.New(t, quickPlay...)
	want := localEventNames(t, jobConfig(t, quick, "local"))
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	c.queueCheck = 500 * time.Millisecond
	wk := startWorker(t, ns.ClientURL(), "w", 1, "default")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Submit, up to the publish of the job's message.
	halfSubmit := func(id string, object bool) {
		var buf bytes.Buffer
		require.NoError(t, stream.Transmit(&buf, jobConfig(t, quick, id)))
		rec := record{State: stateQueued, Queue: "default", Attempt: 1, Object: object}
		_, err := c.s.records.Create(ctx, id, rec.encode())
		require.NoError(t, err)
		if object {
			_, err = c.s.objects.PutBytes(ctx, id, buf.Bytes())
			require.NoError(t, err)
		}
	}

	halfSubmit("inline", false)
	cfg, statuses, _ := recordingConfig(t, quick, "inline")
	job, err := c.Attach(ctx, "inline", cfg)
	require.NoError(t, err)
	res, err := job.Wait(ctx)
	require.ErrorIs(t, err, ErrNotQueued)
	assert.Contains(t, err.Error(), "its message is not on queue default")
	assert.Equal(t, runner.StatusError, res.Status)
	assert.Equal(t, []runner.Status{runner.StatusError}, *statuses)
	assertEmpty(t, c)

	halfSubmit("object", true)
	cfg, _, names := recordingConfig(t, quick, "object")
	job, err = c.Attach(ctx, "object", cfg)
	require.NoError(t, err)
	res, err = job.Wait(ctx)
	require.NoError(t, err)
	assert.Equal(t, runner.StatusSuccessful, res.Status)
	assert.Equal(t, want, *names)
	assertOnce(t, []string{"object"}, wk)
	assertEmpty(t, c)

	// A job on its queue for long, no worker taking it, is left there.
	cfg, _, names = recordingConfig(t, quick, "waiting")
	job, err = c.Submit(ctx, "idle", cfg, SubmitOptions{})
	require.NoError(t, err)
	waited := make(chan error, 1)
	go func() { res, err = job.Wait(ctx); waited <- err }()
	time.Sleep(5 * c.queueCheck)
	waitState(t, c, job.ID(), stateQueued)
	idle := startWorker(t, ns.ClientURL(), "idle", 1, "idle")
	select {
	case err = <-waited:
	case <-ctx.Done():
		t.Fatal("Wait did not return")
	}
	require.NoError(t, err)
	assert.Equal(t, runner.StatusSuccessful, res.Status)
	assert.Equal(t, want, *names)
	assertOnce(t, []string{job.ID()}, idle)
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

// Controllers and workers that start together on a new server all set the
// pool up: one of them makes each bucket, the others use it (a bucket's
// config changed by its maker after creation once made the others fail).
func TestPoolConcurrentSetup(t *testing.T) {
	for range 5 {
		url := startServer(t).ClientURL()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			nc := connect(t, url)
			wg.Go(func() { _, errs[i] = NewClient(ctx, nc, Options{}) })
		}
		wg.Wait()
		cancel()
		for _, err := range errs {
			require.NoError(t, err)
		}
	}
}
