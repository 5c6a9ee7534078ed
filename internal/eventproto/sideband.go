package eventproto

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/arunner/arunner/events"
)

// SideBandEnv names the environment variable that tells the callback plugin
// which inherited file descriptor carries event records (see SideBand).
const SideBandEnv = "ARUNNER_EVENT_FD"

// EventWindowEnv names the environment variable that passes
// EnvOptions.Window to the plugin, in milliseconds.
const EventWindowEnv = "ARUNNER_EVENT_WINDOW_MS"

// SideBandFD is the descriptor the runner passes the side band's write end
// as: the first of exec.Cmd's ExtraFiles.
const SideBandFD = 3

// SideBandEnvValue is the value of SideBandEnv for the child that gets w
// (the side band's write end) as SideBandFD: "3:<inode of the pipe>". The
// plugin writes to descriptor 3 only if it is that very pipe, so that a
// sandbox that closes descriptor 3 but passes the environment on never
// has event JSON written into whatever pipe took the number (ansible's own
// results queue, say). Env's plain "3" only asks for a side band.
func SideBandEnvValue(w *os.File) (string, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(w.Fd()), &st); err != nil {
		return "", fmt.Errorf("events: side band: %w", err)
	}
	return strconv.Itoa(SideBandFD) + ":" + strconv.FormatUint(st.Ino, 10), nil
}

// sideBandQueueBytes bounds the records read ahead of the terminal stream.
// One record larger than this is still taken, alone.
const sideBandQueueBytes = 16 << 20

// ErrNoRecord is wrapped by the Filter's frame error when the record a
// side-band marker names never came: the side band ended, or the marker was
// not the plugin's.
var ErrNoRecord = errors.New("no side-band record")

// SideBand carries event JSON beside the terminal stream. With the side
// band, the callback plugin writes each event's JSON as one line
// "<seq> <json>\n" to a pipe, then a small begin token naming seq (and
// carrying the run's key, FilterConfig.Key, as every token does) on the
// terminal (events that come close together as a batch of records, then
// their markers: see EnvOptions.Window), so that the terminal (a pty, whose
// line discipline hands the reader at most 4 KiB per read) carries ~55
// bytes of framing per event.
// Usually the record also holds the event's text as "stdout", and the
// marker stands where the text would be (FilterConfig.TerminalNewlines
// then makes the text what the terminal would have passed on). When other
// output interrupts an event, the text follows its marker on the terminal
// up to an end token, as in-band. Either way the Filter pairs each marker
// with its record, so stdout and events stay aligned exactly as with
// in-band tokens.
//
// NewSideBand starts a goroutine that reads records as they come, so the
// plugin never blocks on a full pipe while the Filter waits for its marker;
// the records read ahead are bounded by sideBandQueueBytes.
type SideBand struct {
	r        io.ReadCloser
	maxFrame int
	done     chan struct{}

	mu      sync.Mutex
	cond    *sync.Cond
	recs    []sideRecord
	head    int
	queued  int
	records int   // records read
	end     error // why reading stopped: io.EOF or the read error
	closed  bool
	waiting bool // take waits for a record
	full    bool // the reader waits for room in the queue
}

// sideRecord is one record, decoded by the reading goroutine, so that the
// JSON is parsed on one core while the Filter scans the terminal on another.
type sideRecord struct {
	seq  int
	ev   *events.Event
	size int // bytes of JSON, for the queue's bound
	err  error
}

// NewSideBand reads records from r (the pipe's read end) until EOF or Close.
// maxFrame bounds one record like FilterConfig.MaxFrame; 0 means
// DefaultMaxFrame.
func NewSideBand(r io.ReadCloser, maxFrame int) *SideBand {
	if maxFrame <= 0 {
		maxFrame = DefaultMaxFrame
	}
	s := &SideBand{r: r, maxFrame: maxFrame, done: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	go s.read()
	return s
}

func (s *SideBand) read() {
	defer close(s.done)
	var (
		// buf is reused for every read: records are decoded out of it
		// before the next. Its start holds the record not finished yet.
		buf   = make([]byte, 0, 64<<10)
		over  bool         // that record passed maxFrame: only its start is kept
		batch []sideRecord // records completed by one read, queued together
		dec   events.Decoder
	)
	for {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), 2*cap(buf))
			copy(nb, buf)
			buf = nb
		}
		n, err := s.r.Read(buf[len(buf):cap(buf)])
		scan := len(buf) // no newline before: that record is unfinished
		buf = buf[:scan+n]
		start := 0
		for {
			i := bytes.IndexByte(buf[scan:], '\n')
			if i < 0 {
				break
			}
			end := scan + i + 1
			if rec := parseRecord(&dec, buf[start:end], over, s.maxFrame); rec.seq > 0 {
				batch = append(batch, rec)
			}
			start, scan, over = end, end, false
		}
		buf = buf[:copy(buf, buf[start:])]
		if !over && len(buf) > s.maxFrame+recordPrefix {
			over = true
		}
		if over && len(buf) > recordPrefix {
			buf = buf[:recordPrefix]
		}
		if len(batch) > 0 {
			s.put(batch)
			clear(batch)
			batch = batch[:0]
		}
		if err != nil {
			// A record cut off by the end of the stream is dropped: its
			// marker cannot have been written.
			s.stop(err)
			return
		}
	}
}

// recordPrefix is more than the "<seq> " of any record.
const recordPrefix = 24

// parseRecord splits "<seq> <json>\n" and decodes the JSON (Event keeps
// copies, not line). A line that is no record has seq -1; an oversized or
// undecodable record keeps its seq and carries the error.
func parseRecord(dec *events.Decoder, line []byte, over bool, maxFrame int) sideRecord {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 {
		return sideRecord{seq: -1}
	}
	seq, err := strconv.Atoi(string(line[:sp]))
	if err != nil || seq <= 0 {
		return sideRecord{seq: -1}
	}
	if over {
		return sideRecord{seq: seq, err: fmt.Errorf("%w: more than %d bytes", events.ErrFrameTooLarge, maxFrame)}
	}
	data := line[sp+1:]
	ev := new(events.Event)
	if err := dec.Decode(data, ev); err != nil {
		return sideRecord{seq: seq, size: len(data), err: err}
	}
	return sideRecord{seq: seq, ev: ev, size: len(data)}
}

func (s *SideBand) put(batch []sideRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rec := range batch {
		for !s.closed && s.queued > 0 && s.queued+rec.size > sideBandQueueBytes {
			s.full = true
			s.cond.Wait()
			s.full = false
		}
		s.recs = append(s.recs, rec)
		s.queued += rec.size
		s.records++
	}
	if s.waiting {
		s.cond.Broadcast()
	}
}

// Records returns how many records have been read so far, the undecodable
// ones included: a run whose plugin fell back to in-band tokens reads none.
func (s *SideBand) Records() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records
}

func (s *SideBand) stop(err error) {
	s.mu.Lock()
	s.end = err
	s.mu.Unlock()
	s.cond.Broadcast()
}

// outOfOrderWait bounds how long take waits for the record of a marker
// that skips seq numbers, which the plugin never does unless it died
// between writing a record and its marker.
const outOfOrderWait = time.Second

// take returns the record that marker seq names, waiting until it has been
// read (the plugin wrote it before the marker) or the side band ends. The
// Filter knows which seq comes next; a marker past it (exact false) is
// either the plugin's after records whose markers never came, which are
// then dropped, or not the plugin's at all: its record is waited for at
// most outOfOrderWait, and if it is not there the records are left for the
// markers to come. take is called by one goroutine (the Filter's).
func (s *SideBand) take(seq int, exact bool) (*events.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	expired := false
	if !exact {
		t := time.AfterFunc(outOfOrderWait, func() {
			s.mu.Lock()
			expired = true
			s.mu.Unlock()
			s.cond.Broadcast()
		})
		defer t.Stop()
	}
	for {
		if n := len(s.recs); n > s.head && s.recs[n-1].seq >= seq {
			// Records are read in order: seq's is here, or will not come.
			if !exact && !s.holds(seq) {
				return nil, fmt.Errorf("%w: marker %d out of order", ErrNoRecord, seq)
			}
			for s.recs[s.head].seq < seq {
				s.pop()
			}
			rec := s.recs[s.head]
			if rec.seq != seq {
				return nil, fmt.Errorf("%w: marker %d, next record %d", ErrNoRecord, seq, rec.seq)
			}
			s.pop()
			return rec.ev, rec.err
		}
		if s.end != nil || s.closed || expired {
			return nil, fmt.Errorf("%w: marker %d, and the side band ended or fell silent", ErrNoRecord, seq)
		}
		s.waiting = true
		s.cond.Wait()
		s.waiting = false
	}
}

// holds reports whether a record with seq has been read and not taken.
func (s *SideBand) holds(seq int) bool {
	for _, r := range s.recs[s.head:] {
		if r.seq >= seq {
			return r.seq == seq
		}
	}
	return false
}

func (s *SideBand) pop() {
	s.queued -= s.recs[s.head].size
	s.recs[s.head] = sideRecord{}
	s.head++
	if s.head == len(s.recs) {
		s.recs, s.head = s.recs[:0], 0
	} else if s.head >= 1024 && s.head*2 >= len(s.recs) {
		n := copy(s.recs, s.recs[s.head:])
		s.recs, s.head = s.recs[:n], 0
	}
	if s.full {
		s.cond.Broadcast()
	}
}

// Close stops reading: it closes the read end, so a plugin still writing
// gets EPIPE, and a Filter still waiting for a record gets ErrNoRecord. It waits for the
// reading goroutine to finish.
func (s *SideBand) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cond.Broadcast()
	err := s.r.Close()
	<-s.done
	return err
}
