package events_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/arunner/arunner/events"
)

// A job_events file (artifacts/<ident>/job_events/<counter>-<uuid>.json)
// decodes with encoding/json; the accessors read the common event_data keys.
func ExampleEvent() {
	file := `{"uuid": "9f1c", "counter": 5, "stdout": "changed: [web1]", "start_line": 4, "end_line": 5,
		"runner_ident": "42", "event": "runner_on_ok", "pid": 7, "created": "2026-01-01T00:00:00.000000",
		"parent_uuid": "t1", "event_data": {"play": "site", "task": "install", "task_action": "apt",
		"host": "web1", "res": {"changed": true}}}`
	var e events.Event
	if err := json.Unmarshal([]byte(file), &e); err != nil {
		panic(err)
	}
	if e.Event == events.RunnerOnOK {
		fmt.Println(e.Counter, e.Play(), e.Task(), e.TaskAction(), e.Host(), e.Changed(), e.Failed())
	}
	fmt.Println(string(e.Res()))
	// Output:
	// 5 site install apt web1 true false
	// {"changed": true}
}

// The lines of a stream of event JSON, such as ansible-runner's worker
// output or arunner run -j, decode with one Decoder.
func ExampleDecoder() {
	stream := `{"uuid": "a", "counter": 1, "event": "playbook_on_start", "event_data": {}}
{"uuid": "b", "counter": 2, "event": "runner_on_failed", "job_id": 42, "event_data": {"host": "db1", "ignore_errors": true}}
{"uuid": "c", "counter": 3, "event": "runner_on_unreachable", "event_data": {"host": "db2"}}
`
	var d events.Decoder
	sc := bufio.NewScanner(strings.NewReader(stream))
	for sc.Scan() {
		var e events.Event
		if err := d.Decode(sc.Bytes(), &e); err != nil {
			panic(err)
		}
		job, _ := e.ExtraField("job_id")
		fmt.Printf("%d %s host=%q failed=%t ignored=%t job_id=%s\n", e.Counter, e.Event, e.Host(), e.Failed(), e.IgnoreErrors(), job)
	}
	// Output:
	// 1 playbook_on_start host="" failed=false ignored=false job_id=
	// 2 runner_on_failed host="db1" failed=false ignored=true job_id=42
	// 3 runner_on_unreachable host="db2" failed=true ignored=false job_id=
}

// A top-level key of the wrong type is named.
func ExampleFieldError() {
	var e events.Event
	err := json.Unmarshal([]byte(`{"uuid": "a", "counter": "one"}`), &e)
	var fe *events.FieldError
	fmt.Println(errors.As(err, &fe), fe.Key)
	// Output: true counter
}

func ExampleEvent_Stats() {
	var e events.Event
	_ = json.Unmarshal([]byte(`{"uuid": "s", "counter": 9, "event": "playbook_on_stats",
		"event_data": {"ok": {"web1": 3}, "failures": {"web2": 1}, "changed": {}, "dark": {},
		"ignored": {}, "processed": {"web1": 1, "web2": 1}, "rescued": {}, "skipped": {},
		"artifact_data": {"answer": 42}}}`), &e)
	s, ok := e.Stats()
	fmt.Println(ok, s.OK["web1"], s.Failures["web2"], s.ArtifactData["answer"])
	// Output: true 3 1 42
}

func ExampleEvent_MarshalJSON() {
	e := events.Event{UUID: "u1", Counter: 1, Stdout: "ok: [h]", EndLine: 1, RunnerIdent: "r",
		Event: "runner_on_ok", PID: 42, Created: "2026-01-01T00:00:00", ParentUUID: "t1",
		EventData: json.RawMessage(`{"host":"h"}`), Extra: []events.Field{{Key: "job_id", Value: json.RawMessage("7")}}}
	b, _ := e.MarshalJSON()
	fmt.Println(string(b))
	fmt.Println(e.Host(), e.Failed())
	// Output:
	// {"uuid":"u1","counter":1,"stdout":"ok: [h]","start_line":0,"end_line":1,"runner_ident":"r","event":"runner_on_ok","job_id":7,"pid":42,"created":"2026-01-01T00:00:00","parent_uuid":"t1","event_data":{"host":"h"}}
	// h false
}

// The runner reports frames in ansible's output that were not events as
// *FrameError values (runner.Result.FrameErrors); the sentinel says why.
func ExampleFrameError() {
	var err error = &events.FrameError{Offset: 1200, Size: 56, Err: events.ErrForgedFrame}
	var fe *events.FrameError
	fmt.Println(errors.As(err, &fe), fe.Offset, errors.Is(err, events.ErrForgedFrame))
	fmt.Println(err)
	// Output:
	// true 1200 true
	// events: frame at byte 1200 (56 bytes): event frame not from the callback plugin
}

// Failed counts a failure as AWX does: not when the task ignores errors.
func ExampleEvent_Failed() {
	for _, j := range []string{
		`{"event": "runner_on_failed", "event_data": {"host": "web1"}}`,
		`{"event": "runner_on_failed", "event_data": {"host": "web2", "ignore_errors": true}}`,
		`{"event": "runner_on_unreachable", "event_data": {"host": "web3"}}`,
		`{"event": "runner_on_ok", "event_data": {"host": "web4", "res": {"changed": true}}}`,
	} {
		var e events.Event
		_ = json.Unmarshal([]byte(j), &e)
		fmt.Println(e.Host(), e.Failed(), e.IgnoreErrors(), e.Changed())
	}
	// Output:
	// web1 true false false
	// web2 false true false
	// web3 true false false
	// web4 false false true
}

// Top-level keys that Event has no field for, such as the job_id that AWX
// sets, are kept in order and read back by name.
func ExampleEvent_ExtraField() {
	var e events.Event
	_ = json.Unmarshal([]byte(`{"uuid": "a", "event": "verbose", "job_id": 42, "custom": {"k": "v"}}`), &e)
	job, ok := e.ExtraField("job_id")
	fmt.Println(string(job), ok, len(e.Extra), e.Extra[1].Key)
	// Output: 42 true 2 custom
}

// Res is the module's result as raw JSON, to decode into what the caller
// expects of that module.
func ExampleEvent_Res() {
	var e events.Event
	_ = json.Unmarshal([]byte(`{"event": "runner_on_ok", "event_data": {"task_action": "command",
		"res": {"rc": 0, "stdout": "up 3 days", "changed": true}}}`), &e)
	var res struct {
		RC     int    `json:"rc"`
		Stdout string `json:"stdout"`
	}
	if e.TaskAction() == "command" && json.Unmarshal(e.Res(), &res) == nil {
		fmt.Println(res.RC, res.Stdout)
	}
	// Output: 0 up 3 days
}
