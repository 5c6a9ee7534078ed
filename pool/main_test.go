package pool

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/proctest"
	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
	"github.com/arunner/arunner/stream"
)

// The test binary is also the fake ansible (runnertest) and, with
// workerEnv set, a worker process: `arunner worker --nats` in small.
const (
	workerEnv     = "POOL_TEST_WORKER" // the NATS URL
	workerQueues  = "POOL_TEST_QUEUES"
	workerCap     = "POOL_TEST_CAPACITY"
	workerName    = "POOL_TEST_NAME"
	workerHold    = "POOL_TEST_HOLD" // a file: see holdWhile
	testHeartbeat = 100 * time.Millisecond
	testAckWait   = time.Second
	testTimeout   = time.Second // HeartbeatTimeout of the tests' clients
)

func TestMain(m *testing.M) { runnertest.Main(mainRunner{m}) }

type mainRunner struct{ m *testing.M }

func (r mainRunner) Run() int {
	if url := os.Getenv(workerEnv); url != "" {
		return workerProcess(url)
	}
	return r.m.Run()
}

// workerProcess serves until SIGTERM, logging each job to stderr.
func workerProcess(url string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer nc.Close()
	capacity, _ := strconv.Atoi(os.Getenv(workerCap))
	var mu sync.Mutex
	err = Serve(ctx, nc, WorkerOptions{
		Queues: strings.Split(os.Getenv(workerQueues), ","), Capacity: capacity, Name: os.Getenv(workerName),
		Heartbeat: testHeartbeat, AckWait: testAckWait,
		Worker: stream.WorkerOptions{Configure: holdWhile(os.Getenv(workerHold))},
		Logf: func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(os.Stderr, format+"\n", args...)
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 1
	}
	return 0
}

// holdWhile is, when path is set, a Configure that keeps the worker
// between its claim of a job and the start of ansible (the private data
// dir unpacked) for as long as path exists; it creates path.held when it
// starts holding.
func holdWhile(path string) func(*runner.Config) error {
	if path == "" {
		return nil
	}
	return func(*runner.Config) error {
		if err := os.WriteFile(path+".held", nil, 0o600); err != nil {
			return err
		}
		for {
			if _, err := os.Stat(path); err != nil {
				return nil
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// startServer starts a JetStream server on a random loopback port.
func startServer(t testing.TB) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	require.NoError(t, err)
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	return nc
}

func newClient(t testing.TB, nc *nats.Conn, opts Options) *Client {
	t.Helper()
	if opts.HeartbeatTimeout == 0 {
		opts.HeartbeatTimeout = testTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := NewClient(ctx, nc, opts)
	require.NoError(t, err)
	return c
}

// workerProc is a worker process and its log.
type workerProc struct {
	name string
	tmp  string // its TMPDIR, where stream.Worker makes each job's private data dir
	cmd  *exec.Cmd
	log  *proctest.Buffer
	done chan struct{}
}

// startWorker starts a worker process on url; it is stopped (SIGTERM,
// then SIGKILL) when the test ends.
func startWorker(t testing.TB, url, name string, capacity int, queues ...string) *workerProc {
	t.Helper()
	return startWorkerEnv(t, url, name, capacity, nil, queues...)
}

// startWorkerEnv is startWorker with env added to the worker's environment.
func startWorkerEnv(t testing.TB, url, name string, capacity int, env []string, queues ...string) *workerProc {
	t.Helper()
	tmp := t.TempDir()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(append(os.Environ(), env...), "TMPDIR="+tmp, workerEnv+"="+url, workerQueues+"="+strings.Join(queues, ","),
		workerCap+"="+strconv.Itoa(capacity), workerName+"="+name)
	w := &workerProc{name: name, tmp: tmp, cmd: cmd, log: &proctest.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = w.log, w.log
	require.NoError(t, cmd.Start())
	go func() { cmd.Wait(); close(w.done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-w.done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-w.done
		}
		if t.Failed() {
			t.Logf("worker %s log:\n%s", name, w.log.String())
		}
	})
	return w
}

// started returns the IDs of the jobs the worker's log says it started.
func (w *workerProc) started() []string {
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(w.log.String()))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 2 && f[0] == "job" && strings.HasSuffix(sc.Text(), ": started") {
			ids = append(ids, f[1])
		}
	}
	return ids
}

// procsOf returns the pids of the processes whose environment holds
// needle: the fake ansible of a script, say.
func procsOf(needle string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil || !bytes.Contains(env, []byte(needle)) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killFakes kills what is left of fake's processes when the test ends (a
// worker killed with -9 leaves its ansible behind).
func killFakes(t testing.TB, fake *runnertest.Fake) {
	t.Cleanup(func() {
		for _, pid := range procsOf(runnertest.ScriptEnv + "=" + fake.Env[runnertest.ScriptEnv]) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// eventually polls cond until it holds or d has passed.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// newPlainServer starts a server without JetStream; it returns its URL.
func newPlainServer(t testing.TB) (string, error) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		return "", err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		return "", fmt.Errorf("nats-server not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns.ClientURL(), nil
}

// assertNoJobDirs checks that the workers removed every job's private
// data dir.
func assertNoJobDirs(t testing.TB, workers ...*workerProc) {
	for _, w := range workers {
		left, _ := filepath.Glob(filepath.Join(w.tmp, "*"))
		assert.Empty(t, left, "left in worker %s's TMPDIR", w.name)
	}
}
