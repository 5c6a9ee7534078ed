package eventproto

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sliceLen is the plugin's base64 characters per slice (SLICE in
// arunner.py).
const sliceLen = 78

// Writer writes what the callback plugin writes, for fake ansible binaries
// (runnertest's, the runner's own test fakes): the in-band tokens with the
// run's key, and the side band when the runner passes one. It is the one
// place in Go that writes the plugin's framing, beside the Filter that
// reads it, so that a change of the framing is made here and in the plugin
// and nowhere else. Its key and side band come from the environment the
// runner gave the process.
type Writer struct {
	out  io.Writer
	key  string
	side *os.File // the side band, nil when events go in-band
	seq  int
	end  string
}

// NewWriter returns a Writer on out (the process's stdout) that uses the run's
// event key (KeyEnv) and, when the runner passed one that is really
// descriptor 3, the side band (SideBandEnv), as the plugin does.
func NewWriter(out io.Writer) *Writer {
	w := &Writer{out: out, key: os.Getenv(KeyEnv), side: writerSideBand()}
	w.end = Frame(w.key + base64.StdEncoding.EncodeToString([]byte("{}")))
	return w
}

// NewInBandWriter returns a Writer on out that frames every event in-band with
// key, whatever the environment says.
func NewInBandWriter(out io.Writer, key string) *Writer {
	w := &Writer{out: out, key: key}
	w.end = Frame(w.key + base64.StdEncoding.EncodeToString([]byte("{}")))
	return w
}

// writerSideBand returns descriptor 3 when SideBandEnv names it with the
// inode of the pipe it is ("3:<inode>"), as the plugin checks.
func writerSideBand() *os.File {
	fd, ino, ok := strings.Cut(os.Getenv(SideBandEnv), ":")
	if !ok || fd != strconv.Itoa(SideBandFD) {
		return nil
	}
	var st syscall.Stat_t
	if syscall.Fstat(SideBandFD, &st) != nil || strconv.FormatUint(st.Ino, 10) != ino {
		return nil
	}
	return os.NewFile(uintptr(SideBandFD), "side band")
}

// SideBand reports whether events go to the side band.
func (w *Writer) SideBand() bool { return w.side != nil }

// Event writes one event: payload is its JSON (the plugin's fields: event,
// uuid, parent_uuid, pid, created, event_data, ...; the runner adds
// counter, stdout, start_line, end_line and runner_ident), text what the
// stdout callback printed for it. In-band, that is the begin token, the
// text and the end token. With the side band, the JSON goes to descriptor
// 3 as "<seq> <json>\n" and a marker naming seq stands for the begin token
// (the form the plugin uses when the text stays on the terminal).
func (w *Writer) Event(payload []byte, text string) error {
	head := ""
	if w.side != nil {
		w.seq++
		rec := make([]byte, 0, len(payload)+16)
		rec = strconv.AppendInt(rec, int64(w.seq), 10)
		rec = append(append(append(rec, ' '), payload...), '\n')
		if _, err := w.side.Write(rec); err != nil {
			w.side = nil // the reader has gone: in-band from now on, as the plugin does
		} else {
			head = w.Token([]byte(`{"arunner_seq": ` + strconv.Itoa(w.seq) + `}`))
		}
	}
	if head == "" {
		head = w.Token(payload)
	}
	_, err := io.WriteString(w.out, head+text+w.end)
	return err
}

// Text writes text outside any event.
func (w *Writer) Text(text string) error {
	_, err := io.WriteString(w.out, text)
	return err
}

// Token returns payload framed as one token with the run's key.
func (w *Writer) Token(payload []byte) string {
	return Frame(w.key + base64.StdEncoding.EncodeToString(payload))
}

// Frame frames base64 text b64 as the plugin does: ESC[K, slices of at
// most 78 characters each followed by ESC[<n>D, ESC[K.
func Frame(b64 string) string {
	var sb strings.Builder
	sb.Grow(len(b64) + 8 + len(b64)/sliceLen*6)
	sb.WriteString("\x1b[K")
	for len(b64) > 0 {
		n := min(sliceLen, len(b64))
		fmt.Fprintf(&sb, "%s\x1b[%dD", b64[:n], n)
		b64 = b64[n:]
	}
	sb.WriteString("\x1b[K")
	return sb.String()
}
