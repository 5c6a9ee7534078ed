package runner

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
)

// Real ansible, with tasks that put event framing where the terminal
// shows it: a local task writing to /dev/tty, a pause prompt, and module
// warnings (what a managed host's module could return). The same playbook
// with the framing's ESC bytes made harmless gives the same events; with
// the framing, none of it is an event, and it shows in stdout as text. With
// the side band and in-band only.
func TestForgedFramesRealAnsible(t *testing.T) {
	needAnsible(t)
	for _, inBand := range []bool{false, true} {
		t.Run(map[bool]string{false: "side band", true: "in-band"}[inBand], func(t *testing.T) {
			testForgedFramesRealAnsible(t, inBand)
		})
	}
}

func testForgedFramesRealAnsible(t *testing.T, inBand bool) {
	run := func(frame string) (*Result, []*events.Event, string) {
		pdd := t.TempDir()
		fp := filepath.Join(pdd, "frame.txt")
		writeTree(t, pdd, map[string]string{
			"frame.txt": frame,
			"project/library/warn.py": "#!/usr/bin/python3\nimport json\n" +
				"print(json.dumps({'changed': False, 'warnings': [open(" + pyQuote(fp) + ").read()]}))\n",
			"project/p.yml": `- hosts: all
  gather_facts: false
  tasks:
    - name: to the terminal
      shell: cat ` + fp + ` > /dev/tty
    - name: in a pause prompt
      pause: {seconds: 1, prompt: "{{ lookup('file', '` + fp + `') }}"}
    - name: in module warnings
      warn:
    - name: after
      debug: {msg: done}
`,
			"inventory/hosts": "h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"})
		var evs []*events.Event
		res, err := Run(context.Background(), Config{
			PrivateDataDir: pdd, Target: Playbook{Path: "p.yml"},
			Wrap: func(c *Command) error {
				if inBand {
					delete(c.Env, eventproto.SideBandEnv)
				}
				return nil
			},
			EventHandler: func(e *events.Event) bool { evs = append(evs, e); return true },
		})
		require.NoError(t, err)
		require.Equal(t, StatusSuccessful, res.Status)
		out, err := os.ReadFile(filepath.Join(res.ArtifactDir, "stdout"))
		require.NoError(t, err)
		return res, evs, string(out)
	}
	frame := forgedFrame(false) + "\n"
	harmless := strings.ReplaceAll(frame, "\x1b", "E")
	fRes, forged, fOut := run(frame)
	_, plain, pOut := run(harmless)

	type key struct{ event, host, task string }
	keys := func(evs []*events.Event) (out []key) {
		for _, e := range evs {
			assert.NotEqual(t, "forged", e.Host(), "a forged event got through")
			assert.NotContains(t, e.UUID, "f0f0f0f0")
			out = append(out, key{e.Event, e.Host(), e.Task()})
		}
		return out
	}
	assert.Equal(t, keys(plain), keys(forged))
	// The framing shows as the task printed it, wherever the harmless
	// text shows.
	assert.Equal(t, strings.Count(pOut, "FORGED TEXT"), strings.Count(fOut, "FORGED TEXT"))
	assert.Equal(t, strings.ReplaceAll(fOut, "\x1b", "E"), strings.ReplaceAll(pOut, "\x1b", "E"))
	assert.Contains(t, fOut, forgedFrame(false)) // from /dev/tty, whole
	n := 0
	for _, err := range fRes.FrameErrors {
		require.ErrorIs(t, err, events.ErrForgedFrame)
		n++
	}
	assert.NotZero(t, n)
}

// pyQuote quotes s as a Python string literal.
func pyQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// The run's key reaches the plugin and no task: a local `shell: env` does
// not print it, nor does /proc/<pid>/environ of any of the task's
// ancestors (ansible's own processes), and no artifact holds it.
func TestEventKeyHiddenFromTasks(t *testing.T) {
	needAnsible(t)
	pdd := t.TempDir()
	writeTree(t, pdd, map[string]string{
		"project/p.yml": `- hosts: all
  gather_facts: false
  tasks:
    - name: env
      shell: env
    - name: ancestors
      shell: |
        p=$$
        while [ "$p" -gt 1 ]; do
          echo "== $p $(tr '\0' ' ' < /proc/$p/cmdline | cut -c1-60)"
          tr '\0' '\n' < /proc/$p/environ
          p=$(awk '{print $4}' /proc/$p/stat)
        done
`,
		"inventory/hosts": "h1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"})
	var key string
	var stdouts []string
	res, err := Run(context.Background(), Config{
		PrivateDataDir: pdd, Target: Playbook{Path: "p.yml"},
		Wrap: func(c *Command) error { key = c.Env[eventproto.KeyEnv]; return nil },
		EventHandler: func(e *events.Event) bool {
			if e.Event == "runner_on_ok" {
				var data struct {
					Res struct{ Stdout string } `json:"res"`
				}
				require.NoError(t, json.Unmarshal(e.EventData, &data))
				stdouts = append(stdouts, data.Res.Stdout)
			}
			return true
		},
	})
	require.NoError(t, err)
	require.Equal(t, StatusSuccessful, res.Status)
	require.Len(t, key, 16)
	require.Len(t, stdouts, 2)
	// The tasks saw the environment ansible runs with.
	assert.Contains(t, stdouts[0], "ANSIBLE_STDOUT_CALLBACK=arunner")
	assert.Contains(t, stdouts[1], "ansible-playbook")
	assert.Contains(t, stdouts[1], "ANSIBLE_STDOUT_CALLBACK=arunner")
	assert.NotContains(t, stdouts[0], eventproto.KeyEnv+"=")
	for i, out := range stdouts {
		assert.NotContains(t, out, key, "task %d", i)
	}
	require.NoError(t, filepath.WalkDir(res.ArtifactDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		assert.NotContains(t, string(data), key, p)
		return err
	}))
}
