package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReport(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "run.html")
	var log bytes.Buffer
	if err := run(ctx, out, &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "run shop-rollout: status failed, rc 4") {
		t.Errorf("log:\n%s", log.String())
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`data-host="lb1" data-task="Check the host answers" data-outcome="unreachable"`,
		`data-host="cache1" data-task="Warm the cache" data-outcome="failed"`,
		`data-host="web2" data-task="Probe the metrics agent" data-outcome="ignored"`,
		`data-host="db1" data-task="Run database migrations" data-outcome="changed"`,
		`<pre class="msg">redis on cache1 did not answer on 127.0.0.1:6379 within 2 s</pre>`,
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the report lacks %s", want)
		}
	}
}
