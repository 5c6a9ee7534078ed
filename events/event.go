package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// Event is one ansible-runner 2.x job event, as written to
// artifacts/<ident>/job_events/<counter>-<uuid>.json.
//
// Absent and zero are the same for the optional top-level keys: PID 0 means
// "no pid" (runner-synthesized verbose lines), ParentUUID "" means no parent,
// Verbosity 0 means no top-level verbosity, EventData nil means no event_data.
// The reference never writes those keys with a zero value.
type Event struct {
	UUID        string
	Counter     int
	Stdout      string
	StartLine   int
	EndLine     int
	RunnerIdent string
	Event       string
	PID         int
	Created     string
	ParentUUID  string
	// Verbosity is the top-level "verbosity" (set on callback verbose events).
	Verbosity int
	// EventData is the raw event_data object, kept byte for byte.
	EventData json.RawMessage
	// Extra holds every other top-level key (job_id, ad_hoc_command_id,
	// project_update_id, ...) in the order it was read.
	Extra []Field
}

// Field is one top-level key of an event that Event has no field for.
type Field struct {
	Key   string
	Value json.RawMessage
}

// Extra keys that the reference writes between "event" and "pid".
var earlyExtras = [...]string{"job_id", "ad_hoc_command_id", "project_update_id"}

// ExtraField returns the raw value of a top-level key kept in Extra.
func (e *Event) ExtraField(key string) (json.RawMessage, bool) {
	for _, f := range e.Extra {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// runnerVerbose reports whether e is a line that the runner (not the callback)
// turned into an event; the reference writes those with "event" first.
func (e *Event) runnerVerbose() bool {
	return e.Event == Verbose && e.PID == 0 && e.EventData == nil && e.ParentUUID == ""
}

// MarshalJSON writes e with the key order of the reference's job_events
// files: uuid, counter, stdout, start_line, end_line, runner_ident, event,
// job_id/ad_hoc_command_id/project_update_id, pid, created, parent_uuid,
// verbosity, event_data, then any other extra keys. Runner-synthesized
// verbose events start with "event", as the reference writes them.
func (e *Event) MarshalJSON() ([]byte, error) {
	return e.appendJSON(make([]byte, 0, e.jsonSize())), nil
}

// jsonSize is the length of e's JSON or a little more, so that appendJSON
// never grows its buffer: a stdout with colours or many lines escapes to
// well over its own length, and growing a buffer copied the event twice.
func (e *Event) jsonSize() int {
	n := 256 + quotedLen(e.Stdout) + len(e.EventData) + len(e.UUID) + len(e.RunnerIdent) +
		len(e.Event) + len(e.Created) + len(e.ParentUUID)
	for _, f := range e.Extra {
		n += 4 + quotedLen(f.Key) + len(f.Value)
	}
	return n
}

// quotedLen is the length of appendString's output for s.
func quotedLen(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n++
		case c < 0x20:
			n += 5
		}
	}
	return n
}

func (e *Event) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if e.runnerVerbose() {
		b = appendStrKey(b, "event", e.Event)
		b = append(b, ',')
	}
	b = appendStrKey(b, "uuid", e.UUID)
	b = appendIntKey(b, ",\"counter\":", e.Counter)
	b = append(b, ',')
	b = appendStrKey(b, "stdout", e.Stdout)
	b = appendIntKey(b, ",\"start_line\":", e.StartLine)
	b = appendIntKey(b, ",\"end_line\":", e.EndLine)
	b = append(b, ',')
	b = appendStrKey(b, "runner_ident", e.RunnerIdent)
	if !e.runnerVerbose() {
		b = append(b, ',')
		b = appendStrKey(b, "event", e.Event)
	}
	for _, k := range earlyExtras {
		if v, ok := e.ExtraField(k); ok {
			b = append(b, ',')
			b = strconv.AppendQuote(b, k)
			b = append(b, ':')
			b = append(b, v...)
		}
	}
	if e.PID != 0 {
		b = appendIntKey(b, ",\"pid\":", e.PID)
	}
	if e.Created != "" {
		b = append(b, ',')
		b = appendStrKey(b, "created", e.Created)
	}
	if e.ParentUUID != "" {
		b = append(b, ',')
		b = appendStrKey(b, "parent_uuid", e.ParentUUID)
	}
	if e.Verbosity != 0 {
		b = appendIntKey(b, ",\"verbosity\":", e.Verbosity)
	}
	if e.EventData != nil {
		b = append(b, ",\"event_data\":"...)
		b = append(b, e.EventData...)
	}
	for _, f := range e.Extra {
		if isEarlyExtra(f.Key) {
			continue
		}
		b = append(b, ',')
		b = appendString(b, f.Key)
		b = append(b, ':')
		b = append(b, f.Value...)
	}
	return append(b, '}')
}

func isEarlyExtra(k string) bool {
	for _, e := range earlyExtras {
		if k == e {
			return true
		}
	}
	return false
}

func appendStrKey(b []byte, k, v string) []byte {
	b = append(b, '"')
	b = append(b, k...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendIntKey(b []byte, prefix string, v int) []byte {
	b = append(b, prefix...)
	return strconv.AppendInt(b, int64(v), 10)
}

const hexDigits = "0123456789abcdef"

// appendString JSON-quotes s. Like Python's json.dumps it escapes control
// characters as \u00XX; unlike it, non-ASCII is written as UTF-8 (both are
// valid JSON for the same string). Invalid UTF-8 cannot occur: the Filter
// replaces it before building events.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// FieldError reports a top-level event key whose value has the wrong type.
type FieldError struct {
	Key string
	Err error
}

func (e *FieldError) Error() string { return fmt.Sprintf("events: field %q: %v", e.Key, e.Err) }
func (e *FieldError) Unwrap() error { return e.Err }

// UnmarshalJSON decodes a job event. Only the top level is decoded;
// event_data is kept raw (validated, not parsed).
func (e *Event) UnmarshalJSON(b []byte) error {
	*e = Event{}
	return e.decodeTop(b)
}

// decodeTop fills e from a JSON object, leaving fields for absent keys alone.
func (e *Event) decodeTop(b []byte) error {
	// Room for a typical event's strings, so that they are not grown
	// byte by byte (the decoder of a stream keeps its room instead).
	d := Decoder{strs: make([]byte, 0, 512), refs: make([]strRef, 0, 8)}
	return d.decode(e, b)
}

// Decoder decodes job events one after another, as json.Unmarshal into an
// Event does, but keeps its scratch space from one event to the next: a
// Decoder used for a stream of events (a directory of job_events files,
// the event lines of ansible-runner's worker stream or of arunner run -j)
// allocates per event only what the Event keeps, one string holding all
// its string fields and event_data's copy. Its zero value is ready to use;
// it is not safe for concurrent use.
type Decoder struct {
	strs []byte   // the event's string fields, unescaped, end to end
	refs []strRef // where each goes, in the order the keys came
}

// Decode sets e to the job event whose JSON is data, as e.UnmarshalJSON
// does. e keeps no reference to data.
func (d *Decoder) Decode(data []byte, e *Event) error {
	*e = Event{}
	return d.decode(e, data)
}

// strRef is one string field: *dst becomes interned, or else strs[off:end].
type strRef struct {
	dst      *string
	off, end int
	interned string
}

func (d *Decoder) decode(e *Event, b []byte) error {
	defer d.reset()
	var ferr error
	err := forEachKey(b, func(k, v []byte) bool {
		name := k[1 : len(k)-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			name = []byte(unquote(k))
		}
		if err := d.setField(e, name, v); err != nil {
			ferr = &FieldError{Key: string(name), Err: err}
			return false
		}
		return true
	})
	if ferr != nil {
		return ferr
	}
	if err != nil {
		return fmt.Errorf("events: decoding event: %w", err)
	}
	if len(d.refs) > 0 {
		s := string(d.strs)
		for _, r := range d.refs {
			if r.interned != "" {
				*r.dst = r.interned
			} else {
				*r.dst = s[r.off:r.end]
			}
		}
	}
	return nil
}

func (d *Decoder) reset() {
	d.strs = d.strs[:0]
	clear(d.refs) // drop the pointers into the event
	d.refs = d.refs[:0]
}

// setField stores the raw value v of top-level key name. The switch on
// string(name) does not allocate.
func (d *Decoder) setField(e *Event, name, v []byte) error {
	var err error
	switch string(name) {
	case "uuid":
		err = d.str(&e.UUID, v)
	case "event":
		if n, ok := eventNames[string(v)]; ok {
			d.refs = append(d.refs, strRef{dst: &e.Event, interned: n})
		} else {
			err = d.str(&e.Event, v)
		}
	case "created":
		err = d.str(&e.Created, v)
	case "parent_uuid":
		err = d.str(&e.ParentUUID, v)
	case "runner_ident":
		err = d.str(&e.RunnerIdent, v)
	case "stdout":
		err = d.str(&e.Stdout, v)
	case "counter":
		e.Counter, err = decodeInt(v)
	case "pid":
		e.PID, err = decodeInt(v)
	case "start_line":
		e.StartLine, err = decodeInt(v)
	case "end_line":
		e.EndLine, err = decodeInt(v)
	case "verbosity":
		e.Verbosity, err = decodeInt(v)
	case "event_data":
		if string(v) == "null" {
			e.EventData = nil
		} else {
			e.EventData = append(json.RawMessage(nil), v...)
		}
	default:
		e.Extra = append(e.Extra, Field{Key: string(name), Value: append(json.RawMessage(nil), v...)})
	}
	return err
}

// str queues the JSON string (or null) v for *dst.
func (d *Decoder) str(dst *string, v []byte) error {
	off := len(d.strs)
	switch {
	case len(v) > 0 && v[0] == '"':
		d.strs = appendUnquote(d.strs, v)
	case string(v) == "null":
	default:
		return fmt.Errorf("want string, got %.20s", v)
	}
	d.refs = append(d.refs, strRef{dst: dst, off: off, end: len(d.strs)})
	return nil
}

func decodeStr(v []byte) (string, error) {
	if len(v) > 0 && v[0] == '"' {
		return unquote(v), nil
	}
	if string(v) == "null" {
		return "", nil
	}
	return "", fmt.Errorf("want string, got %.20s", v)
}

// decodeInt accepts integers and integral floats (Python may write 3.0).
func decodeInt(v []byte) (int, error) {
	if string(v) == "null" {
		return 0, nil
	}
	if n, err := strconv.Atoi(string(v)); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || f != float64(int(f)) {
		return 0, fmt.Errorf("want integer, got %.20s", v)
	}
	return int(f), nil
}

// str returns event_data[key] as a string, "" when absent or not a string.
func (e *Event) str(key string) string {
	v, ok := lookup(e.EventData, key)
	if !ok {
		return ""
	}
	s, err := decodeStr(v)
	if err != nil {
		return ""
	}
	return s
}

func truthy(v json.RawMessage) bool {
	switch s := string(bytes.TrimSpace(v)); s {
	case "", "null", "false", "0", "\"\"", "[]", "{}":
		return false
	default:
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f != 0
		}
		return true
	}
}

// Host returns event_data.host ("" when absent).
func (e *Event) Host() string { return e.str("host") }

// Task returns event_data.task, the task name.
func (e *Event) Task() string { return e.str("task") }

// Play returns event_data.play, the play name.
func (e *Event) Play() string { return e.str("play") }

// TaskAction returns event_data.task_action, the module as written in the task.
func (e *Event) TaskAction() string { return e.str("task_action") }

// Res returns the raw event_data.res (the module result), nil when absent.
func (e *Event) Res() json.RawMessage {
	v, _ := lookup(e.EventData, "res")
	return v
}

// IgnoreErrors reports event_data.ignore_errors.
func (e *Event) IgnoreErrors() bool {
	v, ok := lookup(e.EventData, "ignore_errors")
	return ok && truthy(v)
}

// Changed reports whether event_data.res.changed is truthy, as AWX computes
// its "changed" column.
func (e *Event) Changed() bool {
	res := e.Res()
	if res == nil {
		return false
	}
	v, ok := lookup(res, "changed")
	return ok && truthy(v)
}

// Failed reports a failure the way AWX does: the event is one of
// runner_on_failed, runner_on_error, runner_on_unreachable,
// runner_on_async_failed, runner_item_on_failed or error, and
// event_data.ignore_errors is not set.
func (e *Event) Failed() bool {
	switch e.Event {
	case RunnerOnFailed, "runner_on_error", RunnerOnUnreachable, RunnerOnAsyncFailed, RunnerItemOnFailed, Error:
		// runner_on_error is in AWX's list, though no ansible-runner writes it.
		return !e.IgnoreErrors()
	}
	return false
}

// Stats is the event_data of a playbook_on_stats event: per-host counters
// and the data collected by set_stats.
type Stats struct {
	Changed      map[string]int `json:"changed"`
	Dark         map[string]int `json:"dark"`
	Failures     map[string]int `json:"failures"`
	Ignored      map[string]int `json:"ignored"`
	OK           map[string]int `json:"ok"`
	Processed    map[string]int `json:"processed"`
	Rescued      map[string]int `json:"rescued"`
	Skipped      map[string]int `json:"skipped"`
	ArtifactData map[string]any `json:"artifact_data"`
}

// Stats decodes the event_data of a playbook_on_stats event. It returns
// false for any other event or when event_data is absent or malformed.
func (e *Event) Stats() (*Stats, bool) {
	if e.Event != PlaybookOnStats || e.EventData == nil {
		return nil, false
	}
	var s Stats
	if err := json.Unmarshal(e.EventData, &s); err != nil {
		return nil, false
	}
	return &s, true
}
