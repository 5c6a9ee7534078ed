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
	strip stripper
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
	return &Matcher{&matcher{rules: rs, win: make([]byte, 0, 2*windowSize)}}
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
// that only a prompt contains.
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
