package pool

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
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
	// All six ports at once, the listeners held open meanwhile, so that
	// no two are the same.
	var ports []int
	var ls []net.Listener
	for range 6 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
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
	url := strings.Join(urls, ",")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	require.NoError(t, err)
	defer nc.Close()
	var c *Client
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
	// The stream leader goes once a third of the jobs have run.
	go func() {
		for {
			st, err := c.s.js.Stream(ctx, JobsStream)
			if err == nil {
				if info, err := st.Info(ctx); err == nil && info.State.Msgs > 0 && info.Cluster != nil && info.Cluster.Leader != "" {
					for _, ns := range nodes {
						if ns.Name() == info.Cluster.Leader {
							time.Sleep(200 * time.Millisecond)
							t.Logf("shutting down %s, the leader of %s", ns.Name(), JobsStream)
							ns.Shutdown()
							return
						}
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
	assertOnce(t, ids, workers...)
}
