package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

// reaped is the explanation of a job a dead controller left running.
const reaped = "Task was marked as running but the controller that ran it is gone (it stopped or was killed), so it has been marked as failed."

// Dispatcher runs pending jobs, oldest first, within a capacity counted as
// AWX counts it: a template's job weighs its forks + 1 (the +1 is ansible's
// own process; forks 0 is ansible's default of 5), a project or inventory
// update weighs 1. A job that alone weighs more than the capacity runs when
// nothing else does, so that it is never stuck.
type Dispatcher struct {
	Store    Store
	Queue    Queue
	DataDir  string
	Capacity int
	Log      *slog.Logger
	// Run carries out a template's run: runner.Run locally by default,
	// or through a worker (worker.go). Project and inventory updates run
	// on the controller.
	Run func(context.Context, runner.Config) (*runner.Result, error)
	// Prepare, when set, adjusts each run's Config; tests point the run at
	// a fake ansible with it.
	Prepare func(*runner.Config)
	// Secrets opens the credentials' secrets stored sealed.
	Secrets *secretBox

	mu      sync.Mutex
	used    int
	cancels map[int64]*cancelFlag
	wake    chan struct{}
	wg      sync.WaitGroup
}

type cancelFlag struct {
	mu  sync.Mutex
	set bool
}

func (f *cancelFlag) Set()      { f.mu.Lock(); f.set = true; f.mu.Unlock() }
func (f *cancelFlag) Get() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.set }

// impact is a job's weight against the capacity.
func impact(kind string, forks int) int {
	if kind != "job" {
		return 1
	}
	if forks <= 0 {
		forks = 5
	}
	return forks + 1
}

// Start reaps the jobs a previous controller left running, then dispatches
// until ctx ends; Wait waits for the jobs it started.
func (d *Dispatcher) Start(ctx context.Context) error {
	d.wake = make(chan struct{}, 1)
	d.cancels = map[int64]*cancelFlag{}
	if d.Run == nil {
		d.Run = runner.Run
	}
	n, err := d.Store.ReapRunning(ctx, reaped)
	if err != nil {
		return fmt.Errorf("reap jobs left running: %w", err)
	}
	if n > 0 {
		d.Log.Warn("marked jobs left running by a previous controller as failed", "jobs", n)
	}
	// Their private data dirs, with the secrets of their runs, go too,
	// and what those runs kept outside them (their scratch dirs in the
	// temp dir, ssh control masters).
	jobs := filepath.Join(d.DataDir, "jobs")
	if dirs, err := os.ReadDir(jobs); err == nil {
		for _, e := range dirs {
			runner.CleanAbandoned(filepath.Join(jobs, e.Name(), "artifacts"))
		}
	}
	if err := os.RemoveAll(jobs); err != nil {
		return fmt.Errorf("remove the private data dirs of dead jobs: %w", err)
	}
	go d.loop(ctx)
	return nil
}

// Wait waits for the running jobs to end.
func (d *Dispatcher) Wait() { d.wg.Wait() }

// Wake makes the dispatcher look for pending jobs now.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Cancel asks a running job to stop; the run polls the flag.
func (d *Dispatcher) Cancel(id int64) {
	d.mu.Lock()
	f := d.cancels[id]
	d.mu.Unlock()
	if f != nil {
		f.Set()
	}
}

func (d *Dispatcher) loop(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if err := d.dispatch(ctx); err != nil && ctx.Err() == nil {
			d.Log.Error("dispatch", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-tick.C:
		}
	}
}

// dispatch starts pending jobs, oldest first, while they fit.
func (d *Dispatcher) dispatch(ctx context.Context) error {
	jobs, err := d.Store.ListJobs(ctx, "pending", 100)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		w := j.Impact
		d.mu.Lock()
		fits := d.used == 0 || d.used+w <= d.Capacity
		if fits {
			d.used += w
			d.cancels[j.ID] = &cancelFlag{}
		}
		d.mu.Unlock()
		if !fits {
			return nil
		}
		now := time.Now().UTC()
		j.Status, j.Started = "running", &now
		claimed, err := d.Store.ClaimJob(ctx, j)
		if err != nil || !claimed {
			d.release(j.ID, w)
			if err != nil {
				return err
			}
			continue
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.runJob(ctx, j)
			d.release(j.ID, w)
			d.Wake()
		}()
	}
	return nil
}

func (d *Dispatcher) release(id int64, w int) {
	d.mu.Lock()
	d.used -= w
	delete(d.cancels, id)
	d.mu.Unlock()
}

// runJob runs one job and records how it ended.
func (d *Dispatcher) runJob(ctx context.Context, j *Job) {
	d.mu.Lock()
	flag := d.cancels[j.ID]
	d.mu.Unlock()
	pub := newPublisher(ctx, d.Queue, j.ID, d.Log)
	pdd := filepath.Join(d.DataDir, "jobs", fmt.Sprint(j.ID))

	cfg := runner.Config{
		PrivateDataDir: pdd,
		Ident:          "1",
		EventHandler: func(ev *events.Event) bool {
			pub.Add(ev)
			return false // the database keeps the events, not job_events/
		},
		StatusHandler: func(u runner.StatusUpdate) {
			if u.Status == runner.StatusStarting {
				j.JobArgs, j.JobCwd, j.JobEnv = u.Command, u.Cwd, u.Env // secrets redacted by the runner
			}
		},
		CancelCallback: flag.Get,
	}
	res, err := d.execute(ctx, j, &cfg)
	// The private data dir held the run's secrets; the events are in the
	// database.
	if rmErr := os.RemoveAll(pdd); rmErr != nil && err == nil {
		err = rmErr
	}

	// The EOF goes out after the last event; the job ends once the queue
	// has everything.
	final := 0
	if res != nil {
		final = res.FinalCounter
	}
	pub.Close(final)
	now := time.Now().UTC()
	j.Finished = &now
	j.Elapsed = now.Sub(*j.Started).Seconds()
	switch {
	case res != nil && res.Status != "":
		j.Status, j.RC = string(res.Status), res.RC
		if st := res.Stats(); st != nil {
			j.HostSummary = hostSummary(st)
		}
	default:
		j.Status = "error"
	}
	if err != nil {
		j.Explanation = err.Error()
		if j.Status == "successful" { // e.g. the inventory import failed after the run
			j.Status = "failed"
		}
	}
	if err := d.Store.UpdateJob(context.WithoutCancel(ctx), j); err != nil {
		d.Log.Error("record the end of a job", "job", j.ID, "err", err)
	}
}

// execute prepares and runs the job by kind.
func (d *Dispatcher) execute(ctx context.Context, j *Job, cfg *runner.Config) (*runner.Result, error) {
	switch j.Kind {
	case "job":
		return d.runTemplate(ctx, j, cfg)
	case "project_update":
		return d.updateProject(ctx, j, cfg)
	case "inventory_update":
		return d.updateInventory(ctx, j, cfg)
	}
	return nil, fmt.Errorf("unknown job kind %q", j.Kind)
}

func (d *Dispatcher) credentials(ctx context.Context, ids ...int64) ([]credentials.Credential, error) {
	var out []credentials.Credential
	for _, id := range ids {
		if id == 0 {
			continue
		}
		var c Credential
		if err := d.Store.GetObject(ctx, "credentials", id, &c); err != nil {
			return nil, err
		}
		if err := d.Secrets.Open(&c); err != nil {
			return nil, err
		}
		cred, err := c.Build()
		if err != nil {
			return nil, err
		}
		out = append(out, cred)
	}
	return out, nil
}

func (d *Dispatcher) projectDir(id int64) string {
	return filepath.Join(d.DataDir, "projects", fmt.Sprint(id))
}

func (d *Dispatcher) runTemplate(ctx context.Context, j *Job, cfg *runner.Config) (*runner.Result, error) {
	var t Template
	if err := d.Store.GetObject(ctx, "job_templates", j.ObjectID, &t); err != nil {
		return nil, err
	}
	inv, err := d.Store.LoadInventory(ctx, t.InventoryID)
	if err != nil {
		return nil, err
	}
	if cfg.Credentials, err = d.credentials(ctx, t.CredentialIDs...); err != nil {
		return nil, err
	}
	cfg.ProjectDir = d.projectDir(t.ProjectID)
	cfg.Target = runner.Playbook{Path: t.Playbook, Switches: runner.Switches{Limit: t.Limit, Forks: t.Forks, Verbosity: t.Verbosity}}
	cfg.Inventory = runner.Inventory{Model: inv}
	cfg.ExtraVars = t.ExtraVars
	cfg.JobTimeout = time.Duration(t.Timeout) * time.Second
	if t.FactCache {
		cfg.FactCache = &runner.FactCache{Store: d.Store.Facts(t.InventoryID)}
	}
	if d.Prepare != nil {
		d.Prepare(cfg)
	}
	return d.Run(ctx, *cfg)
}

// projectUpdate is the project update playbook: a git checkout.
const projectUpdate = `- hosts: localhost
  gather_facts: false
  connection: local
  tasks:
    - name: update project using git
      ansible.builtin.git:
        repo: "{{ scm_url }}"
        dest: "{{ project_path }}"
        version: "{{ scm_branch }}"
        force: true
`

func (d *Dispatcher) updateProject(ctx context.Context, j *Job, cfg *runner.Config) (*runner.Result, error) {
	var p Project
	if err := d.Store.GetObject(ctx, "projects", j.ObjectID, &p); err != nil {
		return nil, err
	}
	var err error
	if cfg.Credentials, err = d.credentials(ctx, p.CredentialID); err != nil {
		return nil, err
	}
	branch := p.SCMBranch
	if branch == "" {
		branch = "HEAD"
	}
	var revision string
	handler := cfg.EventHandler
	cfg.EventHandler = func(ev *events.Event) bool {
		if ev.Event == events.RunnerOnOK && ev.TaskAction() == "ansible.builtin.git" {
			var res struct {
				After string `json:"after"`
			}
			if json.Unmarshal(ev.Res(), &res) == nil {
				revision = res.After
			}
		}
		return handler(ev)
	}
	cfg.Target = runner.Playbook{Content: []byte(projectUpdate)}
	cfg.ProjectDir = cfg.PrivateDataDir
	cfg.Inventory = runner.Inventory{Text: "localhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n"}
	cfg.ExtraVars = map[string]any{"scm_url": p.SCMURL, "scm_branch": branch, "project_path": d.projectDir(j.ObjectID)}
	if err := os.MkdirAll(cfg.PrivateDataDir, 0o700); err != nil {
		return nil, err
	}
	// Project updates run here, on the controller, as AWX's run on its
	// control plane: the checkout is the controller's.
	if d.Prepare != nil {
		d.Prepare(cfg)
	}
	res, err := runner.Run(ctx, *cfg)
	if err == nil && revision != "" {
		p.Revision = revision
		err = d.Store.UpdateObject(ctx, "projects", j.ObjectID, &p)
	}
	return res, err
}

func (d *Dispatcher) updateInventory(ctx context.Context, j *Job, cfg *runner.Config) (*runner.Result, error) {
	var inv Inventory
	if err := d.Store.GetObject(ctx, "inventories", j.ObjectID, &inv); err != nil {
		return nil, err
	}
	source := filepath.Join(d.projectDir(inv.ProjectID), inv.SourcePath)
	if inv.Source != "" {
		source = filepath.Join(cfg.PrivateDataDir, "source", "hosts")
		if err := os.MkdirAll(filepath.Dir(source), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(source, []byte(inv.Source), 0o600); err != nil {
			return nil, err
		}
	}
	if d.Prepare != nil {
		d.Prepare(cfg)
	}
	// ansible-inventory --list --export, through the runner.
	model, res, err := runner.GetInventory(ctx, *cfg, source)
	if err != nil {
		return res, err
	}
	return res, d.Store.ReplaceInventory(ctx, j.ObjectID, model)
}

// hostSummary turns the recap's counters per host around: host -> counter.
func hostSummary(st *events.Stats) map[string]map[string]int {
	m := map[string]map[string]int{}
	for name, counts := range map[string]map[string]int{
		"ok": st.OK, "changed": st.Changed, "failures": st.Failures, "dark": st.Dark,
		"skipped": st.Skipped, "rescued": st.Rescued, "ignored": st.Ignored, "processed": st.Processed,
	} {
		for host, n := range counts {
			if m[host] == nil {
				m[host] = map[string]int{}
			}
			m[host][name] = n
		}
	}
	return m
}

// publisher hands one job's events to the queue in order, from a goroutine
// of its own, so that the run never waits on the queue: while the queue is
// down it keeps them (a spool in memory) and retries.
type publisher struct {
	q      Queue
	job    int64
	log    *slog.Logger
	runCtx context.Context
	stop   context.CancelFunc
	mu     sync.Mutex
	msgs   []Message
	more   chan struct{}
	done   chan struct{}
}

func newPublisher(ctx context.Context, q Queue, job int64, log *slog.Logger) *publisher {
	// The last events and the EOF still go out when the run's context ends
	// (a controller shutting down cancels its runs); Close bounds that.
	pctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	p := &publisher{q: q, job: job, log: log, runCtx: ctx, stop: stop, more: make(chan struct{}, 1), done: make(chan struct{})}
	go p.loop(pctx)
	return p
}

func (p *publisher) Add(ev *events.Event) {
	b, err := ev.MarshalJSON()
	if err != nil {
		p.log.Error("encode an event", "job", p.job, "counter", ev.Counter, "err", err)
		return
	}
	p.push(Message{Job: p.job, Event: b})
}

func (p *publisher) push(m Message) {
	p.mu.Lock()
	p.msgs = append(p.msgs, m)
	p.mu.Unlock()
	select {
	case p.more <- struct{}{}:
	default:
	}
}

// publishGrace is how long a publisher goes on after the run's context
// ended: a controller that shuts down waits that long for the queue.
const publishGrace = 5 * time.Second

// Close sends the EOF and waits until everything is published: for as
// long as it takes while the controller runs (the queue may be down),
// publishGrace once it is shutting down.
func (p *publisher) Close(finalCounter int) {
	p.push(Message{Job: p.job, EOF: true, FinalCounter: finalCounter})
	select {
	case <-p.done:
	case <-p.runCtx.Done():
		select {
		case <-p.done:
		case <-time.After(publishGrace):
		}
	}
	p.stop()
	<-p.done
}

func (p *publisher) loop(ctx context.Context) {
	defer close(p.done)
	backoff := 50 * time.Millisecond
	for {
		p.mu.Lock()
		msgs := p.msgs
		p.mu.Unlock()
		if len(msgs) == 0 {
			select {
			case <-p.more:
				continue
			case <-ctx.Done():
				return
			}
		}
		if err := p.q.Publish(ctx, msgs); err != nil {
			if ctx.Err() != nil {
				return
			}
			p.log.Warn("publish events, retrying", "job", p.job, "err", err)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return
			}
			backoff = min(2*backoff, 2*time.Second)
			continue
		}
		backoff = 50 * time.Millisecond
		p.mu.Lock()
		p.msgs = p.msgs[len(msgs):]
		eof := len(msgs) > 0 && msgs[len(msgs)-1].EOF
		p.mu.Unlock()
		if eof {
			return
		}
	}
}
