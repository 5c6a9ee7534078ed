package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arunner/arunner/inventory"
	"github.com/arunner/arunner/runnertest"
)

// Faults: the controller killed mid-job, Redis restarted mid-job, the
// receiver stopped between storing and acknowledging.

// childEnv makes the test binary a controller on the data dir it names,
// running every job as a fake ansible that hangs; it prints its URL.
const childEnv = "CONTROLLER_TEST_CHILD"

type child string

func (dir child) Run() int { return childController(string(dir)) }

func childController(dir string) int {
	if err := os.MkdirAll(filepath.Join(dir, "fake"), 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fake, err := runnertest.Write(filepath.Join(dir, "fake"),
		runnertest.Play("hang", "all", runnertest.Task("first", runnertest.OK("web1"))), runnertest.Hang())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	app, err := Open(context.Background(), Options{DataDir: dir, Prepare: fake.Apply})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("http://%s\n", ln.Addr())
	_ = http.Serve(ln, app.Controller.Handler())
	return 0
}

// fakeSetup stores an inventory, a project dir with site.yml and a template
// directly, for runs of a fake ansible.
func fakeSetup(t testing.TB, s Store, dataDir string, forks int) (template int64) {
	t.Helper()
	ctx := context.Background()
	inv, err := s.CreateObject(ctx, "inventories", Inventory{Name: "fake", Source: "web1\n"})
	if err != nil {
		t.Fatal(err)
	}
	model := inventory.New()
	model.AddHost("web1", "web")
	if err := s.ReplaceInventory(ctx, inv, model); err != nil {
		t.Fatal(err)
	}
	project, err := s.CreateObject(ctx, "projects", Project{Name: "fake", SCMURL: "file:///nowhere"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(dataDir, "projects", fmt.Sprint(project))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site.yml"), []byte("- hosts: all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	template, err = s.CreateObject(ctx, "job_templates", Template{Name: "fake", ProjectID: project, InventoryID: inv, Playbook: "site.yml", Forks: forks})
	if err != nil {
		t.Fatal(err)
	}
	return template
}

func TestControllerKilledMidJob(t *testing.T) {
	dir := t.TempDir()
	// The first controller: a child process, killed while its job runs.
	{
		s, err := OpenStore(context.Background(), "", dir)
		if err != nil {
			t.Fatal(err)
		}
		fakeSetup(t, s, dir, 1)
		s.Close()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	tmp := t.TempDir() // the killed controller's runs' scratch dirs go here
	cmd.Env = append(os.Environ(), childEnv+"="+dir, "TMPDIR="+tmp)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	child := &testApp{URL: strings.TrimSpace(line), t: t}
	id := child.launch(1)
	child.wait(id, 30*time.Second, "running")
	// Wait for the first event: ansible is running.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var page []StoredEvent
		child.call("GET", fmt.Sprintf("/api/jobs/%d/events", id), nil, http.StatusOK, &page)
		if len(page) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no event from the running job")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	pdd := filepath.Join(dir, "jobs", fmt.Sprint(id))
	if _, err := os.Stat(pdd); err != nil {
		t.Fatalf("the killed controller's job left no private data dir: %v", err)
	}

	scratch, _ := filepath.Glob(filepath.Join(tmp, "arunner-run-*"))
	if len(scratch) == 0 {
		t.Fatal("the killed controller's run left no scratch dir to clean")
	}

	// The next controller on the same data marks the job failed.
	a := openApp(t, Options{DataDir: dir})
	j := a.job(id)
	if j.Status != "failed" || j.Explanation != reaped {
		t.Fatalf("job after the restart: %s %q", j.Status, j.Explanation)
	}
	if _, err := os.Stat(pdd); !os.IsNotExist(err) {
		t.Fatalf("the dead job's private data dir is still there: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "arunner-run-*")); len(left) > 0 {
		t.Fatalf("the dead job's scratch dir is still there: %v", left)
	}
}

func TestRedisRestartMidJob(t *testing.T) {
	r := startRedis(t)
	o := Options{DataDir: t.TempDir(), RedisAddr: r.Addr}
	var steps []runnertest.Step
	for i := range 30 {
		steps = append(steps, runnertest.Play(fmt.Sprint("play ", i), "all",
			runnertest.Task("one", runnertest.OK("web1")), runnertest.Task("two", runnertest.Changed("web1"))),
			runnertest.Sleep(100*time.Millisecond))
	}
	fake := runnertest.New(t, steps...)
	o.Prepare = fake.Apply
	a := openApp(t, o)
	id := a.launch(fakeSetup(t, a.Store, o.DataDir, 1))
	a.wait(id, 30*time.Second, "running")
	time.Sleep(300 * time.Millisecond)
	r.stop() // events published now are spooled and retried
	time.Sleep(2 * time.Second)
	r.start()
	j := a.wait(id, 60*time.Second, "successful", "failed", "error")
	if j.Status != "successful" {
		t.Fatalf("job %s: %s", j.Status, j.Explanation)
	}
	evs := a.waitEvents(id, 30*time.Second)
	checkCounters(t, evs, j.FinalCounter)
}

func TestReceiverRestart(t *testing.T) {
	r := startRedis(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := OpenStore(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := newRedisQueue(r.Addr)
	defer q.Close()
	job := &Job{Kind: "job", Status: "running"}
	if err := s.CreateJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	var msgs []Message
	for i := 1; i <= 50; i++ {
		msgs = append(msgs, Message{Job: job.ID, Event: fmt.Appendf(nil, `{"counter": %d, "event": "verbose"}`, i)})
	}
	msgs = append(msgs, Message{Job: job.ID, EOF: true, FinalCounter: 50})
	if err := q.Publish(ctx, msgs[:30]); err != nil {
		t.Fatal(err)
	}

	// The first receiver stores a batch and dies before acknowledging it.
	ctx1, stop := context.WithCancel(ctx)
	first := &Receiver{Store: s, Queue: q, Hub: NewHub(), Log: slogDiscard(), afterStore: func() { stop(); panic(errStop) }}
	func() {
		defer func() { recover() }()
		_ = first.Run(ctx1)
	}()
	evs, _ := s.Events(ctx, job.ID, 0, 1000)
	if len(evs) != 30 {
		t.Fatalf("first receiver stored %d events", len(evs))
	}

	// The second reads the unacknowledged batch again, then the rest.
	if err := q.Publish(ctx, msgs[30:]); err != nil {
		t.Fatal(err)
	}
	second := &Receiver{Store: s, Queue: newRedisQueue(r.Addr), Hub: NewHub(), Log: slogDiscard()}
	ctx2, stop2 := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = second.Run(ctx2); close(done) }()
	defer func() { stop2(); <-done }()
	for {
		j, err := s.GetJob(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.EventsDone {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no EOF")
		}
		time.Sleep(20 * time.Millisecond)
	}
	evs, _ = s.Events(ctx, job.ID, 0, 1000)
	checkCounters(t, evs, 50)
	// Every message was acknowledged: nothing is left pending.
	pending, err := q.c.XPending(ctx, q.stream, q.group).Result()
	if err != nil || pending.Count != 0 {
		t.Fatalf("pending: %+v, %v", pending, err)
	}
}

var errStop = fmt.Errorf("receiver stopped")

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// A controller that shuts down cancels its jobs and still hands their last
// events and EOF to Redis, for the next controller's receiver.
func TestShutdownPublishesEOF(t *testing.T) {
	r := startRedis(t)
	fake := runnertest.New(t, runnertest.Play("hang", "all", runnertest.Task("first", runnertest.OK("web1"))), runnertest.Hang())
	o := Options{DataDir: t.TempDir(), RedisAddr: r.Addr, Prepare: fake.Apply, Log: slogDiscard()}
	first, err := Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	j, err := first.Controller.Launch(context.Background(), "job", fakeSetup(t, first.Store, o.DataDir, 1))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		evs, _ := first.Store.Events(context.Background(), j.ID, 0, 10)
		if len(evs) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no event from the job")
		}
	}
	// The receiver stops with the controller: what is published after
	// that waits in Redis.
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	a := openApp(t, o)
	if got := a.job(j.ID); got.Status != "canceled" {
		t.Fatalf("job after shutdown: %s: %s", got.Status, got.Explanation)
	}
	evs := a.waitEvents(j.ID, 30*time.Second)
	checkCounters(t, evs, a.job(j.ID).FinalCounter)
}
