package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/arunner/arunner/events"
)

// progress follows a run for its summary and shows how it goes (-q) on
// stderr: on a terminal one status line, redrawn in place (current
// play and task, host results so far, elapsed time); elsewhere a plain
// line per play and task.
type progress struct {
	mu      sync.Mutex
	tally   *tally
	w       io.Writer // nil: no progress shown
	tty     bool
	started time.Time
	line    string    // what the status line shows now
	drawn   time.Time // when it was last drawn
	done    chan struct{}
	wg      sync.WaitGroup
}

// newProgress shows the progress of a run started at started on w.
func newProgress(w io.Writer, started time.Time) *progress {
	p := &progress{tally: newTally(true), started: started, done: make(chan struct{}), w: w}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
		p.tty = err == nil
	}
	if p.tty {
		// The elapsed time moves on between events.
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-p.done:
					return
				case <-tick.C:
					p.mu.Lock()
					p.draw()
					p.mu.Unlock()
				}
			}
		}()
	}
	return p
}

// event is the run's EventHandler: it keeps every event.
func (p *progress) event(ev *events.Event) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	play, task := p.tally.play, p.tally.task
	if !p.tally.see(ev) || p.w == nil {
		return true
	}
	switch {
	case p.tty:
		// A long loop's results come fast: the line keeps up ten times
		// a second, and at once with each new task.
		if p.tally.task != task || p.tally.play != play || time.Since(p.drawn) >= 100*time.Millisecond {
			p.draw()
		}
	case p.tally.play != play && p.tally.task == "":
		fmt.Fprintf(p.w, "PLAY %s [%s]\n", p.tally.play, p.elapsed())
	case p.tally.task != task:
		fmt.Fprintf(p.w, "TASK %s [%s] %s\n", p.tally.task, p.elapsed(), p.tally.counts())
	}
	return true
}

func (p *progress) elapsed() string {
	d := time.Since(p.started).Truncate(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

// draw redraws the status line, cut to the terminal's width.
func (p *progress) draw() {
	var b strings.Builder
	b.WriteString(p.elapsed())
	if t := p.tally; t.play != "" || t.task != "" {
		fmt.Fprintf(&b, " PLAY %s", t.play)
		if t.task != "" {
			fmt.Fprintf(&b, " | TASK %s", t.task)
		}
	}
	b.WriteString(" | " + p.tally.counts())
	line := strings.Join(strings.Fields(b.String()), " ")
	if f, ok := p.w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 1 {
			if r := []rune(line); len(r) > int(ws.Col)-1 {
				line = string(r[:int(ws.Col)-1])
			}
		}
	}
	p.drawn = time.Now()
	if line == p.line {
		return
	}
	p.line = line
	fmt.Fprintf(p.w, "\r\x1b[K%s", line)
}

// stop ends the progress display, clearing the status line for what
// follows it.
func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.line != "" {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.line = ""
	}
	p.w = nil
}
