package eventproto_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/conformance"
	"github.com/arunner/arunner/internal/eventproto"
)

// pluginStdout frames one hook as the plugin does, in-band on stdout (a
// pipe, with stderr on it too), while it prints as a stdout callback may:
// straight to sys.stdout (as community.general.dense does), through
// Display, through Display to stderr, and straight to sys.stdout again.
// Then it prints outside any event.
const pluginStdout = `
import importlib.util, os, sys
os.dup2(1, 2)
os.environ.pop('ARUNNER_EVENT_FD', None)
spec = importlib.util.spec_from_file_location('arunner_plugin', sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
from ansible.utils.display import Display
d = Display()
with m._Event({'event': 'runner_on_ok', 'uuid': 'u1'}):
    sys.stdout.write('direct ')
    print('print')
    d.display('display')
    sys.stdout.write('before stderr\n')
    d.display('stderr', stderr=True)
    sys.stdout.write('after stderr\n')
sys.stdout.write('outside\n')
`

// Text that a stdout callback writes to sys.stdout itself during a hook
// belongs to the hook's event, in the order it was written, as it does in
// ansible-runner, whose display writes the event's tokens around it.
func TestPluginFramesDirectStdout(t *testing.T) {
	conformance.RequireTools(t, "ansible-playbook")
	dir, err := eventproto.InstallPlugin(filepath.Join(t.TempDir(), "callback"))
	require.NoError(t, err)
	out, err := exec.Command("/usr/bin/python3", "-c", pluginStdout, filepath.Join(dir, eventproto.StdoutCallback+".py")).Output()
	require.NoError(t, err, "%s", exitText(err))

	var evs []*events.Event
	var text bytes.Buffer
	f := eventproto.NewFilter(eventproto.FilterConfig{
		Handle:  func(e *events.Event) error { evs = append(evs, e); return nil },
		Text:    &text,
		OnError: func(err error) { t.Errorf("frame error: %v", err) },
	})
	_, err = f.Write(out)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.Len(t, evs, 2, "%q", text.String())
	assert.Equal(t, events.RunnerOnOK, evs[0].Event)
	assert.Equal(t, "direct print\ndisplay\nbefore stderr\nstderr\nafter stderr", evs[0].Stdout)
	assert.Equal(t, events.Verbose, evs[1].Event)
	assert.Equal(t, "outside", evs[1].Stdout)
}
