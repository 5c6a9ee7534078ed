package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/arunner/arunner/runnertest"
)

// The tests start their own servers, on loopback: PostgreSQL (one per test
// binary, a database per test), Redis (one per test), sshd (one per test).

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		runnertest.Main(child(dir))
	}
	runnertest.Main(stopAfter{m})
}

// stopAfter stops the shared PostgreSQL once the tests ran.
type stopAfter struct{ m *testing.M }

func (s stopAfter) Run() int {
	code := s.m.Run()
	if pg.stop != nil {
		pg.stop()
	}
	return code
}

// backend is a storage and queue combination the tests run on.
type backend struct {
	name string
	opts func(t *testing.T) Options
}

// backends are the embedded defaults, and PostgreSQL with Redis when their
// servers are installed.
func backends() []backend {
	return []backend{
		{"embedded", func(t *testing.T) Options { return Options{DataDir: t.TempDir()} }},
		{"postgres-redis", func(t *testing.T) Options {
			return Options{DataDir: t.TempDir(), DatabaseURL: postgresDB(t), RedisAddr: startRedis(t).Addr}
		}},
	}
}

// testApp is a controller behind an httptest server.
type testApp struct {
	*App
	URL string
	t   *testing.T
}

func openApp(t *testing.T, o Options) *testApp {
	t.Helper()
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if o.Capacity == 0 {
		o.Capacity = 20
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Controller.Handler())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		if err := app.Close(); err != nil {
			t.Error(err)
		}
	})
	return &testApp{App: app, URL: srv.URL, t: t}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// call sends a JSON request and decodes the reply into out; it fails the
// test unless the status is want.
func (a *testApp) call(method, path string, body any, want int, out any) {
	a.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.URL+path, r)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// create posts an object and returns its id and, for a project or an
// inventory, the id of its update job.
func (a *testApp) create(kind string, doc any) (id, update int64) {
	a.t.Helper()
	var out struct {
		ID     int64 `json:"id"`
		Update int64 `json:"update_job_id"`
	}
	a.call("POST", "/api/"+kind, doc, http.StatusCreated, &out)
	return out.ID, out.Update
}

func (a *testApp) launch(template int64) int64 {
	a.t.Helper()
	var j Job
	a.call("POST", fmt.Sprintf("/api/job_templates/%d/launch", template), nil, http.StatusCreated, &j)
	return j.ID
}

func (a *testApp) job(id int64) *Job {
	a.t.Helper()
	var j Job
	a.call("GET", fmt.Sprintf("/api/jobs/%d", id), nil, http.StatusOK, &j)
	return &j
}

// wait waits for the job to reach one of the statuses.
func (a *testApp) wait(id int64, timeout time.Duration, statuses ...string) *Job {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := a.job(id)
		for _, s := range statuses {
			if j.Status == s {
				return j
			}
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("job %d is %s after %s, want %v: %s", id, j.Status, timeout, statuses, j.Explanation)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitEvents waits for the job's EOF to be stored and returns its events.
func (a *testApp) waitEvents(id int64, timeout time.Duration) []StoredEvent {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	for !a.job(id).EventsDone {
		if time.Now().After(deadline) {
			a.t.Fatalf("job %d: no EOF after %s", id, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var all []StoredEvent
	for after := 0; ; {
		var page []StoredEvent
		a.call("GET", fmt.Sprintf("/api/jobs/%d/events?after=%d&limit=100", id, after), nil, http.StatusOK, &page)
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Counter
	}
}

// checkCounters fails unless evs are counters 1..final, each once, in order.
func checkCounters(t *testing.T, evs []StoredEvent, final int) {
	t.Helper()
	if len(evs) != final || final == 0 {
		t.Fatalf("%d events, final counter %d", len(evs), final)
	}
	for i, e := range evs {
		if e.Counter != i+1 {
			t.Fatalf("event %d has counter %d", i, e.Counter)
		}
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	port, err := pickPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func pickPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitListening(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listening on %s after %s", addr, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisServer is a redis-server on loopback, with its data on disk
// (appendfsync always) so that a restart keeps the stream.
type redisServer struct {
	Addr string
	dir  string
	port int
	cmd  *exec.Cmd
	t    testing.TB
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		missing(t, "redis-server is not installed")
	}
	r := &redisServer{dir: t.TempDir(), port: freePort(t), t: t}
	r.Addr = "127.0.0.1:" + strconv.Itoa(r.port)
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(r.port),
		"--dir", r.dir, "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "no")
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	if err := waitListening(r.Addr, 10*time.Second); err != nil {
		r.t.Fatal(err)
	}
}

// stop shuts Redis down (SIGTERM: it flushes its append-only file).
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

// pg is the test binary's PostgreSQL server, started on first use.
var pg struct {
	once sync.Once
	url  string // of the postgres database; tests get their own
	err  error
	stop func()
	n    int
	mu   sync.Mutex
}

// postgresDB returns the URL of a new, empty database for the test.
func postgresDB(t testing.TB) string {
	t.Helper()
	pg.once.Do(startPostgres)
	if pg.err != nil {
		missing(t, pg.err.Error())
	}
	pg.mu.Lock()
	pg.n++
	name := fmt.Sprintf("test_%d", pg.n)
	pg.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := OpenStore(ctx, pg.url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.(*sqlStore).db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return strings.Replace(pg.url, "/postgres?", "/"+name+"?", 1)
}

// startPostgres runs initdb and pg_ctl from Debian's postgresql, as an
// unprivileged user when the tests run as root (PostgreSQL refuses root).
func startPostgres() {
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		pg.err = fmt.Errorf("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
		return
	}
	bin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "controller-pg-")
	if err != nil {
		pg.err = err
		return
	}
	as := func(name string, args ...string) *exec.Cmd { return exec.Command(filepath.Join(bin, name), args...) }
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			pg.err = err
			return
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			pg.err = err
			return
		}
		as = func(name string, args ...string) *exec.Cmd {
			cmd := exec.Command(filepath.Join(bin, name), args...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
			cmd.Dir = dir
			return cmd
		}
	}
	p, err := pickPort()
	if err != nil {
		pg.err = err
		return
	}
	port := strconv.Itoa(p)
	data := filepath.Join(dir, "data")
	if out, err := as("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		pg.err = fmt.Errorf("initdb: %v: %s", err, out)
		os.RemoveAll(dir)
		return
	}
	// postgres in the foreground, a child of the test binary that dies
	// with it, rather than pg_ctl's daemon that could outlive it.
	var log bytes.Buffer
	cmd := as("postgres", "-D", data, "-p", port, "-h", "127.0.0.1", "-k", dir, "-F")
	cmd.Stdout, cmd.Stderr = &log, &log
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid, cmd.SysProcAttr.Pdeathsig = true, syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		pg.err = err
		os.RemoveAll(dir)
		return
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	pg.stop = func() {
		_ = cmd.Process.Signal(syscall.SIGINT) // fast shutdown
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		os.RemoveAll(dir)
	}
	if err := waitListening("127.0.0.1:"+port, 30*time.Second); err != nil {
		pg.stop()
		pg.stop, pg.err = nil, fmt.Errorf("postgres: %v: %s", err, log.String())
		return
	}
	pg.url = "postgres://postgres@127.0.0.1:" + port + "/postgres?sslmode=disable"
	// Listening is not yet accepting: wait for a query to go through.
	db, err := sql.Open("pgx", pg.url)
	if err != nil {
		pg.err = err
		return
	}
	defer db.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err = db.Ping(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			pg.err = fmt.Errorf("postgres does not answer: %v: %s", err, log.String())
			return
		}
	}
}

// missing skips a test whose real server or tool is not here, except under
// CI (make test installs them all), where that fails.
func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why + "; make test installs it")
	}
	t.Skip(why)
}
