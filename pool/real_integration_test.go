package pool

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

// Real playbooks through a pool worker process: the controller gets what
// a local run gives (status, rc, events, artifacts); the secret in env/
// reaches ansible and never the worker's log.
func TestPoolRealAnsible(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	ns := startServer(t)
	w := startWorker(t, ns.ClientURL(), "w", 2, "default")
	c := newClient(t, connect(t, ns.ClientURL()), Options{HeartbeatTimeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const secret = "pool-s3cret-token"
	plays := map[string]struct {
		play   string
		status runner.Status
		rc     int
	}{
		"ok": {`- hosts: all
  gather_facts: false
  tasks:
    - debug: {msg: "{{ lookup('env', 'POOL_TOKEN') | length }}"}
    - command: "true"
      loop: [1, 2, 3]
`, runner.StatusSuccessful, 0},
		"failed": {`- hosts: all
  gather_facts: false
  tasks:
    - fail: {msg: boom}
`, runner.StatusFailed, 2},
	}
	type result struct {
		res    *runner.Result
		err    error
		events []string
	}
	results := map[string]chan result{}
	for name, p := range plays {
		pdd := t.TempDir()
		for path, text := range map[string]string{
			"project/site.yml": p.play,
			"inventory/hosts":  "localhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n",
			"env/envvars":      `{"POOL_TOKEN": "` + secret + `"}`,
		} {
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(pdd, path)), 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(pdd, path), []byte(text), 0o600))
		}
		var names []string
		cfg := runner.Config{PrivateDataDir: pdd, Ident: name, Target: runner.Playbook{Path: "site.yml"},
			EventHandler: func(ev *events.Event) bool { names = append(names, ev.Event); return true }}
		job, err := c.Submit(ctx, "default", cfg, SubmitOptions{})
		require.NoError(t, err)
		ch := make(chan result, 1)
		results[name] = ch
		go func() {
			res, err := job.Wait(ctx)
			ch <- result{res, err, names}
		}()
	}
	for name, p := range plays {
		r := <-results[name]
		require.NotNil(t, r.res, "%s: %v", name, r.err)
		assert.Equal(t, p.status, r.res.Status, "%s: %v", name, r.err)
		assert.Equal(t, p.rc, r.res.RC, name)
		if p.rc != 0 {
			var exit *runner.ExitError
			assert.True(t, errors.As(r.err, &exit), "%s: %v", name, r.err)
		}
		assert.Equal(t, "playbook_on_start", r.events[0], name)
		assert.Equal(t, "playbook_on_stats", r.events[len(r.events)-1], name)
		stdout, err := os.ReadFile(filepath.Join(r.res.ArtifactDir, "stdout"))
		require.NoError(t, err)
		if name == "ok" {
			assert.Contains(t, string(stdout), `"msg": "17"`, "the secret reached ansible")
			assert.Equal(t, 3, strings.Count(string(stdout), "changed: [localhost] => (item="), "the loop")
		}
	}
	assert.NotContains(t, w.log.String(), secret)
	assertEmpty(t, c)
}
