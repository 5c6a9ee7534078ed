package pool

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

// benchPlay is a job of about a hundred events: 16 tasks on 6 hosts.
func benchPlay() []runnertest.Step {
	var tasks []runnertest.TaskStep
	for i := range 16 {
		var hosts []runnertest.HostResult
		for h := range 6 {
			hosts = append(hosts, runnertest.OK(fmt.Sprintf("web%d", h)))
		}
		tasks = append(tasks, runnertest.Task(fmt.Sprintf("task %d", i), hosts...))
	}
	return []runnertest.Step{runnertest.Play("bench", "all", tasks...)}
}

// benchWorkers and benchSlots: 4 worker processes of capacity 2 through
// the pool, 8 jobs at a time locally.
const (
	benchWorkers = 4
	benchSlots   = 2
)

// BenchmarkPool runs jobs of benchPlay through a pool of benchWorkers
// worker processes on a local server, 8 at a time.
func BenchmarkPool(b *testing.B) { benchJobs(b, true) }

// BenchmarkLocal runs the same jobs with runner.Run, 8 at a time.
func BenchmarkLocal(b *testing.B) { benchJobs(b, false) }

func benchJobs(b *testing.B, throughPool bool) {
	fake := runnertest.New(b, benchPlay()...)
	var c *Client
	if throughPool {
		ns := startServer(b)
		c = newClient(b, connect(b, ns.ClientURL()), Options{HeartbeatTimeout: 10 * time.Second})
		for i := range benchWorkers {
			startWorker(b, ns.ClientURL(), fmt.Sprintf("w%d", i), benchSlots, "bench")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfgs := make([]runner.Config, b.N)
	for i := range cfgs {
		cfgs[i] = jobConfig(b, fake, fmt.Sprintf("job%d", i))
	}
	var nevents atomic.Int64
	sem := make(chan struct{}, benchWorkers*benchSlots)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		cfg := cfgs[i]
		cfg.EventHandler = func(*events.Event) bool { nevents.Add(1); return true }
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var res *runner.Result
			var err error
			if throughPool {
				var job *Job
				if job, err = c.Submit(ctx, "bench", cfg, SubmitOptions{}); err == nil {
					res, err = job.Wait(ctx)
				}
			} else {
				res, err = runner.Run(ctx, cfg)
			}
			if err != nil || res.Status != runner.StatusSuccessful {
				b.Errorf("job %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/secs, "jobs/s")
	b.ReportMetric(float64(nevents.Load())/secs, "events/s")
}
