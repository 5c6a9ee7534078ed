package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/inventory"
	"github.com/arunner/arunner/isolation"
	"github.com/arunner/arunner/runner"
)

// A kwargs line as ansible-runner 2.3.1's CLI transmit writes it (forks as
// text, nulls for what was not given, its container default).
const refKwargs = `{"ident": "s1", "binary": null, "playbook": "test.yml", "module": null, "module_args": null, "host_pattern": null, "verbosity": 2, "quiet": false, "rotate_artifacts": 0, "json_mode": false, "omit_event_data": false, "only_failed_event_data": false, "inventory": "inventory/hosts", "forks": "3", "project_dir": null, "artifact_dir": null, "roles_path": null, "process_isolation": null, "process_isolation_executable": null, "process_isolation_path": null, "process_isolation_hide_paths": null, "process_isolation_show_paths": null, "process_isolation_ro_paths": null, "container_image": "quay.io/ansible/ansible-runner:devel", "container_volume_mounts": null, "container_options": null, "directory_isolation_base_path": null, "limit": "x", "suppress_env_files": false}`

func TestKwargsFromReference(t *testing.T) {
	cfg, err := kwargsConfig(json.RawMessage(refKwargs), "/w")
	require.NoError(t, err)
	assert.Equal(t, runner.Config{
		PrivateDataDir: "/w", Ident: "s1",
		Target:    runner.Playbook{Path: "test.yml", Switches: runner.Switches{Verbosity: 2, Forks: 3, Limit: "x"}},
		Inventory: runner.Inventory{Sources: []string{"/w/inventory/hosts"}},
	}, cfg)

	cfg, err = kwargsConfig(json.RawMessage(`{"envvars": {"ANSIBLE_ROLES_PATH": "r", "N": 1, "B": true}, "inventory": "h1,h2,", "settings": {"idle_timeout": 7}, "timeout": 9, "tags": "a,b", "passwords": {"b": "2", "a": "1"}}`), "/w")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"ANSIBLE_ROLES_PATH": "/w/roles/r", "N": "1", "B": "True"}, cfg.EnvVars)
	assert.Equal(t, []string{"h1,h2,"}, cfg.Inventory.Sources, "an inline host list is no path")
	assert.Equal(t, []runner.Password{{Pattern: "a", Response: "1"}, {Pattern: "b", Response: "2"}}, cfg.Passwords)
	assert.Equal(t, 7*time.Second, cfg.IdleTimeout)
	assert.Equal(t, 9*time.Second, cfg.JobTimeout)
	assert.Nil(t, cfg.Target, "no playbook, module or role: the args file runs")
	cfg, err = kwargsConfig(json.RawMessage(`{"playbook": "p.yml", "tags": "a,b", "module": "ping", "host_pattern": "web"}`), "/w")
	require.NoError(t, err)
	assert.Equal(t, runner.AdHoc{Module: "ping", Hosts: "web"}, cfg.Target, "a module wins, as in ansible-runner")
	cfg, err = kwargsConfig(json.RawMessage(`{"playbook": "p.yml", "tags": "a,b"}`), "/w")
	require.NoError(t, err)
	assert.Equal(t, runner.Playbook{Path: "p.yml", Tags: []string{"a", "b"}}, cfg.Target)

	for in, key := range map[string]string{
		`{"frobnicate": 1}`:                       "frobnicate",
		`{"forks": "many"}`:                       "forks",
		`{"playbook": 3}`:                         "playbook",
		`{"directory_isolation_base_path": "/x"}`: "directory_isolation_base_path",
		`[1]`: "kwargs",
	} {
		_, err := kwargsConfig(json.RawMessage(in), "/w")
		var ke *KwargsError
		require.ErrorAs(t, err, &ke, in)
		assert.Equal(t, key, ke.Key)
	}
	_, err = kwargsConfig(json.RawMessage(`{"directory_isolation_base_path": "/x"}`), "/w")
	assert.ErrorIs(t, err, runner.ErrIsolationUnsupported)

	// Process isolation travels both ways.
	iso := &isolation.Options{Enabled: true, Executable: "bwrap", ROPaths: []string{"/opt"}, Image: "ee:1", ContainerOptions: []string{"--net=host"}}
	k, _, err := configKwargs(runner.Config{PrivateDataDir: "/c", Isolation: iso})
	require.NoError(t, err)
	b, err := json.Marshal(k)
	require.NoError(t, err)
	cfg, err = kwargsConfig(b, "/w")
	require.NoError(t, err)
	assert.Equal(t, iso, cfg.Isolation)
}

func TestTransmitRefuses(t *testing.T) {
	for field, cfg := range map[string]runner.Config{
		"Credentials":    {Credentials: []credentials.Credential{credentials.Vault{VaultPassword: "x"}}},
		"SSHKeys":        {SSHKeys: []runner.SSHKey{{PEM: []byte("k")}}},
		"ProjectDir":     {Target: runner.Role{Name: "r"}, ProjectDir: "/srv/project"},
		"Inventory.None": {Inventory: runner.Inventory{None: true}},
		"Wrap":           {Wrap: func(*runner.Command) error { return nil }},
	} {
		cfg.PrivateDataDir = t.TempDir()
		var buf bytes.Buffer
		err := Transmit(&buf, cfg)
		require.ErrorIs(t, err, ErrNotTransmittable, field)
		var ke *KwargsError
		require.ErrorAs(t, err, &ke)
		assert.Equal(t, "Config."+field, ke.Key)
		assert.Empty(t, buf.Bytes(), "nothing is sent")
	}
	// What a local run refuses too.
	for field, cfg := range map[string]runner.Config{
		"Binary":    {Target: runner.RawCommand{Argv: []string{"ansible", "--version"}}, Binary: "/bin/true"},
		"Inventory": {Target: runner.RawCommand{Argv: []string{"ansible", "--version"}}, Inventory: runner.Inventory{Text: "h"}},
		"ProjectFS": {ProjectFS: fstest.MapFS{}, ProjectDir: "/srv/project"},
	} {
		cfg.PrivateDataDir = t.TempDir()
		var buf bytes.Buffer
		err := Transmit(&buf, cfg)
		var ke *KwargsError
		require.ErrorAs(t, err, &ke, field)
		assert.Equal(t, "Config."+field, ke.Key)
		assert.Empty(t, buf.Bytes(), "nothing is sent")
	}
}

// argvFake prints its command line, one argument a line, between markers.
// It lingers a moment before exiting: ansible-runner (pexpect) loses the
// output of a child that exits at once, now and then (seen under load).
const argvFake = `#!/bin/sh
echo ARGV-BEGIN
for a in "$@"; do echo "$a"; done
echo ARGV-END
echo "FOO=$FOO"
sleep 1
`

// TestKwargsBothWorkers sends a Config with every kwarg Transmit writes to
// ansible-runner's worker and to arunner's: both take every key, and both
// build the same ansible command line from it.
func TestKwargsBothWorkers(t *testing.T) {
	if _, err := exec.LookPath("ansible-runner"); err != nil {
		t.Skip("ansible-runner is not installed")
	}
	bin := filepath.Join(t.TempDir(), "fake-ansible-playbook")
	require.NoError(t, os.WriteFile(bin, []byte(argvFake), 0o700))
	pdd := tree(t, map[string]string{"project/site.yml": "[]\n", "inventory/hosts": "localhost\n"})
	cfg := runner.Config{
		PrivateDataDir: pdd, Ident: "kw", Binary: bin, Cmdline: "--flush-cache",
		Target: runner.Playbook{
			Path: "site.yml", Tags: []string{"a", "b"}, SkipTags: []string{"c"},
			Switches: runner.Switches{Limit: "web", Forks: 7, Verbosity: 3, Check: true, Diff: true, BecomeUser: "admin"},
		},
		Inventory:  runner.Inventory{Sources: []string{"hosts"}},
		EnvVars:    map[string]string{"FOO": "bar"},
		JobTimeout: time.Minute, IdleTimeout: time.Minute,
	}
	job := transmitted(t, cfg)

	argvOf := func(stream []byte) []string {
		t.Helper()
		res, err := Process(context.Background(), bytes.NewReader(stream), runner.Config{PrivateDataDir: t.TempDir()})
		require.NoError(t, err, "%s", stream)
		b, err := os.ReadFile(filepath.Join(res.ArtifactDir, "stdout"))
		require.NoError(t, err)
		out := strings.ReplaceAll(string(b), "\r\n", "\n")
		assert.Contains(t, out, "FOO=bar")
		_, rest, _ := strings.Cut(out, "ARGV-BEGIN\n")
		args, _, _ := strings.Cut(rest, "ARGV-END")
		return strings.Split(strings.TrimSpace(args), "\n")
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	refPDD := filepath.Join(t.TempDir(), "ref")
	cmd := refCmd(ctx, "worker", "--private-data-dir", refPDD)
	cmd.Stdin = bytes.NewReader(job)
	refStream, err := cmd.Output()
	require.NoError(t, err)
	ref := argvOf(refStream)

	ourPDD := filepath.Join(t.TempDir(), "ours")
	var ourStream bytes.Buffer
	_, err = Worker(ctx, bytes.NewReader(job), &ourStream, WorkerOptions{PrivateDataDir: ourPDD})
	require.NoError(t, err)
	ours := argvOf(ourStream.Bytes())

	norm := func(argv []string, pdd string) []string {
		out := make([]string, len(argv))
		for i, a := range argv {
			out[i] = strings.ReplaceAll(a, pdd, "PDD")
		}
		return out
	}
	// With a binary of its own, ansible-runner leaves the playbook off the
	// command line (its "raw" mode); arunner keeps it.
	require.NotEmpty(t, ours)
	assert.Equal(t, "site.yml", ours[len(ours)-1])
	assert.Equal(t, norm(ref, refPDD), norm(ours[:len(ours)-1], ourPDD))
	assert.Contains(t, ours, "--check")
	assert.Contains(t, ours, "web")
}

// TestRoleBothWorkers: a role run is transmitted as the one-play playbook
// that runs it, which both workers run from their own roles/.
func TestRoleBothWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("real ansible")
	}
	for _, tool := range []string{"ansible-playbook", "ansible-runner"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	pdd := tree(t, map[string]string{
		"roles/greet/tasks/main.yml": "- debug: msg=\"hello {{ who }}\"\n",
		"inventory/hosts":            "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
	})
	cfg := runner.Config{PrivateDataDir: pdd, Ident: "role", Target: runner.Role{Name: "greet", Vars: map[string]any{"who": "stream"}, Hosts: "localhost", SkipFacts: true}}
	job := transmitted(t, cfg)
	assert.NoDirExists(t, filepath.Join(pdd, "project"), "the controller's private data dir is left as it was")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := refCmd(ctx, "worker", "--private-data-dir", filepath.Join(t.TempDir(), "ref"))
	cmd.Stdin = bytes.NewReader(job)
	refStream, err := cmd.Output()
	require.NoError(t, err)
	var ours bytes.Buffer
	_, err = Worker(ctx, bytes.NewReader(job), &ours, WorkerOptions{PrivateDataDir: filepath.Join(t.TempDir(), "ours")})
	require.NoError(t, err)

	for name, s := range map[string][]byte{"ansible-runner": refStream, "arunner": ours.Bytes()} {
		res, err := Process(ctx, bytes.NewReader(s), runner.Config{PrivateDataDir: t.TempDir()})
		require.NoError(t, err, name)
		b, err := os.ReadFile(res.StdoutPath())
		require.NoError(t, err)
		assert.Contains(t, string(b), "hello stream", name)
	}
}

// catFake prints the file after -i and the last argument (the playbook).
const catFake = `#!/bin/sh
while [ $# -gt 1 ]; do
	[ "$1" = -i ] && cat "$2"
	shift
done
cat "$1"
`

// An inline playbook and an inline inventory travel in the zip, and the
// controller's private data dir is left as it was.
func TestTransmitInlineContent(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cat-fake")
	require.NoError(t, os.WriteFile(bin, []byte(catFake), 0o700))
	pdd := t.TempDir()
	cfg := runner.Config{
		PrivateDataDir: pdd, Ident: "inline", Binary: bin,
		Target:    runner.Playbook{Content: []byte("- hosts: inline-play\n")},
		Inventory: runner.Inventory{Text: "inline-host\n"},
	}
	job := transmitted(t, cfg)
	entries, _ := os.ReadDir(pdd)
	assert.Empty(t, entries, "the controller's private data dir is left as it was")
	var out bytes.Buffer
	_, err := Worker(context.Background(), bytes.NewReader(job), &out, WorkerOptions{PrivateDataDir: filepath.Join(t.TempDir(), "w")})
	require.NoError(t, err)
	res, err := Process(context.Background(), &out, runner.Config{PrivateDataDir: t.TempDir()})
	require.NoError(t, err)
	b, err := os.ReadFile(res.StdoutPath())
	require.NoError(t, err)
	assert.Contains(t, string(b), "inline-host")
	assert.Contains(t, string(b), "- hosts: inline-play")
}

// bothWorkers runs job through ansible-runner's worker and arunner's, and
// returns the stdout artifact each run's Process left, by worker.
func bothWorkers(t *testing.T, job []byte) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := refCmd(ctx, "worker", "--private-data-dir", filepath.Join(t.TempDir(), "ref"))
	cmd.Stdin = bytes.NewReader(job)
	refStream, err := cmd.Output()
	require.NoError(t, err)
	var ours bytes.Buffer
	_, err = Worker(ctx, bytes.NewReader(job), &ours, WorkerOptions{PrivateDataDir: filepath.Join(t.TempDir(), "ours")})
	require.NoError(t, err)
	out := map[string]string{}
	for name, s := range map[string][]byte{"ansible-runner": refStream, "arunner": ours.Bytes()} {
		res, err := Process(ctx, bytes.NewReader(s), runner.Config{PrivateDataDir: t.TempDir()})
		require.NoError(t, err, "%s: %s", name, s)
		b, err := os.ReadFile(res.StdoutPath())
		require.NoError(t, err)
		out[name] = string(b)
	}
	return out
}

// TestOverlayBothWorkers: what a local run takes from outside the private
// data dir (a role's RolesPath, ProjectFS, Inventory.Model) or writes into
// it (a RawCommand's command line) travels in the zip, and both workers run
// it as a local run would.
func TestOverlayBothWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("real ansible")
	}
	for _, tool := range []string{"ansible-playbook", "ansible-runner"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	local := "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"

	t.Run("RolesPath", func(t *testing.T) {
		// Which "greet" runs depends on where the role's playbook is: with
		// no project/, the private data dir's roles/ comes first.
		for _, withProject := range []bool{false, true} {
			files := map[string]string{
				"roles/greet/tasks/main.yml": "- debug: msg=\"greet from the private data dir\"\n",
				"roles/other/tasks/main.yml": "- debug: msg=\"other from the private data dir\"\n",
				"inventory/hosts":            local,
			}
			if withProject {
				files["project/.keep"] = ""
			}
			pdd := tree(t, files)
			first := tree(t, map[string]string{
				"greet/tasks/main.yml": "- debug: msg=\"hello {{ who }} from RolesPath\"\n",
				"dep/tasks/main.yml":   "- debug: msg=\"dep from RolesPath\"\n- include_role: name=other\n",
			})
			second := tree(t, map[string]string{
				"greet/tasks/main.yml": "- debug: msg=\"wrong greet from the second path\"\n",
				"dep/tasks/main.yml":   "- debug: msg=\"wrong dep from the second path\"\n",
			})
			cfg := runner.Config{PrivateDataDir: pdd, Ident: "roles", Target: runner.Role{
				Name: "greet", Vars: map[string]any{"who": "stream"}, Hosts: "localhost", SkipFacts: true,
				RolesPath: []string{first, second},
			}}
			// What a local run of the same Config runs.
			res, err := runner.Run(context.Background(), cfg)
			require.NoError(t, err)
			b, _ := os.ReadFile(res.StdoutPath())
			want := "greet from the private data dir"
			if withProject {
				want = "hello stream from RolesPath"
			}
			require.Contains(t, string(b), want)

			cfg.Target = runner.Role{Name: "dep", Hosts: "localhost", SkipFacts: true, RolesPath: []string{first, second}}
			depJob := transmitted(t, cfg)
			cfg.Target = runner.Role{Name: "greet", Vars: map[string]any{"who": "stream"}, Hosts: "localhost", SkipFacts: true, RolesPath: []string{first, second}}
			for name, out := range bothWorkers(t, transmitted(t, cfg)) {
				assert.Contains(t, out, want, "%s, project/ %v", name, withProject)
				assert.NotContains(t, out, "wrong", name)
			}
			if withProject {
				for name, out := range bothWorkers(t, depJob) {
					assert.Contains(t, out, "dep from RolesPath", name)
					assert.Contains(t, out, "other from the private data dir", name)
					assert.NotContains(t, out, "wrong", name)
				}
			}
		}
	})

	t.Run("ProjectFS and Inventory.Model", func(t *testing.T) {
		pdd := tree(t, map[string]string{"project/site.yml": "- hosts: all\n  tasks: [{debug: {msg: wrong project}}]\n"})
		inv := inventory.New()
		h := inv.AddHost("modelhost", "models")
		h.Vars["ansible_connection"] = "local"
		h.Vars["ansible_python_interpreter"] = "/usr/bin/python3"
		h.Vars["colour"] = "teal"
		cfg := runner.Config{
			PrivateDataDir: pdd, Ident: "fs",
			Target: runner.Playbook{Path: "site.yml"},
			ProjectFS: fstest.MapFS{
				"site.yml":         {Data: []byte("- hosts: models\n  gather_facts: false\n  tasks:\n    - include_tasks: tasks/t.yml\n"), Mode: 0o644},
				"tasks/t.yml":      {Data: []byte("- debug: msg=\"{{ inventory_hostname }} is {{ colour }} from ProjectFS\"\n"), Mode: 0o644},
				"tasks/notes.link": {Data: []byte("t.yml"), Mode: fs.ModeSymlink | 0o777},
			},
			Inventory: runner.Inventory{Model: inv},
		}
		job := transmitted(t, cfg)
		entries, _ := os.ReadDir(pdd)
		assert.Len(t, entries, 1, "the controller's private data dir is left as it was")
		for name, out := range bothWorkers(t, job) {
			assert.Contains(t, out, "modelhost is teal from ProjectFS", name)
			assert.NotContains(t, out, "wrong", name)
		}
	})

	t.Run("RawCommand", func(t *testing.T) {
		pdd := tree(t, map[string]string{"project/.keep": ""})
		cfg := runner.Config{PrivateDataDir: pdd, Ident: "raw", EnvVars: map[string]string{"WHO": "raw"},
			Target: runner.RawCommand{Argv: []string{"sh", "-c", `echo "hello $WHO command"; sleep 1`}}}
		job := transmitted(t, cfg)
		assert.NoFileExists(t, filepath.Join(pdd, "args"), "the controller's private data dir is left as it was")
		for name, out := range bothWorkers(t, job) {
			assert.Contains(t, out, "hello raw command", name)
		}
	})
}

// transmitRef is what ansible-runner's Transmitter writes for kwargs (a
// JSON object) with only_transmit_kwargs.
const transmitRef = `
import json, sys
from ansible_runner.streaming import Transmitter
kwargs = json.load(sys.stdin)
Transmitter(_output=sys.stdout.buffer, private_data_dir=sys.argv[1], only_transmit_kwargs=True, **kwargs).run()
`

// TestTransmitOnlyKwargs: OnlyKwargs sends what ansible-runner's
// only_transmit_kwargs does (the kwargs line, then eof), and both workers
// run it from a private data dir that already holds the job.
func TestTransmitOnlyKwargs(t *testing.T) {
	// FAKE_SLEEP: ansible-runner (pexpect) loses, now and then, the output
	// of a child that exits at once.
	cfg := fakeJob(t, map[string]string{"FAKE_SLEEP": "1"})
	var ours bytes.Buffer
	require.NoError(t, TransmitWith(&ours, cfg, TransmitOptions{OnlyKwargs: true}))
	kwargsLine, rest, ok := bytes.Cut(ours.Bytes(), []byte("\n"))
	require.True(t, ok)
	assert.Equal(t, eofJSON+"\n", string(rest), "the kwargs line, then eof: no zip")
	full := transmitted(t, cfg)
	assert.True(t, bytes.HasPrefix(full, append(kwargsLine, '\n')), "the same kwargs line as with the zip")

	if _, err := exec.LookPath("ansible-runner"); err != nil {
		t.Skip("ansible-runner is not installed")
	}
	var k struct{ Kwargs json.RawMessage }
	require.NoError(t, json.Unmarshal(kwargsLine, &k))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// The Python that ansible-runner is installed for.
	py := exec.CommandContext(ctx, "/usr/bin/python3", "-c", transmitRef, cfg.PrivateDataDir)
	py.Stdin = bytes.NewReader(k.Kwargs)
	ref, err := py.Output()
	require.NoError(t, err)
	refKwargs, refRest, ok := bytes.Cut(ref, []byte("\n"))
	require.True(t, ok)
	assert.Equal(t, string(refRest), string(rest), "eof, byte for byte")
	assert.JSONEq(t, string(refKwargs), string(kwargsLine))

	// Both workers run it in a private data dir that has the job.
	refPDD := copyPDD(t, cfg.PrivateDataDir)
	cmd := refCmd(ctx, "worker", "--private-data-dir", refPDD)
	cmd.Stdin = bytes.NewReader(ours.Bytes())
	refStream, err := cmd.Output()
	require.NoError(t, err)
	var ourStream bytes.Buffer
	_, err = Worker(ctx, bytes.NewReader(ours.Bytes()), &ourStream, WorkerOptions{PrivateDataDir: copyPDD(t, cfg.PrivateDataDir)})
	require.NoError(t, err)
	for name, s := range map[string][]byte{"ansible-runner": refStream, "arunner": ourStream.Bytes()} {
		res, err := Process(ctx, bytes.NewReader(s), runner.Config{PrivateDataDir: t.TempDir()})
		require.NoError(t, err, "%s: %s", name, s)
		b, err := os.ReadFile(res.StdoutPath())
		require.NoError(t, err)
		assert.Contains(t, string(b), "fake ansible", name)
	}

	// A job that needs files in the zip cannot go without it.
	cfg.Target = runner.Role{Name: "r"}
	var ke *KwargsError
	require.ErrorAs(t, TransmitWith(&bytes.Buffer{}, cfg, TransmitOptions{OnlyKwargs: true}), &ke)
	assert.Equal(t, "Config.Target", ke.Key)
}
