package stream

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/conformance"
	"github.com/arunner/arunner/runner"
)

// These tests run one job on real ansible-core through each pairing of
// transmit | worker | process, arunner's and ansible-runner's, and compare
// what the process side left with a local arunner run of the same job.

// pairingPlaybook has a play of everything that crosses the stream
// differently: facts, loops, a vaulted var (answered on the worker's
// terminal from env/passwords), a failed task, a large output (a line
// longer than the stream reader's buffer), and an unreachable host.
const pairingPlaybook = `
- name: ok
  hosts: local
  gather_facts: false
  vars_files: [secret.yml]
  tasks:
    - setup: filter=ansible_system
    - debug: msg="item {{ item }} on {{ ansible_facts.system }}"
      loop: [1, 2, 3]
    - debug: var=vaulted
    - command: seq 1 30000
      changed_when: false
    - command: /bin/false
      ignore_errors: true
- name: unreachable
  hosts: gone
  gather_facts: false
  tasks:
    - ping:
`

// pairingPDD lays the job out in a new private data dir.
func pairingPDD(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pwfile := filepath.Join(dir, "vault-pw")
	require.NoError(t, os.WriteFile(pwfile, []byte("vault-pw-123\n"), 0o600))
	out, err := exec.Command("ansible-vault", "encrypt_string", "--vault-password-file", pwfile, "--name", "vaulted", "the vaulted value").Output()
	require.NoError(t, err)
	os.Remove(pwfile)
	files := map[string]string{
		"project/site.yml":   pairingPlaybook,
		"project/secret.yml": string(out),
		"inventory/hosts": "[local]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n" +
			"[gone]\nnohost ansible_host=127.0.0.1 ansible_port=1 ansible_user=nobody ansible_connection=ssh\n",
		"env/cmdline":   "--ask-vault-pass",
		"env/passwords": `{"^Vault password:\\s*?$": "vault-pw-123"}`,
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	}
	return dir
}

// copyPDD copies src to a new dir, as a fresh controller's copy of the job.
func copyPDD(t *testing.T, src string) string {
	t.Helper()
	return conformance.CopyDir(t, src)
}

func refCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ansible-runner", args...)
	cmd.Env = conformance.CleanEnv(nil)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestPairings(t *testing.T) {
	if testing.Short() {
		t.Skip("real ansible")
	}
	conformance.RequireTools(t, "ansible-playbook", "ansible-runner", "ansible-vault")
	src := pairingPDD(t)
	const ident = "pair"

	// The local run every pairing must look like.
	localPDD := copyPDD(t, src)
	var localStatuses []runner.Status
	localRes, localErr := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: localPDD, Ident: ident, Target: runner.Playbook{Path: "site.yml"},
		StatusHandler: func(u runner.StatusUpdate) { localStatuses = append(localStatuses, u.Status) },
	})
	require.NotNil(t, localRes)
	require.Equal(t, runner.StatusFailed, localRes.Status)
	require.Equal(t, 4, localRes.RC, "the unreachable host makes rc 4")
	var localExit *runner.ExitError
	require.ErrorAs(t, localErr, &localExit)
	require.Equal(t, []string{"nohost"}, localExit.Unreachable)
	local := conformance.ReadArtifacts(t, localRes.ArtifactDir)
	require.Contains(t, local.Stdout, "the vaulted value", "the vault prompt was answered")

	pairings := []struct {
		name        string
		refTransmit bool
		refWorker   bool
		refProcess  bool
	}{
		{"arunner|arunner|arunner", false, false, false},
		{"ansible-runner|arunner|arunner", true, false, false},
		{"arunner|ansible-runner|arunner", false, true, false},
		{"ansible-runner|arunner|ansible-runner (AWX)", true, false, true},
	}
	for _, p := range pairings {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			ctrl := copyPDD(t, src)
			workerPDD := filepath.Join(t.TempDir(), "worker")

			// transmit
			var job io.Reader
			if p.refTransmit {
				cmd := refCmd(ctx, "transmit", ctrl, "-p", "site.yml", "--ident", ident)
				out, err := cmd.Output()
				require.NoError(t, err)
				job = bytes.NewReader(out)
			} else {
				var buf bytes.Buffer
				require.NoError(t, Transmit(&buf, runner.Config{PrivateDataDir: ctrl, Ident: ident, Target: runner.Playbook{Path: "site.yml"}}))
				job = &buf
			}

			// worker
			var results bytes.Buffer
			if p.refWorker {
				cmd := refCmd(ctx, "worker", "--private-data-dir", workerPDD)
				cmd.Stdin, cmd.Stdout = job, &results
				err := cmd.Run()
				var exit *exec.ExitError
				if err != nil && !assert.ErrorAs(t, err, &exit) {
					return
				}
			} else {
				_, err := Worker(ctx, job, &results, WorkerOptions{PrivateDataDir: workerPDD})
				var exit *runner.ExitError
				require.ErrorAs(t, err, &exit)
			}

			// process
			procPDD := t.TempDir()
			var statuses []runner.Status
			var finished *runner.Result
			if p.refProcess {
				cmd := refCmd(ctx, "process", procPDD, "--ident", ident)
				cmd.Stdin = &results
				require.NoError(t, cmd.Run())
			} else {
				res, err := Process(ctx, &results, runner.Config{
					PrivateDataDir:   procPDD,
					StatusHandler:    func(u runner.StatusUpdate) { statuses = append(statuses, u.Status) },
					FinishedCallback: func(r *runner.Result) { finished = r },
				})
				var exit *runner.ExitError
				require.ErrorAs(t, err, &exit)
				assert.Equal(t, localExit.Error(), exit.Error(), "the same error as the local run's, hosts and last failure named")
				assert.Equal(t, localRes.Status, res.Status)
				assert.Equal(t, localRes.RC, res.RC)
				assert.Equal(t, ident, res.Ident)
				assert.Equal(t, localStatuses, statuses)
				assert.Same(t, res, finished)
				assert.Equal(t, localRes.FinalCounter, res.FinalCounter)
				require.NotNil(t, res.Stats())
				assert.Equal(t, localRes.Stats(), res.Stats())
				assert.Equal(t, len(localRes.Command), len(res.Command))
			}

			got := conformance.ReadArtifacts(t, filepath.Join(procPDD, "artifacts", ident))
			got.PrivateDataDir = workerPDD // the paths in it are the worker's
			var opts conformance.Options
			if p.refWorker {
				// ansible-runner's worker records ansible-runner's environment.
				opts.NoCommand = true
			} else {
				// Both sides are arunner's.
				opts.EnvOnlyRef = conformance.DeliberateEnvDifferences.OnlyOurs
			}
			conformance.Compare(t, got, local, opts)
			conformance.CompareEventData(t, got, local, opts)
			assert.Contains(t, got.Stdout, "the vaulted value")
			assert.False(t, strings.Contains(string(mustRead(t, filepath.Join(procPDD, "artifacts", ident, "command"))), "vault-pw-123"))
		})
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}
