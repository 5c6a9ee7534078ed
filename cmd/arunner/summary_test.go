package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/runnertest"
)

// realPlaybook returns a private data dir whose project/site.yml is
// playbook, run by real ansible-core on localhost.
func realPlaybook(t *testing.T, playbook string) string {
	t.Helper()
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook is not installed")
	}
	pdd := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(pdd, "project"), 0o700))
	require.NoError(t, os.MkdirAll(filepath.Join(pdd, "inventory"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "inventory", "hosts"),
		[]byte("localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte(playbook), 0o600))
	return pdd
}

// cutSummary splits arunner's stderr at the run's summary.
func cutSummary(stderr string) (before, summary string) {
	if i := strings.Index(stderr, "arunner: run "); i >= 0 {
		return stderr[:i], stderr[i:]
	}
	return stderr, ""
}

// Every run ends with a summary on stderr, whatever -q and -j say: ident,
// artifact dir, status, rc, elapsed time, the recap per host and each
// failed task with its message.
func TestSummary(t *testing.T) {
	fake := runnertest.New(t, runnertest.Play("deploy", "web",
		runnertest.Task("install", runnertest.Changed("web1"), runnertest.Failed("web2", "boom")),
		runnertest.Task("check", runnertest.OK("web1"), runnertest.Unreachable("web3", "no route to host"))))
	for k, v := range fake.Env {
		t.Setenv(k, v)
	}
	for _, flags := range [][]string{nil, {"-q"}, {"-j"}, {"-q", "-j"}} {
		pdd := runnertest.PrivateDataDir(t)
		var stdout, stderr bytes.Buffer
		rc := realMain(append([]string{"run", pdd, "-p", "site.yml", "-b", fake.Binary, "--ident", "sum"}, flags...), &stdout, &stderr)
		assert.Equal(t, 4, rc, flags) // a host unreachable
		_, summary := cutSummary(stderr.String())
		assert.Regexp(t, regexp.MustCompile(`^arunner: run sum failed, rc 4, in \d+(\.\d+)?m?s\n`+
			`  artifacts: `+regexp.QuoteMeta(filepath.Join(pdd, "artifacts", "sum"))+"\n"+
			`  web1 : ok=2 changed=1 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\n`+
			`  web2 : ok=0 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0\n`+
			`  web3 : ok=0 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0\n`+
			`  failed: web2, task "install": boom\n`+
			`  unreachable: web3, task "check": no route to host\n$`), summary, flags)
	}
}

// -q alone prints no ansible text, but the summary; with stderr not a
// terminal, a plain line per play and task shows the progress.
func TestQuietProgressLines(t *testing.T) {
	fake := runnertest.New(t, runnertest.Play("deploy", "web",
		runnertest.Task("install", runnertest.Changed("web1")),
		runnertest.Task("check", runnertest.OK("web1"))))
	for k, v := range fake.Env {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, realMain([]string{"run", runnertest.PrivateDataDir(t), "-p", "site.yml", "-b", fake.Binary, "-q", "--ident", "q"}, &stdout, &stderr))
	assert.Empty(t, stdout.String())
	before, summary := cutSummary(stderr.String())
	assert.Regexp(t, regexp.MustCompile(`^PLAY deploy \[0:00:\d\d\]\n`+
		`TASK install \[0:00:\d\d\] ok=0 changed=0 failed=0 unreachable=0\n`+
		`TASK check \[0:00:\d\d\] ok=0 changed=1 failed=0 unreachable=0\n$`), before)
	assert.Contains(t, summary, "arunner: run q successful, rc 0")
	assert.NotContains(t, stderr.String(), "\x1b[", "no terminal codes off a terminal")
}

// screen is what a terminal shows of the bytes written to it: enough of
// one for a status line redrawn with \r and ESC [ K.
type screen struct {
	mu    sync.Mutex
	lines []string
	col   int
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lines) == 0 {
		s.lines = []string{""}
	}
	for i := 0; i < len(p); i++ {
		cur := &s.lines[len(s.lines)-1]
		switch c := p[i]; {
		case c == '\r':
			s.col = 0
		case c == '\n':
			s.lines = append(s.lines, "")
			s.col = 0
		case c == 0x1b && i+2 < len(p) && p[i+1] == '[' && p[i+2] == 'K':
			*cur = (*cur)[:s.col]
			i += 2
		default:
			line := []byte(*cur)
			for len(line) < s.col {
				line = append(line, ' ')
			}
			if s.col < len(line) {
				line[s.col] = c
			} else {
				line = append(line, c)
			}
			*cur = string(line)
			s.col++
		}
	}
	return len(p), nil
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// With -q on a terminal, one status line, redrawn in place, shows the
// current play and task, the host results so far and the elapsed time;
// it is gone when the summary is printed. Real ansible-core runs under a
// pty, and the test reads the screen it would show.
func TestQuietProgressLineOnTerminal(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "gate")
	pdd := realPlaybook(t, `- name: deploy things
  hosts: all
  gather_facts: false
  tasks:
    - name: say hello
      debug: {msg: hello}
    - name: wait for the gate
      wait_for: {path: `+gate+`, timeout: 60}
`)
	defer os.WriteFile(gate, nil, 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "run", pdd, "-p", "site.yml", "-q", "--ident", "tty")
	cmd.Env = append(os.Environ(), "ARUNNER_TEST_MAIN=1")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 120})
	require.NoError(t, err)
	defer tty.Close()
	scr := &screen{}
	copied := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			scr.Write(buf[:n])
			if err != nil {
				close(copied)
				return
			}
		}
	}()
	status := regexp.MustCompile(`(?m)^0:00:\d\d PLAY deploy things \| TASK wait for the gate \| ok=1 changed=0 failed=0 unreachable=0$`)
	for deadline := time.Now().Add(60 * time.Second); !status.MatchString(scr.String()); time.Sleep(20 * time.Millisecond) {
		require.False(t, time.Now().After(deadline), "no status line; the screen shows:\n%s", scr.String())
	}
	shown := scr.String()
	assert.Equal(t, 1, strings.Count(shown, "\n")+1, "one line, redrawn in place:\n%s", shown)
	assert.NotContains(t, shown, "TASK [", "no ansible text")

	require.NoError(t, os.WriteFile(gate, nil, 0o600))
	require.NoError(t, cmd.Wait())
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		t.Fatal("the pty did not close")
	}
	final := scr.String()
	assert.True(t, strings.HasPrefix(final, "arunner: run tty successful, rc 0, in "), "the status line made way for the summary:\n%s", final)
	assert.Contains(t, final, "\n  localhost : ok=2 changed=0 unreachable=0 failed=0")
	assert.NotContains(t, final, "PLAY deploy things")
}

// An ad hoc command has no recap: its summary counts the results itself.
func TestSummaryAdHoc(t *testing.T) {
	pdd := realPlaybook(t, "[]\n")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, realMain([]string{"run", pdd, "-m", "ping", "--hosts", "all", "-j", "--ident", "adhoc"}, &stdout, &stderr), stderr.String())
	_, summary := cutSummary(stderr.String())
	assert.Contains(t, summary, "arunner: run adhoc successful, rc 0, in ")
	assert.Contains(t, summary, "\n  localhost : ok=1 changed=0 unreachable=0 failed=0 skipped=0 rescued=0 ignored=0\n")
}

// How long a run took is the longer of the Result's wall time and the span
// of its events: a saved stream (arunner process < stream) is read in no
// time, but its run took what its events say, not "0s".
func TestElapsedOf(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	tl := newTally(false)
	tl.first, tl.last = "2026-12-07T19:00:00.000000", "2026-12-07T19:00:03.500000"
	assert.Equal(t, 3500*time.Millisecond, elapsedOf(&runner.Result{Started: t0, Ended: t0.Add(time.Millisecond)}, tl), "a saved stream")
	assert.Equal(t, 4*time.Second, elapsedOf(&runner.Result{Started: t0, Ended: t0.Add(4 * time.Second)}, tl), "a live run")
	assert.Equal(t, 3500*time.Millisecond, elapsedOf(&runner.Result{}, tl), "artifacts read back")
	assert.Equal(t, 2*time.Second, elapsedOf(&runner.Result{Started: t0, Ended: t0.Add(2 * time.Second)}, nil), "no events")
}

// spanTally reads only the first and the last event's files.
func TestSpanTally(t *testing.T) {
	dir := t.TempDir()
	evs := filepath.Join(dir, "job_events")
	require.NoError(t, os.MkdirAll(evs, 0o700))
	for name, created := range map[string]string{"1-a": "2026-12-07T19:00:00.000000", "2-b": "2026-12-07T19:00:09.000000", "3-c": "2026-12-07T19:00:02.250000"} {
		require.NoError(t, os.WriteFile(filepath.Join(evs, name+".json"), []byte(`{"event": "x", "created": "`+created+`"}`), 0o600))
	}
	t0 := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	res := &runner.Result{ArtifactDir: dir, FinalCounter: 3, Started: t0, Ended: t0}
	assert.Equal(t, 2250*time.Millisecond, elapsedOf(res, spanTally(res)))
	res.FinalCounter = 4 // no such file
	assert.Nil(t, spanTally(res))
}
