package eventproto_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/conformance"
	"github.com/arunner/arunner/internal/eventproto"
)

// pluginUUIDs loads the plugin in ansible's Python, takes 600 event uuids
// (the pool refills every 256), forks, takes 10 in the child and 10 more
// in the parent, and prints them all.
const pluginUUIDs = `
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location('arunner_plugin', sys.argv[1])
m = importlib.util.module_from_spec(spec)
spec.loader.exec_module(m)
parent = [m._new_uuid() for _ in range(600)]
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.write(w, json.dumps([m._new_uuid() for _ in range(10)]).encode())
    os._exit(0)
os.close(w)
child = json.loads(os.read(r, 1 << 16))
os.waitpid(pid, 0)
json.dump({'parent': parent + [m._new_uuid() for _ in range(10)], 'child': child}, sys.stdout)
`

// The plugin makes event uuids 256 at a time from one os.urandom read
// instead of calling uuid.uuid4 per event. They must still be random
// version-4 UUIDs, never repeat, and a forked child must not hand out the
// ones its parent has yet to use.
func TestPluginUUIDs(t *testing.T) {
	conformance.RequireTools(t, "ansible-playbook")
	dir, err := eventproto.InstallPlugin(filepath.Join(t.TempDir(), "callback"))
	require.NoError(t, err)
	// ansible-playbook's interpreter on Debian, where ansible-core lives.
	out, err := exec.Command("/usr/bin/python3", "-c", pluginUUIDs,
		filepath.Join(dir, eventproto.StdoutCallback+".py")).Output()
	require.NoError(t, err, "%s", exitText(err))
	var got struct{ Parent, Child []string }
	require.NoError(t, json.Unmarshal(out, &got))
	require.Len(t, got.Parent, 610)
	require.Len(t, got.Child, 10)

	seen := map[string]string{}
	for who, ids := range map[string][]string{"parent": got.Parent, "child": got.Child} {
		for _, s := range ids {
			u, err := uuid.Parse(s)
			require.NoError(t, err, s)
			assert.Equal(t, s, u.String(), "canonical form")
			assert.Equal(t, uuid.Version(4), u.Version(), s)
			assert.Equal(t, uuid.RFC4122, u.Variant(), s)
			if prev, dup := seen[s]; dup {
				t.Errorf("uuid %s handed out by the %s and the %s", s, prev, who)
			}
			seen[s] = who
		}
	}
}

// exitText is a failed command's stderr, for the failure message.
func exitText(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
