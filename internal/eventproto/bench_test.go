package eventproto

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/arunner/arunner/events"
)

// realisticEvent returns the JSON of a ~1 KiB runner_on_ok event.
func realisticEvent(i int) string {
	u := fmt.Sprintf("7bd1636e-0000-4000-8000-%012d", i)
	return `{"event": "runner_on_ok", "pid": 5794, "uuid": "` + u + `", "created": "2026-11-27T15:37:04.319786", "parent_uuid": "02fc0000-0001-96e6-4ec2-000000000004", "event_data": {"playbook": "test.yml", "playbook_uuid": "5ea2b3c4-1111-2222-3333-444455556666", "play": "all", "play_uuid": "02fc0000-0001-96e6-4ec2-000000000002", "play_pattern": "all", "task": "say hi", "task_uuid": "02fc0000-0001-96e6-4ec2-000000000004", "task_action": "debug", "resolved_action": "ansible.builtin.debug", "task_args": "", "task_path": "/tmp/pdd/project/test.yml:4", "host": "localhost", "remote_addr": "localhost", "res": {"msg": "hello world", "_ansible_verbose_always": true, "_ansible_no_log": false, "changed": false}, "start": "2026-11-27T15:37:04.267513", "end": "2026-11-27T15:37:04.319739", "duration": 0.052226, "event_loop": null, "uuid": "` + u + `"}}`
}

// realisticStream returns n ~1 KiB events shaped like runner_on_ok, their
// tokens with key in front of the base64.
func realisticStream(n int, key string) []byte {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		sb.WriteString(keyedFrame(key, realisticEvent(i)) + "\x1b[0;32mok: [localhost] => {\x1b[0m\r\n\x1b[0;32m    \"msg\": \"hello world\"\x1b[0m\r\n\x1b[0;32m}\x1b[0m\r\n" + keyedFrame(key, "{}"))
	}
	return []byte(sb.String())
}

// BenchmarkFilter measures the Filter with a no-op handler on ~1 KiB
// events fed in 4 KiB writes, as from a pty; the "text" case also writes
// the human text out, as the runner does to the stdout artifact, and the
// "keyed" one checks the run's key in every token, as the runner does.
func BenchmarkFilter(b *testing.B) {
	b.Run("events", func(b *testing.B) { benchmarkFilter(b, nil, "") })
	b.Run("text", func(b *testing.B) { benchmarkFilter(b, io.Discard, "") })
	b.Run("keyed", func(b *testing.B) { benchmarkFilter(b, io.Discard, testKey) })
}

func benchmarkFilter(b *testing.B, text io.Writer, key string) {
	const n = 1000
	data := realisticStream(n, key)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f := NewFilter(FilterConfig{Handle: func(*events.Event) error { return nil }, Text: text, Key: key})
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

// loopRecord is a side-band record as the plugin writes it for one item of
// bench/testdata/loop200.pty's debug loop (ansible-core 2.14).
const loopRecord = `7 {"event": "runner_item_on_ok", "pid": 15643, "uuid": "adeaff52-8349-4db3-84c7-62ef0f8584e8", "created": "2026-11-27T16:18:32.232659", "parent_uuid": "02fc0000-0001-fb46-c14a-000000000004", "event_data": {"playbook": "/tmp/arunner-record-71428774/loop.yml", "playbook_uuid": "2372d777-e907-499b-9a37-71940b7b7fd8", "play": "localhost", "play_uuid": "02fc0000-0001-fb46-c14a-000000000002", "play_pattern": "localhost", "task": "say hello", "task_uuid": "02fc0000-0001-fb46-c14a-000000000004", "task_action": "debug", "resolved_action": "ansible.builtin.debug", "task_args": "", "task_path": "/tmp/arunner-record-71428774/loop.yml:4", "host": "localhost", "res": {"msg": "hello 1", "_ansible_verbose_always": true, "_ansible_no_log": false, "changed": false, "item": 1, "ansible_loop_var": "item", "_ansible_item_label": 1}, "uuid": "adeaff52-8349-4db3-84c7-62ef0f8584e8"}}` + "\n"

// loopRecordText is loopRecord as the plugin writes it when the record also
// carries the event's text (escaped: colours and newlines).
var loopRecordText = strings.TrimSuffix(loopRecord, "}\n") +
	`, "stdout": "\u001b[0;32mok: [localhost] => (item=1) => {\u001b[0m\n\u001b[0;32m    \"msg\": \"hello 1\"\u001b[0m\n\u001b[0;32m}\u001b[0m\n"}` + "\n"

// BenchmarkParseRecord measures decoding one side-band record: the side
// band goroutine's work per event.
func BenchmarkParseRecord(b *testing.B) {
	b.Run("runner_on_ok", func(b *testing.B) { benchmarkParseRecord(b, "1 "+realisticEvent(1)+"\n") })
	b.Run("loop", func(b *testing.B) { benchmarkParseRecord(b, loopRecord) })
	b.Run("loop with text", func(b *testing.B) { benchmarkParseRecord(b, loopRecordText) })
}

func benchmarkParseRecord(b *testing.B, line string) {
	rec := []byte(line)
	var dec events.Decoder
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	for b.Loop() {
		if r := parseRecord(&dec, rec, false, DefaultMaxFrame); r.err != nil || r.ev == nil {
			b.Fatal(r.err)
		}
	}
}
