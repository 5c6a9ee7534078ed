package eventproto

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
)

type wantEv struct {
	event, uuid, stdout string
	start, end          int
}

func summarize(evs []*events.Event) []wantEv {
	out := make([]wantEv, len(evs))
	for i, e := range evs {
		u := e.UUID
		if e.Event == "verbose" && e.PID == 0 {
			u = "" // runner-synthesized: random uuid4
		}
		out[i] = wantEv{e.Event, u, e.Stdout, e.StartLine, e.EndLine}
	}
	return out
}

func TestFilter(t *testing.T) {
	begin := func(ev, u string) string {
		return `{"event": "` + ev + `", "pid": 42, "uuid": "` + u + `", "created": "2026-01-01T00:00:00.000001", "event_data": {"uuid": "` + u + `"}}`
	}
	tests := []struct {
		name  string
		input string
		want  []wantEv
		text  string
		nerr  int
	}{
		{
			name:  "verbose lines outside events",
			input: "No config\r\nsecond\r\n",
			want:  []wantEv{{"verbose", "", "No config", 0, 1}, {"verbose", "", "second", 1, 2}},
			text:  "No config\r\nsecond\r\n",
		},
		{
			name:  "event then stats",
			input: wrap(begin("playbook_on_start", "a"), "") + wrap(begin("playbook_on_play_start", "b"), "\r\nPLAY [all] ***\r\n") + wrap(begin("playbook_on_stats", "c"), "\r\nPLAY RECAP\r\nlocalhost : ok=1\r\n\r\n"),
			want: []wantEv{
				{"playbook_on_start", "a", "", 0, 0},
				{"playbook_on_play_start", "b", "\r\nPLAY [all] ***", 0, 2},
				{"playbook_on_stats", "c", "\r\nPLAY RECAP\r\nlocalhost : ok=1", 2, 6},
			},
			text: "\r\nPLAY [all] ***\n\r\nPLAY RECAP\r\nlocalhost : ok=1\n",
		},
		{
			name:  "text between events is verbose",
			input: wrap(begin("runner_on_ok", "a"), "ok\r\n") + "stray\r\nmore" + wrap(begin("warning", "b"), "[WARNING]\r\n"),
			want: []wantEv{
				{"runner_on_ok", "a", "ok", 0, 1},
				{"verbose", "", "stray", 1, 2},
				{"verbose", "", "more", 2, 2},
				{"warning", "b", "[WARNING]", 2, 3},
			},
			text: "ok\nstray\r\nmore[WARNING]\n",
		},
		{
			name:  "python splitlines terminators",
			input: "a\rb\x0bc\x0cd\u2028e\r\n",
			want:  []wantEv{{"verbose", "", "a", 0, 0}, {"verbose", "", "b\x0b", 0, 0}, {"verbose", "", "c\x0c", 0, 0}, {"verbose", "", "d\u2028", 0, 0}, {"verbose", "", "e", 0, 1}},
			text:  "a\rb\x0bc\x0cd\u2028e\r\n",
		},
		{
			name:  "trailing partial line flushed at close",
			input: "line\r\npartial",
			want:  []wantEv{{"verbose", "", "line", 0, 1}, {"verbose", "", "partial", 1, 1}},
			text:  "line\r\npartial",
		},
		{
			name:  "ESC[K in text is text",
			input: "\x1b[Kclear\x1b[K\r\nabc\x1b[3Dx\x1b[K\r\n",
			want:  []wantEv{{"verbose", "", "\x1b[Kclear\x1b[K", 0, 1}, {"verbose", "", "abc\x1b[3Dx\x1b[K", 1, 2}},
			text:  "\x1b[Kclear\x1b[K\r\nabc\x1b[3Dx\x1b[K\r\n",
		},
		{
			name:  "garbage payload is an end token",
			input: frame(begin("runner_on_ok", "a")) + "ok\r\n" + frame("not json") + "after\r\n",
			want:  []wantEv{{"runner_on_ok", "a", "ok", 0, 1}, {"verbose", "", "after", 1, 2}},
			text:  "ok\nafter\r\n",
			nerr:  1,
		},
		{
			name:  "truncated token kept as text",
			input: "before\r\n\x1b[KeyJ1dWlk",
			want:  []wantEv{{"verbose", "", "before", 0, 1}, {"verbose", "", "\x1b[KeyJ1dWlk", 1, 1}},
			text:  "before\r\n\x1b[KeyJ1dWlk",
			nerr:  1,
		},
		{
			name:  "event without end token still delivered",
			input: frame(begin("runner_on_ok", "a")),
			want:  []wantEv{{"runner_on_ok", "a", "", 0, 0}},
			text:  "",
			nerr:  1,
		},
		{
			name:  "invalid utf-8 replaced like python",
			input: wrap(begin("runner_on_ok", "a"), "x\xe2\x82y\xff\r\n"),
			want:  []wantEv{{"runner_on_ok", "a", "x\uFFFDy\uFFFD", 0, 1}},
			text:  "x\uFFFDy\uFFFD\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, text, errs, err := collect([]string{tt.input}, FilterConfig{RunnerIdent: "r"})
			require.NoError(t, err)
			assert.Equal(t, tt.want, summarize(evs))
			assert.Equal(t, tt.text, text)
			assert.Len(t, errs, tt.nerr)
			for i, e := range evs {
				assert.Equal(t, i+1, e.Counter)
				assert.Equal(t, "r", e.RunnerIdent)
				assert.NotEmpty(t, e.UUID)
				assert.NotEmpty(t, e.Created)
			}
			// Every split into two writes gives the same result.
			for cut := 1; cut < len(tt.input); cut++ {
				evs2, text2, errs2, err := collect([]string{tt.input[:cut], tt.input[cut:]}, FilterConfig{RunnerIdent: "r"})
				require.NoError(t, err)
				require.Equal(t, tt.want, summarize(evs2), "cut at %d", cut)
				require.Equal(t, tt.text, text2, "cut at %d", cut)
				require.Len(t, errs2, tt.nerr, "cut at %d", cut)
			}
		})
	}
}

func TestFilterTokenFields(t *testing.T) {
	in := wrap(`{"event": "runner_on_ok", "job_id": 7, "pid": 42, "uuid": "u1", "created": "c", "parent_uuid": "p", "verbosity": 3, "event_data": {"host": "h", "res": {"changed": true}}, "zz": [1]}`, "ok\r\n")
	evs, _, _, err := collect([]string{in}, FilterConfig{RunnerIdent: "id"})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	e := evs[0]
	assert.Equal(t, 42, e.PID)
	assert.Equal(t, "p", e.ParentUUID)
	assert.Equal(t, 3, e.Verbosity)
	assert.Equal(t, "h", e.Host())
	assert.True(t, e.Changed())
	b, err := e.MarshalJSON()
	require.NoError(t, err)
	assert.Equal(t, `{"uuid":"u1","counter":1,"stdout":"ok","start_line":0,"end_line":1,"runner_ident":"id","event":"runner_on_ok","job_id":7,"pid":42,"created":"c","parent_uuid":"p","verbosity":3,"event_data":{"host": "h", "res": {"changed": true}},"zz":[1]}`, string(b))
}

func TestFilterHugeFrame(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	in := "pre\r\n" + wrap(`{"event": "runner_on_ok", "uuid": "u", "event_data": {"res": {"msg": "`+big+`"}}}`, "ok\r\n") + "post\r\n"
	// Small reads must stay linear: 4 KiB pieces as from a pty.
	var pieces []string
	for s := in; len(s) > 0; {
		n := min(4096, len(s))
		pieces = append(pieces, s[:n])
		s = s[n:]
	}
	evs, text, errs, err := collect(pieces, FilterConfig{})
	require.NoError(t, err)
	require.Empty(t, errs)
	require.Len(t, evs, 3)
	assert.Equal(t, "runner_on_ok", evs[1].Event)
	assert.Len(t, evs[1].Res(), len(big)+len(`{"msg": ""}`))
	assert.Equal(t, "pre\r\nok\npost\r\n", text)

	// The same frame over a 1 MiB bound: reported, text kept.
	evs, text, errs, err = collect(pieces, FilterConfig{MaxFrame: 1 << 20})
	require.NoError(t, err)
	require.Len(t, errs, 1)
	assert.True(t, errors.Is(errs[0], events.ErrFrameTooLarge))
	var fe *events.FrameError
	require.True(t, errors.As(errs[0], &fe))
	assert.Equal(t, int64(5), fe.Offset)
	assert.Equal(t, "pre\r\nok\r\npost\r\n", text)
	assert.Equal(t, []wantEv{{"verbose", "", "pre", 0, 1}, {"verbose", "", "ok", 1, 2}, {"verbose", "", "post", 2, 3}}, summarize(evs))
}

func TestFilterByteAtATime(t *testing.T) {
	in := "pre\r\n" + wrap(`{"event": "runner_on_ok", "uuid": "u", "pid": 1}`, "ok\r\nmore\r\n") + "\x1b[Knot a token\r\n" + wrap(`{"event": "warning", "uuid": "w"}`, "")
	var pieces []string
	for i := range len(in) {
		pieces = append(pieces, in[i:i+1])
	}
	evs, text, errs, err := collect(pieces, FilterConfig{})
	require.NoError(t, err)
	assert.Empty(t, errs)
	assert.Equal(t, []wantEv{
		{"verbose", "", "pre", 0, 1},
		{"runner_on_ok", "u", "ok\r\nmore", 1, 3},
		{"verbose", "", "\x1b[Knot a token", 3, 4},
		{"warning", "w", "", 4, 4},
	}, summarize(evs))
	assert.Equal(t, "pre\r\nok\r\nmore\n\x1b[Knot a token\r\n", text)
}

func TestFilterHandleError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	f := NewFilter(FilterConfig{Handle: func(*events.Event) error { calls++; return boom }})
	_, err := f.Write([]byte("a\nb\n"))
	require.ErrorIs(t, err, boom)
	_, err = f.Write([]byte("c\n"))
	require.ErrorIs(t, err, boom)
	require.ErrorIs(t, f.Close(), boom)
	assert.Equal(t, 1, calls, "the Filter stops at the first error")
}

// failAfter accepts n writes, then fails every one.
type failAfter struct {
	n     int
	err   error
	calls int
	got   strings.Builder
}

func (w *failAfter) Write(p []byte) (int, error) {
	w.calls++
	if w.calls > w.n {
		return 0, w.err
	}
	return w.got.Write(p)
}

// A Text that fails (a full disk under the stdout artifact) is a consumer:
// it gets nothing more, but every event still reaches Handle, and Close
// reports the error.
func TestFilterTextError(t *testing.T) {
	full := errors.New("no space left")
	text := &failAfter{n: 1, err: full}
	var evs []*events.Event
	f := NewFilter(FilterConfig{Text: text, Handle: func(e *events.Event) error { evs = append(evs, e); return nil }})
	in := "one\n" + wrap(`{"uuid":"u2","event":"runner_on_ok"}`, "two\n") + "three\n"
	n, err := f.Write([]byte(in))
	require.NoError(t, err, "a Text error must not stop Write")
	assert.Equal(t, len(in), n)
	_, err = f.Write([]byte("four\n"))
	require.NoError(t, err)
	require.ErrorIs(t, f.Close(), full)
	assert.Equal(t, []wantEv{
		{"verbose", "", "one", 0, 1},
		{"runner_on_ok", "u2", "two", 1, 2},
		{"verbose", "", "three", 2, 3},
		{"verbose", "", "four", 3, 4},
	}, summarize(evs))
	assert.Equal(t, "one\n", text.got.String())
	assert.Equal(t, 2, text.calls, "Text is not written after it failed")
}

func TestFilterFrameErrorOffsets(t *testing.T) {
	begin := frame(`{"event": "runner_on_ok", "uuid": "u"}`)
	in := "abc" + begin + "text"
	_, _, errs, err := collect([]string{in}, FilterConfig{})
	require.NoError(t, err)
	require.Len(t, errs, 1)
	var fe *events.FrameError
	require.ErrorAs(t, errs[0], &fe)
	assert.ErrorIs(t, fe, events.ErrTruncatedFrame)
	assert.Equal(t, int64(3), fe.Offset)

	f := NewFilter(FilterConfig{})
	require.NoError(t, f.Close())
	_, err = f.Write([]byte("x"))
	assert.ErrorIs(t, err, ErrClosed)
}
