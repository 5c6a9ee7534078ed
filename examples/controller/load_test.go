package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/arunner/arunner/runnertest"
)

// loadScript is a fake playbook run of plays×tasks tasks on one host.
func loadScript(plays, tasks int) []runnertest.Step {
	var steps []runnertest.Step
	for p := range plays {
		var ts []runnertest.TaskStep
		for i := range tasks {
			ts = append(ts, runnertest.Task(fmt.Sprint("task ", i), runnertest.Changed("web1")))
		}
		steps = append(steps, runnertest.Play(fmt.Sprint("play ", p), "all", ts...))
	}
	return steps
}

// runLoad launches n jobs of the template and waits for all of them and
// their events; it returns the number of events and fails the test unless
// every job succeeded with every event stored once. It also checks that the
// dispatcher never went over its capacity.
func runLoad(t testing.TB, a *App, template int64, n int) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ids := make([]int64, n)
	for i := range ids {
		j, err := a.Controller.Launch(ctx, "job", template)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = j.ID
	}
	total := 0
	for _, id := range ids {
		for {
			a.Dispatcher.mu.Lock()
			used := a.Dispatcher.used
			a.Dispatcher.mu.Unlock()
			if used > a.Dispatcher.Capacity {
				t.Fatalf("dispatcher at %d of a capacity of %d", used, a.Dispatcher.Capacity)
			}
			j, err := a.Store.GetJob(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status != "pending" && j.Status != "running" && j.EventsDone {
				if j.Status != "successful" {
					t.Fatalf("job %d: %s: %s", id, j.Status, j.Explanation)
				}
				evs, err := a.Store.Events(ctx, id, 0, 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				if len(evs) != j.FinalCounter || evs[len(evs)-1].Counter != j.FinalCounter {
					t.Fatalf("job %d: %d events stored, final counter %d", id, len(evs), j.FinalCounter)
				}
				total += len(evs)
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("job %d still %s", id, j.Status)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return total
}

func TestLoad200Jobs(t *testing.T) {
	fake := runnertest.New(t, loadScript(1, 3)...)
	o := Options{DataDir: t.TempDir(), Capacity: 8, Prepare: fake.Apply}
	a := openApp(t, o)
	// forks 1: each job weighs 2, four run at a time.
	total := runLoad(t, a.App, fakeSetup(t, a.Store, o.DataDir, 1), 200)
	t.Logf("200 jobs, %d events", total)
}

// BenchmarkEventsIntoPostgres runs b.N fake jobs of 100 tasks each through
// Redis into PostgreSQL, 8 at a time, and reports events stored per second
// (BENCHMARKS.md).
func BenchmarkEventsIntoPostgres(b *testing.B) {
	fake := runnertest.New(b, loadScript(4, 25)...)
	dir := b.TempDir()
	url := postgresDB(b)
	r := startRedis(b)
	app, err := Open(context.Background(), Options{DataDir: dir, DatabaseURL: url, RedisAddr: r.Addr, Capacity: 16, Prepare: fake.Apply})
	if err != nil {
		b.Fatal(err)
	}
	defer app.Close()
	template := fakeSetup(b, app.Store, dir, 1)
	b.ResetTimer()
	start := time.Now()
	total := runLoad(b, app, template, b.N)
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "events/s")
}
