package prompt

import (
	"bytes"
	"fmt"
)

// windowSize bounds the text a rule is matched against: the last 4 KiB of
// visible text written since the last answer. ansible-runner uses pexpect's
// 100-character search window, which misses a prompt preceded by more than
// 100 characters of output in the same read; 4 KiB covers any prompt while
// keeping the work per Feed bounded.
const windowSize = 4096

// Matcher finds prompts in a raw pty stream and returns the answers to write.
// It is not safe for concurrent use; the runner feeds it from its single pty
// reader.
type Matcher struct {
	// The state sits behind a pointer because fmt prints unexported fields
	// by reflection, bypassing Rule.String: a Matcher value printed with %v
	// would otherwise reveal the responses.
	*matcher
}

type matcher struct {
	rules []Rule
	// filters[i] is the prefilter of rules[i].
	filters []filter
	strip   stripper
	// win is the visible text since the last answer, at most windowSize bytes
	// between calls to Feed.
	win []byte
}

// NewMatcher returns a Matcher for rules, tried in order. With no rules it
// never answers, but Pending still detects prompts.
func NewMatcher(rules []Rule) *Matcher {
	rs := make([]Rule, 0, len(rules))
	for _, r := range rules {
		if r.Pattern != nil {
			rs = append(rs, r)
		}
	}
	fs := make([]filter, len(rs))
	for i, r := range rs {
		fs[i].lit = []byte(requiredLiteral(r.Pattern.String()))
	}
	return &Matcher{&matcher{rules: rs, filters: fs, win: make([]byte, 0, 2*windowSize)}}
}

// filter skips a rule's regexp while the window lacks the literal that every
// match needs. from is the window offset before which the literal is known
// not to start, so each Feed only scans the bytes it added.
type filter struct {
	lit  []byte
	from int
}

// mayMatch reports whether win may hold a match.
func (f *filter) mayMatch(win []byte) bool {
	if len(f.lit) == 0 {
		return true
	}
	if i := bytes.Index(win[f.from:], f.lit); i >= 0 {
		f.from += i
		return true
	}
	f.from = max(f.from, len(win)-len(f.lit)+1)
	return false
}

// shift tells the filters that the first n bytes of the window were dropped.
func (m *matcher) shift(n int) {
	for i := range m.filters {
		m.filters[i].from = max(0, m.filters[i].from-n)
	}
}

// String implements fmt.Stringer without revealing responses.
func (m Matcher) String() string { return fmt.Sprintf("prompt.Matcher{%d rules}", len(m.rules)) }

// GoString implements fmt.GoStringer without revealing responses.
func (m Matcher) GoString() string { return m.String() }

// Feed takes raw bytes read from the pty, however chunked, and returns the
// answers to write, each a fresh slice holding Response+"\n" (the caller may
// zero it once written). Escape codes and event tokens are removed first, so
// they never split or hide a prompt.
//
// Every match consumes the text up to its end: a prompt is answered once and
// not again until it is written anew. A rule answers only for a match of at
// least one character; zero-length matches are ignored, since they would
// consume nothing. As with pexpect, a pattern ending in $ can match a line
// that the next read extends ("ok:" then " [host]"); anchor patterns on text
// that only a prompt contains. Base64-looking text right after an ESC[K could
// still be the start of an event token, so it is held back until a byte that
// cannot belong to a token arrives; prompts end in ':' or a space, so this
// never delays one.
func (m *Matcher) Feed(p []byte) [][]byte {
	if m.matcher == nil {
		// The zero Matcher has no rules but still tracks Pending.
		m.matcher = &matcher{}
	}
	before := len(m.win)
	m.win = m.strip.strip(m.win, p)
	if len(m.win) == before {
		return nil
	}
	// Matching runs before trimming so that a prompt inside a read larger
	// than the window is still seen.
	answers := m.match()
	m.trim()
	return answers
}

func (m *Matcher) match() [][]byte {
	var answers [][]byte
	for len(m.win) > 0 {
		best, start, end := -1, 0, 0
		for i, r := range m.rules {
			if !m.filters[i].mayMatch(m.win) {
				continue
			}
			loc := r.Pattern.FindIndex(m.win)
			if loc != nil && loc[0] == loc[1] {
				loc = firstNonEmpty(r, m.win)
			}
			if loc != nil && (best < 0 || loc[0] < start) {
				best, start, end = i, loc[0], loc[1]
			}
		}
		if best < 0 {
			return answers
		}
		resp := m.rules[best].Response
		answer := make([]byte, 0, len(resp)+1)
		answers = append(answers, append(append(answer, resp...), '\n'))
		n := copy(m.win, m.win[end:])
		m.win = m.win[:n]
		m.shift(end)
	}
	return answers
}

// firstNonEmpty returns the first match of r in b that is at least one byte
// long; it is only reached when the leftmost match is empty.
func firstNonEmpty(r Rule, b []byte) []int {
	for _, loc := range r.Pattern.FindAllIndex(b, -1) {
		if loc[1] > loc[0] {
			return loc
		}
	}
	return nil
}

// trim keeps the last windowSize bytes, starting at a line start when the
// kept text holds a newline, so that ^ at the window start still means a real
// line start.
func (m *Matcher) trim() {
	if len(m.win) <= windowSize {
		return
	}
	cut := len(m.win) - windowSize
	if i := bytes.IndexByte(m.win[cut:], '\n'); i >= 0 {
		cut += i + 1
	}
	n := copy(m.win, m.win[cut:])
	m.win = m.win[:n]
	m.shift(cut)
}

// Pending returns the visible text of the current unterminated line, trimmed
// of surrounding blanks, if it looks like a prompt nobody answered: it ends
// in ':' or '?' (plus optional blanks) and was not consumed by an answer.
// Otherwise it returns "". The runner ends a run naming this text when it
// stays pending while ansible is silent for the prompt timeout.
func (m *Matcher) Pending() string {
	if m.matcher == nil {
		return ""
	}
	line := m.win[bytes.LastIndexByte(m.win, '\n')+1:]
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return ""
	}
	if c := line[len(line)-1]; c != ':' && c != '?' {
		return ""
	}
	return string(line)
}
