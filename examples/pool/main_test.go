package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/arunner/arunner/pool"
)

func TestPool(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	if err := run(ctx, &out, 3, ""); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	checkJobs(t, out.String(), 3)
}

// With -server the program only submits, to a server it did not start
// and whose workers it does not run.
func TestPoolOtherServer(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	url, stop, err := startPool(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var out bytes.Buffer
	if err := run(ctx, &out, 2, url); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	checkJobs(t, out.String(), 2)

	// The jobs went through the server given.
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, pool.JobsStream)
	if err != nil {
		t.Fatalf("the server given has no jobs stream: %v", err)
	}
	if info, err := st.Info(ctx); err != nil || info.State.LastSeq < 2 {
		t.Fatalf("the server given took fewer than 2 jobs: %+v, %v", info, err)
	}
}

func checkJobs(t *testing.T, out string, n int) {
	t.Helper()
	for i := range n {
		for _, want := range []string{
			fmt.Sprintf("job%d: status=successful rc=0\n", i),
			fmt.Sprintf("hello from job%d", i),
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
	}
}
