package pool

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/runnertest"
)

// startCluster starts a 3-node JetStream cluster on loopback and returns
// its nodes once it has a meta leader.
func startCluster(t *testing.T) []*server.Server {
	ports := freePorts(t, 6)
	routes := fmt.Sprintf("nats://127.0.0.1:%d,nats://127.0.0.1:%d,nats://127.0.0.1:%d", ports[3], ports[4], ports[5])
	base := t.TempDir()
	var nodes []*server.Server
	for i := range 3 {
		ns, err := server.NewServer(&server.Options{ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: ports[i],
			JetStream: true, StoreDir: filepath.Join(base, fmt.Sprint(i)), NoLog: true, NoSigs: true,
			Cluster: server.ClusterOpts{Name: "C", Host: "127.0.0.1", Port: ports[3+i]},
			Routes:  server.RoutesFromStr(routes)})
		require.NoError(t, err)
		go ns.Start()
		nodes = append(nodes, ns)
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	}
	for _, ns := range nodes {
		require.True(t, ns.ReadyForConnections(10*time.Second))
	}
	eventually(t, 30*time.Second, "a JetStream meta leader", func() bool {
		for _, ns := range nodes {
			if ns.JetStreamIsLeader() {
				return true
			}
		}
		return false
	})
	return nodes
}

// A 3-node cluster loses the leader of the jobs stream while jobs run:
// none is lost, none runs twice.
func TestPoolClusterNodeKilled(t *testing.T) {
	nodes := startCluster(t)
	var urls []string
	for _, ns := range nodes {
		urls = append(urls, ns.ClientURL())
	}
	clusterLoad(t, urls, func(leader string) bool {
		for _, ns := range nodes {
			if ns.Name() == leader {
				ns.Shutdown()
				return true
			}
		}
		return false
	})
}

// The same with the system's nats-server (Debian's 2.9.10), three
// processes, the leader killed with SIGKILL.
func TestPoolSystemClusterNodeKilled(t *testing.T) {
	bin, err := exec.LookPath("nats-server")
	if err != nil {
		needNATSServer(t)
	}
	ports := freePorts(t, 6)
	routes := fmt.Sprintf("nats://127.0.0.1:%d,nats://127.0.0.1:%d,nats://127.0.0.1:%d", ports[3], ports[4], ports[5])
	procs := map[string]*exec.Cmd{}
	var urls []string
	for i := range 3 {
		name := fmt.Sprintf("n%d", i)
		cmd := exec.Command(bin, "-js", "-a", "127.0.0.1", "-p", fmt.Sprint(ports[i]), "-sd", t.TempDir(),
			"--server_name", name, "--cluster_name", "C", "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", ports[3+i]),
			"--routes", routes)
		require.NoError(t, cmd.Start())
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() {
			cmd.Process.Kill()
			<-done
		})
		procs[name] = cmd
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[i]))
	}
	clusterLoad(t, urls, func(leader string) bool {
		cmd, ok := procs[leader]
		if ok {
			cmd.Process.Signal(syscall.SIGKILL)
		}
		return ok
	})
}

// freePorts returns n distinct free loopback ports: the listeners are
// held open until all are chosen.
func freePorts(t *testing.T, n int) []int {
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// clusterLoad runs jobs through the cluster at urls over three worker
// processes and kills the jobs stream's leader (kill says whether it
// could) once jobs are queued: every job must run once and end well.
func clusterLoad(t *testing.T, urls []string, kill func(leader string) bool) {
	url := strings.Join(urls, ",")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var nc *nats.Conn
	eventually(t, 30*time.Second, "a connection", func() bool {
		var err error
		nc, err = nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
		return err == nil
	})
	defer nc.Close()
	var c *Client
	var err error
	eventually(t, 60*time.Second, "the pool's streams, R3", func() bool {
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		defer ccancel()
		c, err = NewClient(cctx, nc, Options{Replicas: 3, HeartbeatTimeout: 3 * time.Second})
		return err == nil
	})
	quick := runnertest.New(t, quickPlay...)
	want := localEventNames(t, jobConfig(t, quick, "local"))
	var workers []*workerProc
	for i := range 3 {
		workers = append(workers, startWorker(t, url, fmt.Sprintf("w%d", i), 2, "default"))
	}

	n := 60
	if raceEnabled {
		n = 30
	}
	killed := make(chan string, 1)
	go func() {
		for {
			st, err := c.s.js.Stream(ctx, JobsStream)
			if err == nil {
				if info, err := st.Info(ctx); err == nil && info.State.Msgs > 0 && info.Cluster != nil && info.Cluster.Leader != "" {
					time.Sleep(200 * time.Millisecond)
					if kill(info.Cluster.Leader) {
						killed <- info.Cluster.Leader
						return
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	ids := runJobs(t, c, quick, "default", n, want)
	t.Logf("%d jobs in %v", n, time.Since(start))
	select {
	case leader := <-killed:
		t.Logf("killed %s, the leader of %s, mid-load", leader, JobsStream)
	default:
		t.Error("no node was killed")
	}
	assertOnce(t, ids, workers...)
}
