package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventJSONMatchesReference decodes job_events files written by
// ansible-runner 2.3.1 and checks that MarshalJSON writes the same keys in
// the same order with the same values.
func TestEventJSONMatchesReference(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "reference", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, fn := range files {
		t.Run(filepath.Base(fn), func(t *testing.T) {
			data, err := os.ReadFile(fn)
			require.NoError(t, err)
			var e Event
			require.NoError(t, json.Unmarshal(data, &e))
			// MarshalJSON directly: json.Marshal would HTML-escape <, > and &.
			got, err := e.MarshalJSON()
			require.NoError(t, err)
			// event_data is kept byte for byte, Python's ", " included, so
			// compare both sides compacted.
			var want, ours bytes.Buffer
			require.NoError(t, json.Compact(&want, data))
			require.NoError(t, json.Compact(&ours, got))
			assert.Equal(t, want.String(), ours.String())
		})
	}
}

func TestEventAccessors(t *testing.T) {
	tests := []struct {
		file                    string
		event, host, task, play string
		changed, failed, ignore bool
		hasRes                  bool
	}{
		{file: "1-11ff2361-06c9-4ba6-b50c-3eecef989478.json", event: "verbose"},
		{file: "19-1604a24b-8e95-412d-9ce5-4912b9932067.json", event: "playbook_on_start"},
		{file: "43-fd65bd06-3307-4cef-b095-d5cbd1411757.json", event: "playbook_on_notify", host: "localhost", task: "chg", play: "all"},
		{file: "63-608c0438-dd25-4511-b950-04af8ac66185.json", event: "runner_on_failed", host: "localhost", task: "fail", play: "all", changed: true, ignore: true, hasRes: true},
		{file: "70-84268ded-aafd-41b1-a577-6bb59209106e.json", event: "playbook_on_stats"},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "reference", tt.file))
			require.NoError(t, err)
			var e Event
			require.NoError(t, json.Unmarshal(data, &e))
			assert.Equal(t, tt.event, e.Event)
			assert.Equal(t, tt.host, e.Host())
			assert.Equal(t, tt.task, e.Task())
			assert.Equal(t, tt.play, e.Play())
			assert.Equal(t, tt.changed, e.Changed())
			assert.Equal(t, tt.failed, e.Failed())
			assert.Equal(t, tt.ignore, e.IgnoreErrors())
			assert.Equal(t, tt.hasRes, e.Res() != nil)
			if tt.task != "" {
				assert.Equal(t, "command", e.TaskAction())
			}
		})
	}
}

func TestEventStats(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "reference", "70-84268ded-aafd-41b1-a577-6bb59209106e.json"))
	require.NoError(t, err)
	var e Event
	require.NoError(t, json.Unmarshal(data, &e))
	s, ok := e.Stats()
	require.True(t, ok)
	assert.Equal(t, map[string]int{"localhost": 2}, s.Changed)
	assert.Equal(t, map[string]int{"localhost": 4}, s.OK)
	assert.Equal(t, map[string]int{"localhost": 1}, s.Ignored)
	assert.Empty(t, s.Failures)
	assert.NotNil(t, s.ArtifactData)

	_, ok = (&Event{Event: "runner_on_ok", EventData: json.RawMessage(`{}`)}).Stats()
	assert.False(t, ok)
}

func TestEventFailed(t *testing.T) {
	tests := []struct {
		event, data string
		want        bool
	}{
		{"runner_on_failed", `{}`, true},
		{"runner_on_failed", `{"ignore_errors": true}`, false},
		{"runner_on_failed", `{"ignore_errors": null}`, true},
		{"runner_on_unreachable", `{}`, true},
		{"runner_item_on_failed", `{}`, true},
		{"runner_on_async_failed", `{}`, true},
		{"error", `{}`, true},
		{"runner_on_ok", `{"res": {"failed": true}}`, false},
		{"runner_on_failed", ``, true},
	}
	for _, tt := range tests {
		e := Event{Event: tt.event}
		if tt.data != "" {
			e.EventData = json.RawMessage(tt.data)
		}
		assert.Equal(t, tt.want, e.Failed(), "%s %s", tt.event, tt.data)
	}
}

func TestEventUnmarshalErrors(t *testing.T) {
	tests := []struct {
		in  string
		key string // FieldError key, "" for a syntax error
	}{
		{`{"uuid": 5}`, "uuid"},
		{`{"counter": "x"}`, "counter"},
		{`{"pid": 1.5}`, "pid"},
		{`{"uuid": "a",}`, ""},
		{`{"event_data": {"a" 1}}`, ""},
		{`[1]`, ""},
		{`{"a": 1} x`, ""},
		{`{"a": "\x01"}`, ""},
		{``, ""},
	}
	for _, tt := range tests {
		// Directly: json.Unmarshal would reject bad syntax before us.
		var e Event
		err := e.UnmarshalJSON([]byte(tt.in))
		require.Error(t, err, tt.in)
		var fe *FieldError
		if tt.key != "" {
			require.True(t, errors.As(err, &fe), "%s: %v", tt.in, err)
			assert.Equal(t, tt.key, fe.Key)
		} else {
			assert.ErrorIs(t, err, errSyntax, tt.in)
		}
	}
}

func TestEventExtrasRoundTrip(t *testing.T) {
	in := `{"uuid":"u","counter":3,"stdout":"a\"\\\u0001é","start_line":1,"end_line":2,"runner_ident":"r","event":"verbose","ad_hoc_command_id":1,"pid":9,"created":"c","verbosity":2,"event_data":{"x":[1,{"y":null}]},"custom":"z"}`
	var e Event
	require.NoError(t, json.Unmarshal([]byte(in), &e))
	assert.Equal(t, "a\"\\\x01é", e.Stdout)
	v, ok := e.ExtraField("custom")
	require.True(t, ok)
	assert.Equal(t, `"z"`, string(v))
	out, err := e.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, in, string(out))
}

// MarshalJSON sizes its buffer once: a stdout that escapes to several times
// its length (colours, line ends, quotes, control bytes) and extra keys
// that need escaping must not make it grow.
func TestMarshalJSONSizesItsBuffer(t *testing.T) {
	stdout := strings.Repeat("\x1b[0;32mok: [h1] => {\"msg\": \"a\\\\b\"}\x1b[0m\r\n\t\x01", 50)
	e := Event{UUID: "u", Counter: 7, Stdout: stdout, StartLine: 1, EndLine: 101, RunnerIdent: "r",
		Event: "runner_on_ok", PID: 1, Created: "2026-11-28T00:00:00", ParentUUID: "p",
		EventData: json.RawMessage(`{"host":"h1"}`),
		Extra:     []Field{{Key: "job_id", Value: json.RawMessage(`1`)}, {Key: "we\"ird\n", Value: json.RawMessage(`"v"`)}}}
	out, err := e.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, e.jsonSize(), cap(out), "the buffer grew")
	var back Event
	require.NoError(t, json.Unmarshal(out, &back))
	assert.Equal(t, stdout, back.Stdout)
	assert.Equal(t, len(e.Extra), len(back.Extra))
}

// unquoteCases are string bodies whose decoding has a rule: escapes,
// surrogate pairs, lone and mismatched surrogates, invalid UTF-8 (each bad
// byte one U+FFFD), UTF-8 encoded surrogates, and plain text around them.
var unquoteCases = []string{
	``, `plain`, `\"\\\/\b\f\n\r\t`, `\u001b[0;32mok\u001b[0m\r\n`,
	`\u00e9t\u00e9`, `\ud83d\ude00`, `x\ud83dy`, `\ude00\ud83d`, `\ud83d\u0041`, `\ud83d\ud83d\ude00`,
	`\ud83d`, `\uDBFF\uDFFF`, "caf\xc3\xa9", "\xff\xfe", "a\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80",
	"\u2028\u2029", `\u0000`,
}

func TestUnquoteAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range unquoteCases {
		tok := []byte(`"` + s + `"`)
		var want string
		require.NoError(t, json.Unmarshal(tok, &want), "%q", s)
		end, err := skipString(tok, 0)
		require.NoError(t, err, "%q", s)
		require.Equal(t, len(tok), end, "%q", s)
		assert.Equal(t, want, unquote(tok), "%q", s)
	}
}

// TestDecodeStringFields checks that the string fields, decoded into one
// shared string, each get their own value, and that a repeated key keeps
// its last value as encoding/json would.
func TestDecodeStringFields(t *testing.T) {
	var d Decoder
	for range 2 { // the second pass reuses the decoder's scratch space
		var e Event
		require.NoError(t, d.decode(&e, []byte(`{"uuid": "u\u00e9", "event": "custom", "created": "c", "parent_uuid": null,
			"runner_ident": "r", "stdout": "a\r\nb", "event": "runner_on_ok", "uuid": "u2", "runner_ident": null}`)))
		assert.Equal(t, "u2", e.UUID)
		assert.Equal(t, "runner_on_ok", e.Event)
		assert.Equal(t, "c", e.Created)
		assert.Equal(t, "", e.ParentUUID)
		assert.Equal(t, "", e.RunnerIdent)
		assert.Equal(t, "a\r\nb", e.Stdout)
		e = Event{}
		require.NoError(t, d.decode(&e, []byte(`{"event": "runner_on_ok", "event": "my\u0041"}`)))
		assert.Equal(t, "myA", e.Event)
	}
}
