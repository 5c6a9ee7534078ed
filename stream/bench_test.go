package stream

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

// benchStream is a worker's stream of n runner_on_ok events of about 1 KB,
// as a loop's items make them, with its status lines, artifacts and eof.
func benchStream(b *testing.B, n int) []byte {
	b.Helper()
	var buf bytes.Buffer
	w := newWriter(&buf)
	w.json(runner.StatusUpdate{Status: runner.StatusStarting, RunnerIdent: "bench", Command: []string{"ansible-playbook", "site.yml"}, Cwd: "/w/project"})
	w.json(runner.StatusUpdate{Status: runner.StatusRunning, RunnerIdent: "bench"})
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&buf, `{"uuid": "5c0b6a38-0e2f-4d1c-9c1e-%012d", "counter": %d, "stdout": "ok: [localhost] => (item=%d)", "start_line": %d, "end_line": %d, "runner_ident": "bench", "event": "runner_item_on_ok", "pid": 4242, "created": "2026-12-07T17:20:00.123456+00:00", "parent_uuid": "02fc0000-0001-3d59-efba-000000000004", "event_data": {"playbook": "site.yml", "playbook_uuid": "4c7c47fa-0740-4087-9534-e21c74fe2131", "play": "loop", "play_uuid": "02fc0000-0001-3d59-efba-000000000002", "play_pattern": "localhost", "task": "debug", "task_uuid": "02fc0000-0001-3d59-efba-000000000004", "task_action": "debug", "resolved_action": "ansible.builtin.debug", "task_args": "", "task_path": "/w/project/site.yml:5", "host": "localhost", "remote_addr": "localhost", "res": {"msg": "item %d", "_ansible_verbose_always": true, "_ansible_no_log": false, "changed": false, "item": %d, "ansible_loop_var": "item", "_ansible_item_label": %d}, "start": "2026-12-07T17:20:00.100000+00:00", "end": "2026-12-07T17:20:00.120000+00:00", "duration": 0.02, "event_loop": null, "uuid": "5c0b6a38-0e2f-4d1c-9c1e-%012d"}}`+"\n", i, i, i, i, i+1, i, i, i, i)
	}
	w.json(runner.StatusUpdate{Status: runner.StatusSuccessful, RunnerIdent: "bench"})
	dir := b.TempDir()
	os.WriteFile(filepath.Join(dir, "rc"), []byte("0"), 0o600)
	os.WriteFile(filepath.Join(dir, "status"), []byte("successful"), 0o600)
	os.WriteFile(filepath.Join(dir, "stdout"), []byte(strings.Repeat("ok: [localhost]\n", 1000)), 0o600)
	f, err := packDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w.zip(f)
	w.line([]byte(eofJSON))
	return buf.Bytes()
}

// BenchmarkProcess is the process side's cost per event, job_events files
// left out (EventHandler returns false): the stream's own overhead.
func BenchmarkProcess(b *testing.B) {
	const n = 10000
	s := benchStream(b, n)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		_, err := Process(context.Background(), bytes.NewReader(s), runner.Config{
			PrivateDataDir: b.TempDir(),
			EventHandler:   func(*events.Event) bool { return false },
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}
