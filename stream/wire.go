package stream

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/lazyio"
)

// The stream is ansible-runner's: one JSON object per line, except a zip
// payload, which follows its {"zipfile": N} line as N bytes in standard
// base64 with padding and no line breaks, and is followed at once (no
// newline) by the next JSON line.

// Limits bound what a stream may make its reader hold or unpack. A zero
// field takes its default.
type Limits struct {
	// MaxLine is the longest JSON line, in bytes (default 256 MiB): an
	// event carries a task's whole output, so this is no line cap, only a
	// bound on a stream that never ends its line.
	MaxLine int
	// MaxZip is the largest zip payload, in bytes before base64 (default
	// 4 GiB).
	MaxZip int64
	// MaxUnpacked is the total size a zip may unpack to (default 16 GiB);
	// MaxEntries its number of entries (default 500,000).
	MaxUnpacked int64
	MaxEntries  int
}

func (l Limits) withDefaults() Limits {
	if l.MaxLine <= 0 {
		l.MaxLine = 256 << 20
	}
	if l.MaxZip <= 0 {
		l.MaxZip = 4 << 30
	}
	if l.MaxUnpacked <= 0 {
		l.MaxUnpacked = 16 << 30
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = 500_000
	}
	return l
}

// ErrTruncated is matched by the error of a stream that ended before its
// {"eof": true} line.
var ErrTruncated = errors.New("stream ended before its eof line")

// LineError is a line of the stream that is not the JSON object expected
// there. Line is at most the first 1000 bytes of it.
type LineError struct {
	N    int // the line's number, from 1 (a zip payload counts as none)
	Line string
	Err  error
}

func (e *LineError) Error() string {
	if e.Line == "" {
		return fmt.Sprintf("stream line %d is not a JSON object (%v)", e.N, e.Err)
	}
	return fmt.Sprintf("stream line %d is not a JSON object (%v): %q", e.N, e.Err, e.Line)
}

func (e *LineError) Unwrap() error { return e.Err }

// reader reads a stream's lines and payloads.
type reader struct {
	br     *bufio.Reader
	limits Limits
	n      int
	events bool // lines are mostly events (the process side)
	// dec decodes the event lines, keeping its scratch space from one to
	// the next; m is the message next returns, reused likewise.
	dec events.Decoder
	m   message
}

func newReader(r io.Reader, l Limits) *reader {
	return &reader{br: bufio.NewReaderSize(r, 64<<10), limits: l.withDefaults()}
}

// line returns the next line without its newline. A stream that ends,
// even mid-line, is ErrTruncated: the last line of a whole stream is eof.
func (r *reader) line() ([]byte, error) {
	var long []byte
	for {
		b, err := r.br.ReadSlice('\n')
		switch {
		case err == nil:
			r.n++
			if long != nil {
				return append(long, b[:len(b)-1]...), nil
			}
			return b[:len(b)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			if len(long)+len(b) > r.limits.MaxLine {
				return nil, fmt.Errorf("stream line %d is longer than %d bytes (Limits.MaxLine)", r.n+1, r.limits.MaxLine)
			}
			long = append(long, b...)
		case errors.Is(err, io.EOF):
			if len(long)+len(b) == 0 {
				return nil, ErrTruncated
			}
			return nil, fmt.Errorf("stream line %d: %w", r.n+1, ErrTruncated)
		default:
			return nil, fmt.Errorf("reading the stream: %w", err)
		}
	}
}

// message is one JSON line, decoded as far as telling its kind needs. raw
// is valid until the next read.
type message struct {
	raw     []byte
	fields  map[string]json.RawMessage
	zipSize int64
	// ev is the line decoded as an event, when the reader was asked for
	// events and the line is one.
	ev *events.Event
}

func (m *message) has(k string) bool { _, ok := m.fields[k]; return ok }

// next reads and decodes the next line. The message is valid until the
// next call; its event, if any, is the caller's.
func (r *reader) next() (*message, error) {
	b, err := r.line()
	if err != nil {
		return nil, err
	}
	m := &r.m
	*m = message{raw: b}
	if r.events {
		// The hot path: one decode of an event line, by the events
		// package's decoder. A line that is not an event (status,
		// zipfile, eof, keepalive) is decoded again below.
		ev := new(events.Event)
		if r.dec.Decode(b, ev) == nil && ev.UUID != "" && ev.Counter > 0 && !controlLine(ev) {
			m.ev = ev
			return m, nil
		}
	}
	if err := json.Unmarshal(b, &m.fields); err != nil || m.fields == nil {
		if err == nil {
			err = errors.New("not an object")
		}
		return nil, &LineError{N: r.n, Line: string(b[:min(len(b), 1000)]), Err: err}
	}
	if z, ok := m.fields["zipfile"]; ok {
		if err := json.Unmarshal(z, &m.zipSize); err != nil || m.zipSize < 0 {
			return nil, &LineError{N: r.n, Line: string(b[:min(len(b), 1000)]), Err: errors.New("zipfile is not a size")}
		}
	}
	return m, nil
}

// controlLine reports whether a line that decoded as an event has a key of
// a control line.
func controlLine(ev *events.Event) bool {
	for _, f := range ev.Extra {
		switch f.Key {
		case "status", "zipfile", "eof", "kwargs":
			return true
		}
	}
	return false
}

// payload copies the zip payload announced by a {"zipfile": size} line into
// a temporary file, which the caller removes.
func (r *reader) payload(size int64) (*os.File, error) {
	if size > r.limits.MaxZip {
		return nil, fmt.Errorf("zip payload of %d bytes is larger than %d (Limits.MaxZip)", size, r.limits.MaxZip)
	}
	f, err := os.CreateTemp("", "arunner-stream-*.zip")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // nothing is left should we die
	encoded := (size + 2) / 3 * 4
	dec := base64.NewDecoder(base64.StdEncoding, io.LimitReader(r.br, encoded))
	n, err := io.Copy(f, dec)
	switch {
	case err == nil && n != size, errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("zip payload: got %d bytes of %d: %w", n, size, ErrTruncated)
	case err != nil:
		err = fmt.Errorf("zip payload is not base64: %w", err)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// writer serialises a stream's writes: status lines, events, payloads and
// keepalives come from several goroutines. It records when a write began,
// so that a reader that stopped reading can be told from a quiet run, and
// can be broken: the writes waiting for their turn then fail at once.
type writer struct {
	turn    chan struct{} // holds one token while a write goes on
	broken  chan struct{}
	once    sync.Once
	w       io.Writer // where lines go: raw, or lazy when batching
	raw     io.Writer // the stream
	lazy    *lazyio.Writer
	flush   func() error
	errMu   sync.Mutex
	err     error
	last    atomic.Int64 // unix nanos of the last write's end
	pending atomic.Int64 // unix nanos a blocked write began, or 0
}

func newWriter(w io.Writer) *writer {
	sw := &writer{w: w, raw: w, turn: make(chan struct{}, 1), broken: make(chan struct{})}
	if f, ok := w.(interface{ Flush() error }); ok {
		sw.flush = f.Flush
	}
	sw.last.Store(time.Now().UnixNano())
	return sw
}

// batch makes event lines go out in batches, at most lazyio.Delay late,
// rather than one write each: on a pipe, a system call and a wake-up of
// the reader per event cost more than the event itself. Every other line
// is written out at once, with what was batched before it.
func (w *writer) batch() {
	w.lazy = lazyio.New(w.raw, lazyio.Delay)
	w.w = w.lazy
	raw := w.flush
	w.flush = func() error {
		if err := w.lazy.Flush(); err != nil || raw == nil {
			return err
		}
		return raw()
	}
}

// fail records the stream's first error and breaks it: no write is tried
// after it. A writer that is an io.Closer is closed, which is what ends a
// write blocked on a reader that stopped reading (a pipe, a socket).
func (w *writer) fail(err error) {
	w.once.Do(func() {
		w.errMu.Lock()
		w.err = fmt.Errorf("writing the stream: %w", err)
		w.errMu.Unlock()
		close(w.broken)
		if c, ok := w.raw.(io.Closer); ok {
			c.Close()
		}
	})
}

// Err is the stream's first write error, or nil.
func (w *writer) Err() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

// do runs f with the stream to itself, and writes it out; after one write
// fails, nothing more is written and every call returns that error.
func (w *writer) do(f func(io.Writer) error) error { return w.write(f, nil, true) }

// write is do, which may leave what f wrote in the batch (flush false).
// With f nil it writes b (an event's line: no closure per event).
func (w *writer) write(f func(io.Writer) error, b []byte, flush bool) error {
	select {
	case <-w.broken:
		return w.Err()
	case w.turn <- struct{}{}:
	}
	defer func() { <-w.turn }()
	select {
	case <-w.broken:
		return w.Err()
	default:
	}
	w.pending.Store(time.Now().UnixNano())
	var err error
	if f != nil {
		err = f(w.w)
	} else {
		_, err = w.w.Write(b)
	}
	if err == nil && flush && w.flush != nil {
		err = w.flush()
	}
	w.pending.Store(0)
	w.last.Store(time.Now().UnixNano())
	if err != nil {
		w.fail(err)
		return w.Err()
	}
	return nil
}

// line writes b (one JSON object) and a newline. It may use b's spare
// capacity.
func (w *writer) line(b []byte) error {
	if len(b) < cap(b) {
		b = b[:len(b)+1] // one write: the line and its newline
		b[len(b)-1] = '\n'
	} else {
		b = append(b, '\n')
	}
	return w.do(func(out io.Writer) error {
		_, err := out.Write(b)
		return err
	})
}

// event writes b, an event's JSON, as one line, in the batch.
func (w *writer) event(b []byte) error {
	return w.write(nil, append(b, '\n'), false)
}

// json writes v as one line.
func (w *writer) json(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.line(b)
}

// eofJSON ends every stream.
const eofJSON = `{"eof": true}`

// zip writes a {"zipfile": N} line and the N bytes of f, base64-encoded.
func (w *writer) zip(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return w.do(func(out io.Writer) error {
		if _, err := fmt.Fprintf(out, "{\"zipfile\": %d}\n", st.Size()); err != nil {
			return err
		}
		enc := base64.NewEncoder(base64.StdEncoding, out)
		if _, err := io.Copy(enc, f); err != nil {
			return err
		}
		return enc.Close()
	})
}

// stalled reports whether a write has been blocked for longer than d.
func (w *writer) stalled(d time.Duration) bool {
	p := w.pending.Load()
	return p != 0 && time.Since(time.Unix(0, p)) > d
}

// idle is how long the stream has gone without a write.
func (w *writer) idle() time.Duration {
	if w.pending.Load() != 0 {
		return 0
	}
	return time.Since(time.Unix(0, w.last.Load()))
}

// firstLine returns at most the first 1000 bytes of b, for an explanation.
func firstLine(b []byte) string {
	b, _, _ = bytes.Cut(b, []byte{'\n'})
	return string(b[:min(len(b), 1000)])
}
