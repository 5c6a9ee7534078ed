package eventproto_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/conformance"
	"github.com/arunner/arunner/internal/eventproto"
)

// pluginChild is the start of a forked child in the scripts below: its
// stdout the pty's slave, the side band w, the window given, the plugin
// loaded as m, and a Display as d.
const pluginChild = `    os.dup2(slave, 1)
    os.environ['ARUNNER_EVENT_FD'] = '%d:%d' % (w, os.fstat(w).st_ino)
    os.environ['ARUNNER_EVENT_WINDOW_MS'] = window
    spec = importlib.util.spec_from_file_location('arunner_plugin', plugin)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    from ansible.utils.display import Display
    d = Display()
`

// pluginHold runs the plugin in a forked child whose stdout is a pty and
// whose side band is a pipe, with the window given, and prints what the
// side band held at each step as lists of the records' texts:
//
//	now:   three events in a row
//	held:  one event, then two more at once
//	later: with "wait", what came within 30 s after that, with no event to push it
//	exit:  what came after the child exited normally
//	markers_in_order: whether the terminal got the records' markers, in order
const pluginHold = `
import importlib.util, json, os, pty, select, sys, time
plugin, window, wait = sys.argv[1], sys.argv[2], sys.argv[3] == 'wait'
r, w = os.pipe()
go_r, go_w = os.pipe()    # parent -> child: go on
step_r, step_w = os.pipe()  # child -> parent: a step is done
master, slave = pty.openpty()
pid = os.fork()
if pid == 0:
` + pluginChild + `    def step():
        os.write(step_w, b'.')
        os.read(go_r, 1)
    d.display('one')
    step()
    d.display('two')
    d.display('three')
    step()
    sys.exit(0)  # atexit must write what is still held

os.set_blocking(r, False)
os.set_blocking(master, False)
def texts():
    out = b''
    while True:
        try:
            b = os.read(r, 1 << 16)
        except BlockingIOError:
            break
        if not b:
            break
        out += b
    return [json.loads(l.partition(b' ')[2])['stdout'] for l in out.splitlines()]
res = {}
os.read(step_r, 1)
res['first'] = texts()
os.write(go_w, b'.')
os.read(step_r, 1)
res['now'] = texts()
if wait:
    got, deadline = [], time.time() + 30
    while len(got) < 2 and time.time() < deadline:
        select.select([r], [], [], 0.5)
        got += texts()
    res['later'] = got
os.write(go_w, b'.')
os.waitpid(pid, 0)
res['exit'] = texts()
term = b''
while True:
    try:
        b = os.read(master, 1 << 16)
    except (BlockingIOError, OSError):
        break
    term += b
spec = importlib.util.spec_from_file_location('arunner_plugin', plugin)
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
pos, ok = 0, True
for seq in (1, 2, 3):
    i = term.find(m._token('{"arunner_rec": %d}' % seq, '').encode(), pos)
    ok = ok and i >= pos
    pos = i
res['markers_in_order'] = ok
json.dump(res, sys.stdout)
`

// When events come faster than one a window, the plugin holds them and
// writes them together at the window's end (fewer writes and wake-ups). An
// event after a quiet spell must still go out at once, a held one must go
// out at the window's end with nothing after it to push it, none may be
// lost at exit, and the markers must keep the records' order.
func TestPluginHoldsEvents(t *testing.T) {
	conformance.RequireTools(t, "ansible-playbook")
	dir, err := eventproto.InstallPlugin(filepath.Join(t.TempDir(), "callback"))
	require.NoError(t, err)
	plugin := filepath.Join(dir, eventproto.StdoutCallback+".py")
	run := func(t *testing.T, window, wait string) map[string]any {
		out, err := exec.Command("/usr/bin/python3", "-c", pluginHold, plugin, window, wait).Output()
		require.NoError(t, err, "%s", exitText(err))
		var res map[string]any
		require.NoError(t, json.Unmarshal(out, &res), "%s", out)
		return res
	}
	list := func(s ...any) []any { return s }

	t.Run("window", func(t *testing.T) {
		res := run(t, "3000", "wait") // long enough that the held check cannot race it
		assert.Equal(t, list("one\n"), res["first"], "the first event goes out at once")
		assert.Empty(t, res["now"], "events within the window are held")
		assert.Equal(t, list("two\n", "three\n"), res["later"], "held events go out at the window's end")
		assert.Empty(t, res["exit"])
		assert.Equal(t, true, res["markers_in_order"])
	})
	t.Run("exit", func(t *testing.T) {
		res := run(t, "600000", "-")
		assert.Equal(t, list("one\n"), res["first"])
		assert.Empty(t, res["now"])
		assert.Equal(t, list("two\n", "three\n"), res["exit"], "a normal exit writes what is held")
		assert.Equal(t, true, res["markers_in_order"])
	})
	t.Run("no window", func(t *testing.T) {
		res := run(t, "0", "-")
		assert.Equal(t, list("one\n"), res["first"])
		assert.Equal(t, list("two\n", "three\n"), res["now"], "with no window each event goes out at once")
		assert.Empty(t, res["exit"])
		assert.Equal(t, true, res["markers_in_order"])
	})
}

// pluginFlags runs the plugin in a forked child whose stdout is a pty, with
// the window given: the child prints "one", turns the terminal's output
// processing off, prints "two" at once and "three" after twice the window
// (at least 300 ms), and exits. It prints, for each record in order, the
// text the record carries, or null when the text stayed on the terminal.
const pluginFlags = `
import importlib.util, json, os, pty, sys, termios, time
plugin, window = sys.argv[1], sys.argv[2]
r, w = os.pipe()
master, slave = pty.openpty()
pid = os.fork()
if pid == 0:
` + pluginChild + `    os.close(master)
    d.display('one')
    attrs = termios.tcgetattr(1)
    attrs[1] &= ~termios.OPOST
    termios.tcsetattr(1, termios.TCSANOW, attrs)
    d.display('two')
    time.sleep(max(0.3, 2 * int(window) / 1000.0))
    d.display('three')
    sys.exit(0)
os.close(w)
os.close(slave)
out = b''
while True:
    b = os.read(r, 1 << 16)
    if not b:
        break
    out += b
os.waitpid(pid, 0)
json.dump([json.loads(l.partition(b' ')[2]).get('stdout') for l in out.splitlines()], sys.stdout)
`

// The plugin puts an event's text in its record only while the terminal
// does no more than the default output processing, which the runner then
// applies itself. It reads the terminal's flags at most once a window (each
// read cost ~12 us an event): a change is seen by the first event a window
// after the last read, and with no window by the next event.
func TestPluginRereadsTerminalFlags(t *testing.T) {
	conformance.RequireTools(t, "ansible-playbook")
	dir, err := eventproto.InstallPlugin(filepath.Join(t.TempDir(), "callback"))
	require.NoError(t, err)
	plugin := filepath.Join(dir, eventproto.StdoutCallback+".py")
	run := func(t *testing.T, window string) []any {
		out, err := exec.Command("/usr/bin/python3", "-c", pluginFlags, plugin, window).Output()
		require.NoError(t, err, "%s", exitText(err))
		var res []any
		require.NoError(t, json.Unmarshal(out, &res), "%s", out)
		return res
	}
	t.Run("window", func(t *testing.T) {
		// "two" comes within the window of the read for "one": that read
		// stands, as if "two" had been printed before the change.
		assert.Equal(t, []any{"one\n", "two\n", nil}, run(t, "200"))
	})
	t.Run("no window", func(t *testing.T) {
		assert.Equal(t, []any{"one\n", nil, nil}, run(t, "0"))
	})
}
