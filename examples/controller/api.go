package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/arunner/arunner/report"
	"github.com/coder/websocket"
)

//go:embed web
var web embed.FS

// Controller is the HTTP API over the store, the dispatcher and the hub.
type Controller struct {
	Store      Store
	Dispatcher *Dispatcher
	Hub        *Hub
}

// Handler routes the API and serves the web page.
func (c *Controller) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, kind := range []string{"credentials", "inventories", "projects", "job_templates"} {
		mux.HandleFunc("POST /api/"+kind, c.create(kind))
		mux.HandleFunc("GET /api/"+kind, c.list(kind))
		mux.HandleFunc("GET /api/"+kind+"/{id}", c.get(kind))
	}
	mux.HandleFunc("POST /api/projects/{id}/update", c.launch("project_update", "projects"))
	mux.HandleFunc("POST /api/inventories/{id}/update", c.launch("inventory_update", "inventories"))
	mux.HandleFunc("POST /api/job_templates/{id}/launch", c.launch("job", "job_templates"))
	mux.HandleFunc("GET /api/inventories/{id}/hosts", c.hosts)
	mux.HandleFunc("GET /api/inventories/{id}/hosts/{host}/facts", c.facts)
	mux.HandleFunc("GET /api/jobs", c.jobs)
	mux.HandleFunc("GET /api/jobs/{id}", c.job)
	mux.HandleFunc("POST /api/jobs/{id}/cancel", c.cancel)
	mux.HandleFunc("GET /api/jobs/{id}/events", c.events)
	mux.HandleFunc("GET /api/jobs/{id}/stream", c.stream)
	mux.HandleFunc("GET /jobs/{id}/report", c.report)
	static, _ := fs.Sub(web, "web")
	mux.Handle("GET /", http.FileServerFS(static))
	return mux
}

// apiError is an error with its HTTP status.
type apiError struct {
	code int
	err  error
}

func (e apiError) Error() string { return e.err.Error() }

func badRequest(format string, args ...any) error {
	return apiError{http.StatusBadRequest, fmt.Errorf(format, args...)}
}

func reply(w http.ResponseWriter, code int, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		code = http.StatusInternalServerError
		var ae apiError
		switch {
		case errors.As(err, &ae):
			code = ae.code
		case errors.Is(err, ErrNotFound):
			code = http.StatusNotFound
		}
		v = map[string]string{"error": err.Error()}
	}
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, badRequest("id %q is not a number", r.PathValue("id"))
	}
	return id, nil
}

// decodeObject reads and checks an object of kind from the request body.
func (c *Controller) decodeObject(r *http.Request, kind string) (any, error) {
	var doc any
	switch kind {
	case "credentials":
		doc = &Credential{}
	case "inventories":
		doc = &Inventory{}
	case "projects":
		doc = &Project{}
	case "job_templates":
		doc = &Template{}
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(doc); err != nil {
		return nil, badRequest("%s: %v", kind, err)
	}
	switch d := doc.(type) {
	case *Credential:
		if _, err := d.Build(); err != nil {
			return nil, badRequest("%v", err)
		}
		if err := c.Dispatcher.Secrets.Seal(d); err != nil {
			return nil, err
		}
	case *Inventory:
		if (d.Source == "") == (d.SourcePath == "") {
			return nil, badRequest("inventory %q: give one of source and source_path", d.Name)
		}
	case *Project:
		if d.SCMURL == "" {
			return nil, badRequest("project %q: scm_url is required", d.Name)
		}
	case *Template:
		if d.Playbook == "" || d.ProjectID == 0 || d.InventoryID == 0 {
			return nil, badRequest("job template %q: playbook, project_id and inventory_id are required", d.Name)
		}
	}
	return doc, nil
}

func (c *Controller) create(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		doc, err := c.decodeObject(r, kind)
		if err != nil {
			reply(w, 0, nil, err)
			return
		}
		id, err := c.Store.CreateObject(r.Context(), kind, doc)
		if err != nil {
			reply(w, 0, nil, err)
			return
		}
		out := map[string]any{"id": id}
		// As in AWX, a new project or inventory is synced at once.
		if kind == "projects" || kind == "inventories" {
			jobKind := map[string]string{"projects": "project_update", "inventories": "inventory_update"}[kind]
			j, err := c.Launch(r.Context(), jobKind, id)
			if err != nil {
				reply(w, 0, nil, err)
				return
			}
			out["update_job_id"] = j.ID
		}
		reply(w, http.StatusCreated, out, nil)
	}
}

// public hides what the API never returns: credentials' secrets.
func public(kind string, raw json.RawMessage) any {
	if kind != "credentials" {
		return raw
	}
	var c Credential
	if json.Unmarshal(raw, &c) != nil {
		return nil
	}
	return c.Public()
}

func (c *Controller) list(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		objs, err := c.Store.ListObjects(r.Context(), kind)
		out := map[string]any{}
		for id, raw := range objs {
			out[strconv.FormatInt(id, 10)] = public(kind, raw)
		}
		reply(w, http.StatusOK, out, err)
	}
}

func (c *Controller) get(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		var raw json.RawMessage
		if err == nil {
			err = c.Store.GetObject(r.Context(), kind, id, &raw)
		}
		reply(w, http.StatusOK, public(kind, raw), err)
	}
}

// Launch queues a job of kind for the template, project or inventory id.
func (c *Controller) Launch(ctx context.Context, kind string, id int64) (*Job, error) {
	forks := 0
	if kind == "job" {
		var t Template
		if err := c.Store.GetObject(ctx, "job_templates", id, &t); err != nil {
			return nil, err
		}
		forks = t.Forks
	}
	j := &Job{Kind: kind, ObjectID: id, Status: "pending", Impact: impact(kind, forks), Created: time.Now().UTC()}
	if err := c.Store.CreateJob(ctx, j); err != nil {
		return nil, err
	}
	c.Dispatcher.Wake()
	return j, nil
}

func (c *Controller) launch(jobKind, objKind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := pathID(r)
		var j *Job
		if err == nil {
			var raw json.RawMessage
			if err = c.Store.GetObject(r.Context(), objKind, id, &raw); err == nil {
				j, err = c.Launch(r.Context(), jobKind, id)
			}
		}
		reply(w, http.StatusCreated, j, err)
	}
}

func (c *Controller) hosts(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	var out any
	if err == nil {
		if out, err = c.Store.LoadInventory(r.Context(), id); err == nil {
			out, err = json.Marshal(out)
			out = json.RawMessage(out.([]byte))
		}
	}
	reply(w, http.StatusOK, out, err)
}

func (c *Controller) facts(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	var out any
	if err == nil {
		host := r.PathValue("host")
		recs, lerr := c.Store.Facts(id).Load(r.Context(), []string{host})
		err = lerr
		if rec, ok := recs[host]; ok {
			out = map[string]any{"facts": rec.Facts, "modified": rec.Modified}
		} else if err == nil {
			err = fmt.Errorf("facts of host %q: %w", host, ErrNotFound)
		}
	}
	reply(w, http.StatusOK, out, err)
}

func (c *Controller) jobs(w http.ResponseWriter, r *http.Request) {
	jobs, err := c.Store.ListJobs(r.Context(), r.URL.Query().Get("status"), 100)
	if jobs == nil {
		jobs = []*Job{}
	}
	reply(w, http.StatusOK, jobs, err)
}

func (c *Controller) job(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	var j *Job
	if err == nil {
		j, err = c.Store.GetJob(r.Context(), id)
	}
	reply(w, http.StatusOK, j, err)
}

func (c *Controller) cancel(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	var status string
	if err == nil {
		status, err = c.Store.RequestCancel(r.Context(), id)
	}
	if err == nil {
		c.Dispatcher.Cancel(id)
	}
	reply(w, http.StatusAccepted, map[string]string{"status": status}, err)
}

// report serves a finished job's run report (arunner's report package: a
// timeline of tasks per host, the failures, the recap, the output). The
// events are in the database, not in artifacts, so it lays them out as a
// run's artifacts dir for the time it takes to render: nothing on the
// event path pays for it.
func (c *Controller) report(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	var j *Job
	if err == nil {
		j, err = c.Store.GetJob(r.Context(), id)
	}
	if err == nil && !j.EventsDone {
		err = apiError{http.StatusConflict, fmt.Errorf("job %d has not ended", id)}
	}
	var page bytes.Buffer
	if err == nil {
		err = c.renderReport(r.Context(), j, &page)
	}
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = page.WriteTo(w)
}

func (c *Controller) renderReport(ctx context.Context, j *Job, w io.Writer) error {
	tmp, err := os.MkdirTemp("", "controller-report-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, fmt.Sprintf("job-%d", j.ID)) // the report's title
	evDir := filepath.Join(dir, "job_events")
	if err := os.MkdirAll(evDir, 0o700); err != nil {
		return err
	}
	var stdout bytes.Buffer
	for after := 0; ; {
		evs, err := c.Store.Events(ctx, j.ID, after, 1000)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			var head struct {
				UUID   string `json:"uuid"`
				Stdout string `json:"stdout"`
			}
			if err := json.Unmarshal(e.Data, &head); err != nil {
				return fmt.Errorf("job %d event %d: %w", j.ID, e.Counter, err)
			}
			if head.Stdout != "" {
				stdout.WriteString(head.Stdout + "\n")
			}
			name := filepath.Join(evDir, fmt.Sprintf("%d-%s.json", e.Counter, filepath.Base(head.UUID)))
			if err := os.WriteFile(name, e.Data, 0o600); err != nil {
				return err
			}
			after = e.Counter
		}
	}
	for name, body := range map[string]string{"stdout": stdout.String(), "status": j.Status, "rc": fmt.Sprint(j.RC)} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			return err
		}
	}
	return report.WriteDir(w, dir)
}

// events pages a job's events: ?after=COUNTER&limit=N (at most 1000).
func (c *Controller) events(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	after, _ := strconv.Atoi(r.URL.Query().Get("after"))
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	var evs []StoredEvent
	if err == nil {
		evs, err = c.Store.Events(r.Context(), id, after, limit)
	}
	if evs == nil {
		evs = []StoredEvent{}
	}
	reply(w, http.StatusOK, evs, err)
}

// stream sends a job's events on a WebSocket, each once and in counter
// order: those stored so far, then the live ones, until the job's EOF.
// ?after=COUNTER starts after that event.
func (c *Controller) stream(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		reply(w, 0, nil, err)
		return
	}
	if _, err := c.Store.GetJob(r.Context(), id); err != nil {
		reply(w, 0, nil, err)
		return
	}
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer conn.CloseNow()
	ctx := conn.CloseRead(r.Context())
	last, _ := strconv.Atoi(r.URL.Query().Get("after"))
	send := func(e StoredEvent) error {
		if e.Counter <= last {
			return nil // a redelivered or already replayed event
		}
		last = e.Counter
		return conn.Write(ctx, websocket.MessageText, e.Data)
	}
	for {
		// Subscribe before reading the database, so that nothing falls
		// between the two.
		live := c.Hub.Subscribe(id)
		done, err := c.replay(ctx, id, &last, send)
		if err != nil || done {
			c.Hub.Unsubscribe(id, live)
			if err == nil {
				conn.Close(websocket.StatusNormalClosure, "EOF")
			}
			return
		}
		for open := true; open; {
			select {
			case e, ok := <-live:
				if open = ok; ok {
					if err := send(e); err != nil {
						c.Hub.Unsubscribe(id, live)
						return
					}
				}
			case <-ctx.Done():
				c.Hub.Unsubscribe(id, live)
				return
			}
		}
		// Closed: the job's EOF, or this client fell behind; the
		// database has the rest.
	}
}

// replay sends the stored events after *last; done says that the job's
// EOF has been stored and every event sent.
func (c *Controller) replay(ctx context.Context, id int64, last *int, send func(StoredEvent) error) (bool, error) {
	j, err := c.Store.GetJob(ctx, id)
	if err != nil {
		return false, err
	}
	for {
		evs, err := c.Store.Events(ctx, id, *last, 500)
		if err != nil {
			return false, err
		}
		for _, e := range evs {
			if err := send(e); err != nil {
				return false, err
			}
		}
		if len(evs) < 500 {
			break
		}
	}
	// The EOF flag was read before the events: when it was set, every
	// event was in before that read.
	return j.EventsDone || j.Status == "canceled" && j.Started == nil || j.Status == "failed" && j.Explanation == reaped, nil
}
