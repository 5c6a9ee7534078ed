package runner

import (
	"sync"

	"github.com/arunner/arunner/prompt"
)

// answerer answers prompts on the pty and remembers a prompt nobody
// answered. The reader goroutine feeds it; the monitor asks it.
type answerer struct {
	mu sync.Mutex
	m  *prompt.Matcher
}

func newAnswerer(rules []prompt.Rule) *answerer {
	return &answerer{m: prompt.NewMatcher(rules)}
}

func (a *answerer) feed(b []byte) [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m.Feed(b)
}

func (a *answerer) pending() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.m.Pending()
}
