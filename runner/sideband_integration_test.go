package runner

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
)

// A Wrap that cannot pass descriptor 3 through removes ARUNNER_EVENT_FD, and
// the plugin falls back to in-band tokens: the same playbook then gives the
// same events, stdout and artifacts as with the side band, whose pipe carries
// the JSON otherwise, usually with the event's text. Under a pty and
// through pipes (NoPTY) alike, and after a task turned the terminal's
// output processing off, when the text must stay on the terminal.
func TestSideBandAndInBandAgree(t *testing.T) {
	needAnsible(t)
	for _, noPTY := range []bool{false, true} {
		t.Run(map[bool]string{false: "pty", true: "NoPTY"}[noPTY], func(t *testing.T) {
			testSideBandAndInBandAgree(t, noPTY)
		})
	}
}

func testSideBandAndInBandAgree(t *testing.T, noPTY bool) {
	play := `- hosts: all
  gather_facts: false
  tasks:
    - name: loop
      debug:
        msg: "item {{ item }} caf\u00e9"
      loop: [1, 2, 3]
    - name: fail softly
      fail:
        msg: "not really"
      ignore_errors: true
    - name: big
      debug:
        msg: "{{ 'x' * 100000 }}"
    - name: output processing off (a task could; pause does for a moment)
      shell: stty -opost < /dev/tty 2>/dev/null || true # no terminal with NoPTY
      changed_when: false
    - name: after stty
      debug:
        msg: "no \\r before this line's end"
`
	run := func(wrap func(*Command) error) (*Result, []*events.Event, string) {
		pdd := t.TempDir()
		// One host: with two, their results may come in either order.
		writeTree(t, pdd, map[string]string{"project/p.yml": play,
			"inventory/hosts": "h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"})
		var evs []*events.Event
		res, err := Run(context.Background(), Config{
			PrivateDataDir: pdd, Target: Playbook{Path: "p.yml"}, Wrap: wrap, NoPTY: noPTY,
			EventHandler: func(e *events.Event) bool { evs = append(evs, e); return true },
		})
		require.NoError(t, err)
		require.Equal(t, StatusSuccessful, res.Status)
		require.Empty(t, res.FrameErrors)
		out, err := os.ReadFile(filepath.Join(res.ArtifactDir, "stdout"))
		require.NoError(t, err)
		return res, evs, string(out)
	}
	var sawFD string
	sideRes, side, sideOut := run(func(c *Command) error { sawFD = c.Env[eventproto.SideBandEnv]; return nil })
	assert.Equal(t, "3", sawFD, "the side band is on by default")
	inRes, in, inOut := run(func(c *Command) error { delete(c.Env, eventproto.SideBandEnv); return nil })
	recorded := func(res *Result) map[string]string {
		var cmd struct{ Env map[string]string }
		b, err := os.ReadFile(filepath.Join(res.ArtifactDir, "command"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &cmd))
		return cmd.Env
	}
	assert.Equal(t, "3", recorded(sideRes)[eventproto.SideBandEnv])
	assert.NotContains(t, recorded(inRes), eventproto.SideBandEnv)
	// Every event's JSON came through the pipe, none in-band.
	assert.Equal(t, len(side), sideRes.sideRecords, "side-band records")
	assert.Zero(t, inRes.sideRecords)

	type key struct {
		event, host, task, stdout string
		counter, start, end       int
		changed, failed           bool
	}
	keys := func(evs []*events.Event) (out []key) {
		for _, e := range evs {
			out = append(out, key{e.Event, e.Host(), e.Task(), e.Stdout, e.Counter, e.StartLine, e.EndLine, e.Changed(), e.Failed()})
		}
		return out
	}
	assert.Equal(t, keys(in), keys(side))
	// Not assert.Equal: a difference in 100 KB would bury the report.
	assert.True(t, inOut == sideOut, "stdout artifacts differ:\nin-band %d bytes, side band %d bytes, first difference at %d",
		len(inOut), len(sideOut), firstDiff(inOut, sideOut))
	assert.Equal(t, inRes.FinalCounter, sideRes.FinalCounter)
	require.NotEmpty(t, inRes.Stats().Processed)
	assert.Equal(t, inRes.Stats(), sideRes.Stats())
	files, err := os.ReadDir(filepath.Join(sideRes.ArtifactDir, "job_events"))
	require.NoError(t, err)
	assert.Len(t, files, len(side))
}

// firstDiff returns the offset of the first byte where a and b differ.
func firstDiff(a, b string) int {
	for i := 0; i < min(len(a), len(b)); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A sandbox that passes the environment on but puts another pipe at
// descriptor 3 (here bash, with a process substitution) must not get event
// JSON written into that pipe: the plugin checks the pipe's inode, falls
// back to in-band tokens, and the run's events are whole.
func TestSideBandRefusesAnotherPipe(t *testing.T) {
	needAnsible(t)
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not on PATH")
	}
	pdd := t.TempDir()
	writeTree(t, pdd, map[string]string{
		"project/p.yml":   "- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: {msg: hello}\n",
		"inventory/hosts": "h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
	})
	captured := filepath.Join(t.TempDir(), "fd3")
	var evs []*events.Event
	res, err := Run(context.Background(), Config{
		PrivateDataDir: pdd, Target: Playbook{Path: "p.yml"},
		Wrap: func(c *Command) error {
			c.Argv = append([]string{"bash", "-c", `exec 3> >(cat > "$0"); exec "$@"`, captured}, c.Argv...)
			return nil
		},
		EventHandler: func(e *events.Event) bool { evs = append(evs, e); return true },
	})
	require.NoError(t, err)
	assert.Empty(t, res.FrameErrors)
	var names []string
	for _, e := range evs {
		names = append(names, e.Event)
	}
	assert.Contains(t, names, "runner_on_ok")
	assert.Contains(t, names, "playbook_on_stats")
	got, err := os.ReadFile(captured)
	require.NoError(t, err)
	assert.Empty(t, string(got), "event JSON went into a pipe that was not the side band")
}
