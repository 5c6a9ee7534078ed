package events

import (
	"fmt"
	"io"
	"strings"
	"testing"
)

// realisticEvent returns the JSON of a ~1 KiB runner_on_ok event.
func realisticEvent(i int) string {
	u := fmt.Sprintf("7bd1636e-0000-4000-8000-%012d", i)
	return `{"event": "runner_on_ok", "pid": 5794, "uuid": "` + u + `", "created": "2026-11-27T15:37:04.319786", "parent_uuid": "02fc0000-0001-96e6-4ec2-000000000004", "event_data": {"playbook": "test.yml", "playbook_uuid": "5ea2b3c4-1111-2222-3333-444455556666", "play": "all", "play_uuid": "02fc0000-0001-96e6-4ec2-000000000002", "play_pattern": "all", "task": "say hi", "task_uuid": "02fc0000-0001-96e6-4ec2-000000000004", "task_action": "debug", "resolved_action": "ansible.builtin.debug", "task_args": "", "task_path": "/tmp/pdd/project/test.yml:4", "host": "localhost", "remote_addr": "localhost", "res": {"msg": "hello world", "_ansible_verbose_always": true, "_ansible_no_log": false, "changed": false}, "start": "2026-11-27T15:37:04.267513", "end": "2026-11-27T15:37:04.319739", "duration": 0.052226, "event_loop": null, "uuid": "` + u + `"}}`
}

// realisticStream returns n ~1 KiB events shaped like runner_on_ok.
func realisticStream(n int) []byte {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString(wrap(realisticEvent(i), "\x1b[0;32mok: [localhost] => {\x1b[0m\r\n\x1b[0;32m    \"msg\": \"hello world\"\x1b[0m\r\n\x1b[0;32m}\x1b[0m\r\n"))
	}
	return []byte(sb.String())
}

// BenchmarkFilter measures the Filter with a no-op handler on ~1 KiB
// events fed in 4 KiB writes, as from a pty; the "text" case also writes
// the human text out, as the runner does to the stdout artifact.
func BenchmarkFilter(b *testing.B) {
	b.Run("events", func(b *testing.B) { benchmarkFilter(b, nil) })
	b.Run("text", func(b *testing.B) { benchmarkFilter(b, io.Discard) })
}

func benchmarkFilter(b *testing.B, text io.Writer) {
	const n = 1000
	data := realisticStream(n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f := NewFilter(FilterConfig{Handle: func(*Event) error { return nil }, Text: text})
		for s := data; len(s) > 0; {
			k := min(4096, len(s))
			_, _ = f.Write(s[:k])
			s = s[k:]
		}
		_ = f.Close()
		if f.Counter() != n {
			b.Fatalf("counter %d", f.Counter())
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkParseRecord measures decoding one side-band record: the side
// band goroutine's work per event.
func BenchmarkParseRecord(b *testing.B) {
	rec := []byte("1 " + realisticEvent(1) + "\n")
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if r := parseRecord(rec, false, DefaultMaxFrame); r.err != nil || r.ev == nil {
			b.Fatal(r.err)
		}
	}
}
