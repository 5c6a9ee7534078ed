package pool

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

// quickPlay is a small playbook run for the fake: a few events.
var quickPlay = []runnertest.Step{runnertest.Play("deploy", "all",
	runnertest.Task("install", runnertest.Changed("localhost")),
	runnertest.Task("check", runnertest.OK("localhost")))}

// jobConfig is a job running fake, its private data dir of its own.
func jobConfig(t testing.TB, fake *runnertest.Fake, ident string) runner.Config {
	cfg := runner.Config{PrivateDataDir: runnertest.PrivateDataDir(t), Ident: ident,
		Target: runner.Playbook{Path: "site.yml"}, CancelGrace: 500 * time.Millisecond}
	fake.Apply(&cfg)
	return cfg
}

// eventNames runs cfg locally and returns its events' names: what a run
// through the pool must deliver too.
func localEventNames(t testing.TB, cfg runner.Config) []string {
	var names []string
	cfg.EventHandler = func(ev *events.Event) bool { names = append(names, ev.Event); return true }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := runner.Run(ctx, cfg)
	require.NoError(t, err)
	return names
}

// runJobs submits n jobs of fake to queue and waits for them all; it
// checks that each ends successful with every event, once.
func runJobs(t testing.TB, c *Client, fake *runnertest.Fake, queue string, n int, want []string) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		cfg := jobConfig(t, fake, fmt.Sprintf("job%d", i))
		var mu sync.Mutex
		var names []string
		uuids := map[string]bool{}
		cfg.EventHandler = func(ev *events.Event) bool {
			mu.Lock()
			defer mu.Unlock()
			names = append(names, ev.Event)
			if uuids[ev.UUID] {
				t.Errorf("job%d: event %s twice", i, ev.UUID)
			}
			uuids[ev.UUID] = true
			return true
		}
		s0 := time.Now()
		job, err := c.Submit(ctx, queue, cfg, SubmitOptions{})
		require.NoError(t, err)
		if d := time.Since(s0); d > time.Second {
			t.Logf("slow submit %d: %v", i, d)
		}
		ids[i] = job.ID()
		wg.Go(func() {
			w0 := time.Now()
			res, err := job.Wait(ctx)
			if d := time.Since(w0); d > 2*time.Second {
				t.Logf("slow wait %d: %v", i, d)
			}
			if !assert.NoError(t, err, "job%d", i) {
				return
			}
			assert.Equal(t, runner.StatusSuccessful, res.Status, "job%d", i)
			mu.Lock()
			assert.Equal(t, want, names, "job%d", i)
			mu.Unlock()
			evs, err := runnertest.ReadEvents(res.ArtifactDir)
			assert.NoError(t, err)
			assert.Len(t, evs, len(want), "job%d: job_events", i)
		})
	}
	wg.Wait()
	return ids
}

// assertOnce checks that each of ids was started by exactly one worker,
// once.
func assertOnce(t testing.TB, ids []string, workers ...*workerProc) {
	runs := map[string]int{}
	for _, w := range workers {
		for _, id := range w.started() {
			runs[id]++
		}
	}
	for _, id := range ids {
		assert.Equal(t, 1, runs[id], "runs of job %s", id)
	}
	assert.Len(t, runs, len(ids), "jobs run")
}

// assertEmpty checks that nothing of the jobs is left on the server:
// payloads (with their secrets), results, records.
func assertEmpty(t testing.TB, c *Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, name := range []string{JobsStream, ResultsStream, "KV_" + RecordsBucket, "OBJ_" + PayloadBucket} {
		st, err := c.s.js.Stream(ctx, name)
		require.NoError(t, err)
		info, err := st.Info(ctx)
		require.NoError(t, err)
		assert.Zero(t, info.State.Msgs, "messages left in %s", name)
	}
}

func TestPoolRunsEachJobOnce(t *testing.T) {
	n := 200
	switch {
	case testing.Short():
		n = 20
	case raceEnabled:
		n = 80
	}
	ns := startServer(t)
	fake := runnertest.New(t, quickPlay...)
	want := localEventNames(t, jobConfig(t, fake, "local"))
	var workers []*workerProc
	for i := range 4 {
		workers = append(workers, startWorker(t, ns.ClientURL(), fmt.Sprintf("w%d", i), 2, "default"))
	}
	c := newClient(t, connect(t, ns.ClientURL()), Options{})
	start := time.Now()
	ids := runJobs(t, c, fake, "default", n, want)
	t.Logf("%d jobs in %v", n, time.Since(start))
	assertOnce(t, ids, workers...)
	assertEmpty(t, c)
	assertNoJobDirs(t, workers...)
}
