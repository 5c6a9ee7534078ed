package eventproto

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/arunner/arunner/events"
)

// ErrClosed is returned by Write after Close.
var ErrClosed = errors.New("events: write to closed Filter")

// DefaultMaxFrame is the largest event token the Filter accepts when
// FilterConfig.MaxFrame is zero. A token is the base64 framing of one event's
// JSON (about 4/3 of it); MAX_EVENT_RES keeps results far below this.
const DefaultMaxFrame = 256 << 20

// FilterConfig configures a Filter.
type FilterConfig struct {
	// RunnerIdent is written into every event's runner_ident.
	RunnerIdent string
	// Handle is called synchronously, in counter order, exactly once per
	// event. An error stops the Filter: Write and Close return it.
	Handle func(*events.Event) error
	// Text receives the human text as ansible-runner's stdout artifact holds
	// it: each event's stdout plus "\n" (events with empty stdout add
	// nothing), and lines outside any event verbatim with their own line
	// ending. May be nil. A write error does not stop the Filter: events
	// still reach Handle, Text gets nothing more, and Close returns the
	// error. Text is a consumer; the events must not depend on it.
	Text io.Writer
	// MaxFrame bounds the bytes of one event token; 0 means
	// DefaultMaxFrame. A larger token is reported as
	// events.ErrFrameTooLarge, its payload dropped, and the text around it
	// kept.
	MaxFrame int
	// OnError receives an *events.FrameError for every garbage, truncated or
	// oversized frame. Such frames never stop the Filter. May be nil.
	OnError func(error)
	// SideBand, when set, supplies the JSON of events whose begin token is
	// a side-band marker. Without it such a marker is a garbage frame.
	SideBand *SideBand
	// TerminalNewlines says the stream comes from a terminal that turns
	// "\n" into "\r\n" (a pty's default output processing, ONLCR). The
	// plugin may send an event's text in its side-band record instead of
	// on the terminal; the Filter then turns that text into what the
	// terminal would have carried, so that stdout is the same either way.
	TerminalNewlines bool
	// Key is the run's event key (NewKey, passed to the plugin through
	// EnvOptions.Key). When set, a token is the plugin's only if its base64
	// text starts with Key; other framing (a task printing a token to the
	// terminal, say) is forged: it stays text where it was printed and is
	// reported as events.ErrForgedFrame. Empty takes every token, as
	// ansible-runner does.
	Key string
}

// Filter turns the bytes that ansible writes to its pty into events and
// human text. It is an io.Writer: the runner copies the pty output into it.
// It finds the event tokens that the callback plugin writes (the framing of
// ansible-runner 2.x: ESC[K, base64 slices each followed by ESC[<n>D, ESC[K;
// the base64 starts with FilterConfig.Key when there is one)
// and assigns counter, stdout, start_line and end_line exactly as
// ansible-runner's OutputEventFilter does. A Filter is not safe for
// concurrent use.
//
// Invalid UTF-8 in the text is replaced as Python's errors="replace" does
// (one U+FFFD per maximal ill-formed subsequence), so stdout strings match
// what ansible-runner records.
type Filter struct {
	cfg      FilterConfig
	maxFrame int

	in   []byte // input not yet consumed is in[off:]
	off  int
	base int64 // stream offset of in[0]

	inTok    bool
	tokStart int // index in in of the token's opening ESC[K
	tstate   tokState
	escPos   int // index in in of the ESC that opened the current escape
	chunks   int
	skipping bool // the token is oversized: grammar followed, bytes dropped
	tokSeen  int  // bytes of an oversized token seen so far

	text  []byte        // text since the last token, not yet emitted
	cur   *events.Event // the event whose begin token came last, until its end
	curAt int64         // stream offset of cur's begin token

	counter int
	line    int
	nextSeq int // the side-band seq the plugin writes next
	// sideSeen: a marker's record came, so the plugin's events travel on
	// the side band and an in-band event is not the plugin's.
	sideSeen bool
	err      error
	textErr  error // Text failed: it gets nothing more
	closed   bool

	b64     []byte
	dec     []byte
	scratch events.Event // an in-band token's payload, before it is known to be a begin token
	top     events.Decoder
	line1   []byte // an event's stdout and its newline, written to Text in one call
}

type tokState uint8

const (
	stStart      tokState = iota // a slice or, after one slice, the closing ESC
	stRun                        // inside a base64 slice
	stRunEsc                     // ESC after a slice: want '['
	stRunBrack                   // want a digit
	stDigits                     // digits: more digits or 'D'
	stCloseEsc                   // ESC at a slice boundary: want '['
	stCloseBrack                 // want 'K'
)

var escK = []byte("\x1b[K")

var isB64 = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = true
	}
	return
}()

// NewFilter returns a Filter that delivers events to cfg.Handle.
func NewFilter(cfg FilterConfig) *Filter {
	f := &Filter{cfg: cfg, maxFrame: cfg.MaxFrame, nextSeq: 1}
	if f.maxFrame <= 0 {
		f.maxFrame = DefaultMaxFrame
	}
	return f
}

// Counter returns the last counter assigned, ansible-runner's final_counter.
func (f *Filter) Counter() int { return f.counter }

// Write consumes pty output. It returns len(p) unless Handle failed, in
// which case it returns that error now and on every later call.
func (f *Filter) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.closed {
		return 0, ErrClosed
	}
	f.in = append(f.in, p...)
	f.process()
	f.compact()
	if f.err != nil {
		return 0, f.err
	}
	return len(p), nil
}

// compact drops consumed input once it is at least half the buffer, which
// keeps large tokens arriving in small reads linear in time.
func (f *Filter) compact() {
	keep := f.off
	if f.inTok && f.tokStart < keep {
		keep = f.tokStart
	}
	if keep == 0 || keep < len(f.in)/2 {
		return
	}
	n := copy(f.in, f.in[keep:])
	f.in = f.in[:n]
	f.base += int64(keep)
	f.off -= keep
	f.tokStart -= keep
	f.escPos -= keep
}

func (f *Filter) process() {
	for f.err == nil {
		if !f.inTok {
			rest := f.in[f.off:]
			j := bytes.Index(rest, escK)
			if j < 0 {
				n := len(rest) - escPrefixLen(rest)
				f.text = append(f.text, rest[:n]...)
				f.off += n
				if f.cur == nil {
					f.emitCompleteLines()
				}
				return
			}
			f.text = append(f.text, rest[:j]...)
			f.off += j
			f.tokStart = f.off
			f.off += len(escK)
			f.inTok, f.tstate, f.chunks, f.skipping, f.tokSeen = true, stStart, 0, false, 0
			continue
		}
		done, bad, restart := f.scanToken()
		switch {
		case bad:
			if !f.skipping {
				f.text = append(f.text, f.in[f.tokStart:restart]...)
			}
			f.off = restart
			f.inTok = false
		case done:
			f.inTok = false
			f.finishToken()
		default:
			f.checkSize()
			return
		}
	}
}

// checkSize switches an over-long token to skipping mode: its grammar is
// still followed so the text after it is found, but its bytes are dropped.
func (f *Filter) checkSize() {
	if f.skipping {
		f.tokSeen += f.off - f.tokStart
		f.dropSkipped()
		return
	}
	if n := f.off - f.tokStart; n > f.maxFrame {
		f.report(&events.FrameError{Offset: f.base + int64(f.tokStart), Size: n,
			Err: fmt.Errorf("%w: more than %d bytes", events.ErrFrameTooLarge, f.maxFrame)})
		f.skipping = true
		f.tokSeen = n
		f.dropSkipped()
	}
}

// dropSkipped lets compaction free the consumed bytes of an oversized token,
// except an escape still being read: if it fails, text resumes at its ESC.
func (f *Filter) dropSkipped() {
	f.tokStart = f.off
	if f.tstate != stStart && f.tstate != stRun {
		f.tokStart = f.escPos
	}
}

// escPrefixLen returns how many trailing bytes of b could start an ESC[K
// that the next write completes.
func escPrefixLen(b []byte) int {
	switch n := len(b); {
	case n >= 2 && b[n-2] == 0x1b && b[n-1] == '[':
		return 2
	case n >= 1 && b[n-1] == 0x1b:
		return 1
	}
	return 0
}

// scanToken advances through the token grammar
// (?:[A-Za-z0-9+/=]+ESC\[\d+D)+ESC\[K. It returns done when the closing
// ESC[K was consumed, bad (with the offset where scanning for text must
// resume) when the bytes are not a token, neither when it needs more input.
func (f *Filter) scanToken() (done, bad bool, restart int) {
	in := f.in
	i := f.off
	defer func() { f.off = i }()
	for i < len(in) {
		c := in[i]
		switch f.tstate {
		case stStart:
			switch {
			case isB64[c]:
				f.tstate = stRun
			case c == 0x1b && f.chunks > 0:
				f.escPos = i
				f.tstate = stCloseEsc
				i++
			default:
				return false, true, i
			}
		case stRun:
			j := bytes.IndexByte(in[i:], 0x1b)
			end := len(in)
			if j >= 0 {
				end = i + j
			}
			for k := i; k < end; k++ {
				if !isB64[in[k]] {
					i = k
					return false, true, i
				}
			}
			i = end
			if j >= 0 {
				f.escPos = i
				f.tstate = stRunEsc
				i++
			}
		case stRunEsc, stCloseEsc:
			if c != '[' {
				return false, true, f.escPos
			}
			if f.tstate == stRunEsc {
				f.tstate = stRunBrack
			} else {
				f.tstate = stCloseBrack
			}
			i++
		case stRunBrack:
			if c < '0' || c > '9' {
				return false, true, f.escPos
			}
			f.tstate = stDigits
			i++
		case stDigits:
			switch {
			case c >= '0' && c <= '9':
				i++
			case c == 'D':
				f.chunks++
				f.tstate = stStart
				i++
			default:
				return false, true, f.escPos
			}
		case stCloseBrack:
			if c != 'K' {
				return false, true, f.escPos
			}
			i++
			return true, false, i
		}
	}
	return false, false, i
}

// finishToken handles a complete token in[tokStart:off]: the text before it
// is emitted, and the token becomes the current event (begin) or clears it.
func (f *Filter) finishToken() {
	text := f.text
	if f.skipping {
		f.emitText(text)
		f.text = f.text[:0]
		f.cur = nil
		return
	}
	next, whole, ferr := f.decodeToken(f.in[f.tokStart+len(escK) : f.off-len(escK)])
	if ferr == errForged {
		// What a task printed stays text, in the event it was printed in.
		f.text = append(f.text, f.in[f.tokStart:f.off]...)
		f.report(&events.FrameError{Offset: f.base + int64(f.tokStart), Size: f.off - f.tokStart, Err: events.ErrForgedFrame})
		return
	}
	f.emitText(text)
	f.text = f.text[:0]
	if ferr != nil {
		f.report(&events.FrameError{Offset: f.base + int64(f.tokStart), Size: f.off - f.tokStart, Err: ferr})
	}
	if whole {
		// The record carried the event's text, and no end token follows.
		f.cur = nil
		if next != nil {
			f.emitRecordText(next)
		}
		return
	}
	f.cur = next
	f.curAt = f.base + int64(f.tokStart)
}

// emitRecordText emits ev with the text its side-band record carried, as
// the terminal would have passed it on. The text is a decoded JSON string,
// valid UTF-8 already.
func (f *Filter) emitRecordText(ev *events.Event) {
	s := ev.Stdout
	nl := strings.Count(s, "\n")
	if f.cfg.TerminalNewlines && nl > 0 {
		s = strings.ReplaceAll(s, "\n", "\r\n")
	}
	f.deliver(ev, s, nl, false)
}

// errForged is decodeToken's answer for a token that is not the plugin's.
var errForged = errors.New("forged")

// decodeToken returns the event a begin token carries, nil for an end token
// (any payload without a uuid, as in ansible-runner), and an error for an
// undecodable payload (which also counts as an end token), or errForged
// for a token that is not the plugin's. whole reports a marker whose
// record holds the event's text: no end token follows it.
func (f *Filter) decodeToken(body []byte) (ev *events.Event, whole bool, err error) {
	f.b64 = f.b64[:0]
	for len(body) > 0 {
		j := bytes.IndexByte(body, 0x1b)
		if j < 0 {
			j = len(body)
		}
		f.b64 = append(f.b64, body[:j]...)
		body = body[j:]
		if k := bytes.IndexByte(body, 'D'); k >= 0 {
			body = body[k+1:]
		}
	}
	b64 := f.b64
	if key := f.cfg.Key; key != "" {
		if len(b64) < len(key) || string(b64[:len(key)]) != key {
			return nil, false, errForged
		}
		b64 = b64[len(key):]
	}
	n := base64.StdEncoding.DecodedLen(len(b64))
	if cap(f.dec) < n {
		f.dec = make([]byte, n)
	}
	n, err = base64.StdEncoding.Decode(f.dec[:n], b64)
	if err != nil {
		return nil, false, fmt.Errorf("%w: base64: %v", events.ErrGarbageFrame, err)
	}
	if seq, whole, ok := markerSeq(f.dec[:n]); ok {
		if ev, err = f.sideEvent(seq); err != nil {
			return nil, whole, fmt.Errorf("%w: %w", events.ErrGarbageFrame, err)
		}
		if ev == nil || ev.UUID == "" {
			return nil, whole, nil
		}
		return ev, whole, nil
	}
	// Half the tokens are end tokens: decode into scratch, and allocate an
	// Event only for a begin token.
	if err := f.top.Decode(f.dec[:n], &f.scratch); err != nil {
		return nil, false, fmt.Errorf("%w: %v", events.ErrGarbageFrame, err)
	}
	if f.scratch.UUID == "" {
		return nil, false, nil
	}
	if f.sideSeen {
		// The plugin's events come on the side band: this one was printed.
		return nil, false, errForged
	}
	ev = new(events.Event)
	*ev = f.scratch
	return ev, false, nil
}

// sideEvent takes the side-band record that marker seq names, already
// decoded. A repeated seq, or one with no record, is not the plugin's.
func (f *Filter) sideEvent(seq int) (*events.Event, error) {
	if f.cfg.SideBand == nil {
		return nil, fmt.Errorf("side-band marker %d without a side band", seq)
	}
	if seq < f.nextSeq {
		return nil, fmt.Errorf("%w: marker %d repeats", ErrNoRecord, seq)
	}
	ev, err := f.cfg.SideBand.take(seq, seq == f.nextSeq)
	if !errors.Is(err, ErrNoRecord) {
		f.nextSeq = seq + 1 // the record came, decodable or not
		f.sideSeen = true
	}
	return ev, err
}

// The payloads of side-band begin tokens. The plugin writes
// {"arunner_seq": <seq>} when the event's text follows on the terminal,
// up to an end token, and {"arunner_rec": <seq>} when record seq holds
// the text as its "stdout" and the event ends with the marker.
var (
	markerPrefix      = []byte(`{"arunner_seq": `)
	wholeMarkerPrefix = []byte(`{"arunner_rec": `)
)

// markerSeq returns the seq a side-band marker names, and whether its
// record holds the event's text.
func markerSeq(payload []byte) (seq int, whole, ok bool) {
	rest, ok := bytes.CutPrefix(payload, markerPrefix)
	if !ok {
		if rest, ok = bytes.CutPrefix(payload, wholeMarkerPrefix); !ok {
			return 0, false, false
		}
		whole = true
	}
	digits, ok := bytes.CutSuffix(rest, []byte{'}'})
	if !ok || len(digits) == 0 || len(digits) > 18 {
		return 0, false, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false, false
		}
		seq = seq*10 + int(c-'0')
	}
	return seq, whole, seq > 0
}

// emitText emits text that ended at a token or at Close: all of it as the
// current event's stdout, or line by line as verbose events.
func (f *Filter) emitText(text []byte) {
	if f.cur != nil {
		ev := f.cur
		f.cur = nil
		f.emit(ev, text, false)
		return
	}
	if len(text) == 0 {
		return
	}
	f.emitLines(toValidUTF8(text))
}

// emitCompleteLines emits, outside any event, every line of the pending
// text up to its last "\n", as ansible-runner does as soon as a newline
// arrives; the partial last line stays pending.
func (f *Filter) emitCompleteLines() {
	last := bytes.LastIndexByte(f.text, '\n')
	if last < 0 {
		return
	}
	f.emitLines(toValidUTF8(f.text[:last+1]))
	n := copy(f.text, f.text[last+1:])
	f.text = f.text[:n]
}

// emitLines emits one verbose event per line of s, splitting where Python's
// str.splitlines does.
func (f *Filter) emitLines(s string) {
	for len(s) > 0 && f.err == nil {
		n := lineLen(s)
		f.emit(&events.Event{Event: events.Verbose, UUID: uuid.NewString()}, []byte(s[:n]), true)
		s = s[n:]
	}
}

// lineLen returns the length of the first line of s including its
// terminator, using the terminators of Python's str.splitlines.
func lineLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n', '\v', '\f', 0x1c, 0x1d, 0x1e:
			return i + 1
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				return i + 2
			}
			return i + 1
		case 0xc2:
			if i+1 < len(s) && s[i+1] == 0x85 {
				return i + 2
			}
		case 0xe2:
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9) {
				return i + 3
			}
		}
	}
	return len(s)
}

// emit delivers ev with the terminal text chunk as its stdout. verbatim
// marks a runner-side line, which the stdout artifact holds with its own
// line ending rather than stdout+"\n".
func (f *Filter) emit(ev *events.Event, chunk []byte, verbatim bool) {
	var s string
	if verbatim {
		s = string(chunk) // already valid UTF-8
	} else {
		s = toValidUTF8(chunk)
	}
	f.deliver(ev, s, bytes.Count(chunk, []byte{'\n'}), verbatim)
}

// deliver numbers ev, fills its text fields from its text s (valid UTF-8,
// holding nl newlines) and hands it to Handle and Text.
func (f *Filter) deliver(ev *events.Event, s string, nl int, verbatim bool) {
	f.counter++
	ev.Counter = f.counter
	ev.Stdout = trimNewlines(s)
	ev.StartLine = f.line
	ev.EndLine = f.line + nl
	f.line += nl
	ev.RunnerIdent = f.cfg.RunnerIdent
	if ev.Created == "" {
		ev.Created = time.Now().UTC().Format("2006-01-02T15:04:05.000000")
	}
	if f.cfg.Handle != nil {
		if err := f.cfg.Handle(ev); err != nil {
			f.err = err
			return
		}
	}
	if f.cfg.Text == nil || f.textErr != nil {
		return
	}
	var err error
	switch {
	case verbatim:
		_, err = io.WriteString(f.cfg.Text, s)
	case ev.Stdout != "":
		// One write without a copy per event: Text may be a terminal.
		f.line1 = append(append(f.line1[:0], ev.Stdout...), '\n')
		_, err = f.cfg.Text.Write(f.line1)
		if cap(f.line1) > 64<<10 {
			f.line1 = nil // not kept after a huge event
		}
	}
	if err != nil {
		f.textErr = err
	}
}

func trimNewlines(s string) string {
	i := len(s)
	for i > 0 && (s[i-1] == '\n' || s[i-1] == '\r') {
		i--
	}
	return s[:i]
}

func (f *Filter) report(err error) {
	if f.cfg.OnError != nil {
		f.cfg.OnError(err)
	}
}

// Close flushes what is buffered, as ansible-runner's close() does: pending
// text becomes the current event's stdout or verbose lines (a trailing
// partial line too). A token cut off by the end of the stream is reported
// as events.ErrTruncatedFrame and its bytes kept as text; an event whose end token
// never came is reported the same way but still delivered. Close returns
// the Handle error that stopped the Filter or else the first Text error, if
// any.
func (f *Filter) Close() error {
	if f.closed || f.err != nil {
		return cmp.Or(f.err, f.textErr)
	}
	f.closed = true
	if f.inTok {
		seen := f.off - f.tokStart + f.tokSeen
		f.report(&events.FrameError{Offset: f.base + int64(f.tokStart), Size: seen, Err: events.ErrTruncatedFrame})
		if !f.skipping {
			f.text = append(f.text, f.in[f.tokStart:f.off]...)
		}
		f.inTok = false
	}
	f.text = append(f.text, f.in[f.off:]...)
	f.off = len(f.in)
	if f.cur != nil {
		f.report(&events.FrameError{Offset: f.curAt, Err: fmt.Errorf("%w: event %s has no end token", events.ErrTruncatedFrame, f.cur.UUID)})
	}
	f.emitText(f.text)
	f.text = nil
	f.in = nil
	return cmp.Or(f.err, f.textErr)
}
