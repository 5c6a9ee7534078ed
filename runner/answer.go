package runner

import (
	"sync"

	"github.com/arunner/arunner/prompt"
)

// tailSize is how much recent output is kept to tell an unanswered prompt
// when there is nothing to answer: a prompt is the last, unterminated line.
const tailSize = 4096

// answerer answers prompts on the pty and tells a prompt nobody answered.
// The reader goroutine feeds it; the monitor asks it.
//
// With no rules, nothing needs matching as the output streams: only the
// tail is kept, and scanned when the monitor asks (after PromptTimeout of
// silence). Scanning every byte was a third of the runner's CPU.
type answerer struct {
	mu   sync.Mutex
	m    *prompt.Matcher // nil when there are no rules
	tail []byte
}

func newAnswerer(rules []prompt.Rule) *answerer {
	a := &answerer{}
	if len(rules) > 0 {
		a.m = prompt.NewMatcher(rules)
	}
	return a
}

// feed takes output as it comes and returns the answers to write. A nil
// answerer (a run without a pty) answers nothing.
func (a *answerer) feed(b []byte) [][]byte {
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m != nil {
		return a.m.Feed(b)
	}
	if len(b) >= tailSize {
		a.tail = append(a.tail[:0], b[len(b)-tailSize:]...)
		return nil
	}
	if keep := tailSize - len(b); len(a.tail) > keep {
		a.tail = append(a.tail[:0], a.tail[len(a.tail)-keep:]...)
	}
	a.tail = append(a.tail, b...)
	return nil
}

// pending returns the prompt the output ends on, if any.
func (a *answerer) pending() string {
	if a == nil {
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m != nil {
		return a.m.Pending()
	}
	m := prompt.NewMatcher(nil)
	m.Feed(a.tail)
	return m.Pending()
}
