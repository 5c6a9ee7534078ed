package events

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// realisticEvent returns the JSON of a ~1 KiB runner_on_ok event.
func realisticEvent(i int) string {
	u := fmt.Sprintf("7bd1636e-0000-4000-8000-%012d", i)
	return `{"event": "runner_on_ok", "pid": 5794, "uuid": "` + u + `", "created": "2026-11-27T15:37:04.319786", "parent_uuid": "02fc0000-0001-96e6-4ec2-000000000004", "event_data": {"playbook": "test.yml", "playbook_uuid": "5ea2b3c4-1111-2222-3333-444455556666", "play": "all", "play_uuid": "02fc0000-0001-96e6-4ec2-000000000002", "play_pattern": "all", "task": "say hi", "task_uuid": "02fc0000-0001-96e6-4ec2-000000000004", "task_action": "debug", "resolved_action": "ansible.builtin.debug", "task_args": "", "task_path": "/tmp/pdd/project/test.yml:4", "host": "localhost", "remote_addr": "localhost", "res": {"msg": "hello world", "_ansible_verbose_always": true, "_ansible_no_log": false, "changed": false}, "start": "2026-11-27T15:37:04.267513", "end": "2026-11-27T15:37:04.319739", "duration": 0.052226, "event_loop": null, "uuid": "` + u + `"}}`
}

// BenchmarkUnmarshalJobEvent measures reading back one job_events file, as
// Result.Events does: its stdout is escaped (colours, CR LF).
func BenchmarkUnmarshalJobEvent(b *testing.B) {
	e := &Event{}
	require.NoError(b, e.UnmarshalJSON([]byte(realisticEvent(1))))
	e.Stdout = "\x1b[0;32mok: [localhost] => {\x1b[0m\r\n\x1b[0;32m    \"msg\": \"hello world\"\x1b[0m\r\n\x1b[0;32m}\x1b[0m\r\n"
	e.Counter, e.StartLine, e.EndLine, e.RunnerIdent = 7, 10, 13, "c0ffee00-0000-4000-8000-000000000000"
	file, err := e.MarshalJSON()
	require.NoError(b, err)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		var got Event
		if err := got.UnmarshalJSON(file); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalJobEvent measures writing one job_events file's JSON, the
// runner's work per kept event: its stdout escapes to more than its length.
func BenchmarkMarshalJobEvent(b *testing.B) {
	e := &Event{}
	require.NoError(b, e.UnmarshalJSON([]byte(realisticEvent(1))))
	e.Stdout = "\x1b[0;32mok: [localhost] => {\x1b[0m\r\n\x1b[0;32m    \"msg\": \"hello world\"\x1b[0m\r\n\x1b[0;32m}\x1b[0m\r\n"
	e.Counter, e.StartLine, e.EndLine, e.RunnerIdent = 7, 10, 13, "c0ffee00-0000-4000-8000-000000000000"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
