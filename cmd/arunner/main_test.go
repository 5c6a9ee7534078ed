package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/isolation"
	"github.com/arunner/arunner/runner"
)

func TestParseArgs(t *testing.T) {
	o, err := parseArgs(strings.Fields("run /pdd -p site.yml -i id1 --inventory a --inventory=b --limit web --forks 7 -vvv -v --rotate-artifacts 3 --artifact-dir /art --project-dir /proj -b /bin/fake -q -j --cmdline --check --job-timeout 30 --omit-event-data --only-failed-event-data"))
	require.NoError(t, err)
	c := o.config()
	assert.Equal(t, "/pdd", c.PrivateDataDir)
	assert.Equal(t, runner.Playbook{Path: "site.yml", Switches: runner.Switches{Limit: "web", Forks: 7, Verbosity: 4}}, c.Target)
	assert.Equal(t, "id1", c.Ident)
	assert.Equal(t, runner.Inventory{Sources: []string{"a", "b"}}, c.Inventory)
	assert.Equal(t, 3, c.RotateArtifacts)
	assert.Equal(t, "/art", c.ArtifactDir)
	assert.Equal(t, "/proj", c.ProjectDir)
	assert.Equal(t, "/bin/fake", c.Binary)
	assert.Equal(t, "--check", c.Cmdline)
	assert.Equal(t, "30s", c.JobTimeout.String())
	assert.True(t, o.quiet)
	assert.True(t, c.JSONOutput)
	assert.True(t, c.OmitEventData)
	assert.True(t, c.OnlyFailedEventData)

	o, err = parseArgs([]string{"run", "/pdd", "-m", "shell", "-a", "uptime -p", "--hosts", "web"})
	require.NoError(t, err)
	c = o.config()
	assert.Equal(t, runner.AdHoc{Module: "shell", Args: "uptime -p", Hosts: "web"}, c.Target)
}

func TestParseArgsErrors(t *testing.T) {
	for args, want := range map[string]string{
		"run /pdd":                         "-p PLAYBOOK, -m MODULE or -r ROLE is required (or an args file in /pdd)",
		"/pdd -p x.yml":                    "expected `run PRIVATE_DATA_DIR`",
		"run /pdd -p x.yml --forks many":   `--forks needs a whole number, got "many"`,
		"run /pdd -p x.yml --bogus":        "unknown flag --bogus",
		"run /pdd -r web --role-vars x":    `--role-vars: "x" is not KEY=VALUE`,
		"run /pdd -p x.yml --roles-path r": "--roles-path, --role-vars and --role-skip-facts go with -r",
		"run /pdd -m ping -a":              "-a needs a value",
		"run /pdd -p x.yml --limit":        "--limit needs a value",
		"run /pdd -p x.yml -m ping":        "-p, -m and -r exclude each other",
		"run /pdd -p x.yml --hosts web":    "--hosts goes with -m or -r",
		"run /pdd -p x.yml -vvvvvv":        "verbosity is at most 5",
		// A larger number of seconds would overflow a time.Duration: to
		// 290 ms, or to a negative "no limit".
		"run /pdd -p x.yml --job-timeout 18446744074":    `--job-timeout needs a whole number in [0, 9223372036], got "18446744074"`,
		"run /pdd -p x.yml --idle-timeout 9223372037":    `--idle-timeout needs a whole number in [0, 9223372036], got "9223372037"`,
		"run /pdd -p x.yml --job-timeout -1":             `--job-timeout needs a whole number, got "-1"`,
		"run /pdd -p x.yml --forks 99999999999999999999": `--forks needs a whole number in [0, 9223372036854775807], got "99999999999999999999"`,
		"run /pdd -p x.yml --rotate-artifacts 1e3":       `--rotate-artifacts needs a whole number, got "1e3"`,
	} {
		_, err := parseArgs(strings.Fields(args))
		require.Error(t, err, args)
		assert.Contains(t, err.Error(), want, args)
	}
}

// The largest number of seconds a time.Duration holds is accepted.
func TestParseArgsLongestTimeout(t *testing.T) {
	o, err := parseArgs(strings.Fields("run /pdd -p x.yml --job-timeout 9223372036 --idle-timeout 0"))
	require.NoError(t, err)
	assert.Equal(t, 9223372036*time.Second, o.cfg.JobTimeout)
	assert.Zero(t, o.cfg.IdleTimeout)
}

func TestParseRoleArgs(t *testing.T) {
	o, err := parseArgs([]string{"run", "/pdd", "-r", "web", "--hosts", "db", "--roles-path", "/r1", "--roles-path", "/r2",
		"--role-vars", "port=8080 ratio=0.5 debug=True name='xy' none=None plain=text", "--role-skip-facts"})
	require.NoError(t, err)
	c := o.config()
	assert.Equal(t, runner.Role{
		Name: "web", Hosts: "db", RolesPath: []string{"/r1", "/r2"}, SkipFacts: true,
		Vars: map[string]any{"port": int64(8080), "ratio": 0.5, "debug": true, "name": "xy", "none": nil, "plain": "text"},
	}, c.Target)
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, 0, realMain([]string{"--version"}, &out, &out))
	assert.Contains(t, out.String(), "arunner ")
	// With any command, as ansible-runner's: nothing runs.
	for _, args := range [][]string{{"run", "--version"}, {"start", "/nonexistent/pdd", "-p", "x.yml", "--version"}, {"worker", "--version"}} {
		out.Reset()
		assert.Equal(t, 0, realMain(args, &out, &out), args)
		assert.Equal(t, "arunner "+version+"\n", out.String(), args)
	}
	assert.NoDirExists(t, "/nonexistent/pdd")
}

func TestUsageErrorExitCode(t *testing.T) {
	var out bytes.Buffer
	assert.Equal(t, 2, realMain([]string{"run"}, &out, &out))
	assert.Contains(t, out.String(), "usage: arunner run")
}

// Usage errors exit as ansible-runner's CLI does: 2 with the usage for what
// its argument parser rejects, 1 with the message alone for what it
// refuses after parsing. Nothing is created either way.
func TestUsageExitCodes(t *testing.T) {
	for args, want := range map[string]int{
		"run PDD -p x.yml --bogus":      2,
		"run PDD -p x.yml --limit":      2,
		"run PDD -p x.yml -m ping":      2,
		"run PDD -p x.yml --forks many": 2,
		"run PDD":                       1,
		"run PDD -p x.yml --hosts web":  1,
	} {
		pdd := filepath.Join(t.TempDir(), "pdd")
		var stdout, stderr bytes.Buffer
		assert.Equal(t, want, realMain(strings.Fields(strings.ReplaceAll(args, "PDD", pdd)), &stdout, &stderr), args)
		assert.Equal(t, want == 2, strings.Contains(stderr.String(), "usage: arunner run"), "%s: usage printed: %s", args, stderr.String())
		assert.NoDirExists(t, pdd, args)
	}
}

// ansible-runner's process isolation and container flags fill
// Config.Isolation; directory isolation is read (with its value) and
// refused, before anything is created.
func TestIsolationFlags(t *testing.T) {
	o, err := parseArgs([]string{"run", "pdd", "-p", "site.yml", "--process-isolation",
		"--process-isolation-executable", "docker", "--container-image=img", "--container-volume-mount", "/a:/b:Z",
		"--container-volume-mount=/c:/d", "--container-option=--net=none", "--container-option=--cap-drop=ALL",
		"--process-isolation-hide-paths", "/h1", "/h2", "--process-isolation-ro-paths=/r", "--process-isolation-show-paths",
		"--process-isolation-path", "/tmp", "-i", "x"})
	require.NoError(t, err)
	assert.Equal(t, &isolation.Options{Enabled: true, Executable: "docker", Image: "img",
		VolumeMounts: []string{"/a:/b:Z", "/c:/d"}, ContainerOptions: []string{"--net=none", "--cap-drop=ALL"},
		HidePaths: []string{"/h1", "/h2"}, ROPaths: []string{"/r"}, Path: "/tmp"}, o.cfg.Isolation)
	assert.Equal(t, "x", o.cfg.Ident)

	o, err = parseArgs([]string{"run", "pdd", "-p", "site.yml"})
	require.NoError(t, err)
	assert.Nil(t, o.cfg.Isolation, "env/settings decides")

	pdd := filepath.Join(t.TempDir(), "pdd")
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, realMain([]string{"run", "-p", "site.yml", "--directory-isolation-base-path", "/tmp", pdd}, &stdout, &stderr))
	assert.Equal(t, "arunner: --directory-isolation-base-path is not supported: arunner does not copy the project for a run\n", stderr.String())
	assert.NoDirExists(t, pdd)
}

// `arunner run --process-isolation --process-isolation-executable bwrap`
// runs the playbook in the sandbox, from the command line.
func TestIsolatedRunFromCLI(t *testing.T) {
	if out, err := exec.Command("bwrap", "--unshare-pid", "--ro-bind", "/", "/", "true").CombinedOutput(); err != nil {
		t.Skipf("bubblewrap cannot run here: %v: %s", err, out)
	}
	pdd, fake := fakeRun(t, "test -d /tmp/arunner-cli-probe && echo host-tmp-visible; echo sandboxed run\n")
	require.NoError(t, os.MkdirAll("/tmp/arunner-cli-probe", 0o700))
	defer os.Remove("/tmp/arunner-cli-probe")
	var stdout, stderr bytes.Buffer
	code := realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "--ident", "iso",
		"--process-isolation", "--process-isolation-executable", "bwrap"}, &stdout, &stderr)
	assert.Equal(t, 0, code, stderr.String())
	assert.Contains(t, stdout.String(), "sandboxed run")
	assert.NotContains(t, stdout.String(), "host-tmp-visible")
}

// Without -p, -m or -r, the private data dir's args file runs; with one,
// the args file still wins, as in ansible-runner.
func TestArgsFileRuns(t *testing.T) {
	pdd, fake := fakeRun(t, "echo from the args file: \"$*\"\nexit 4\n")
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "args"), []byte(fake+" one 'two three'\n"), 0o600))
	for _, flags := range [][]string{nil, {"-p", "site.yml"}, {"-m", "ping"}, {"-p", "missing.yml"}} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 4, realMain(append([]string{"run", pdd}, flags...), &stdout, &stderr), "%q: %s", flags, stderr.String())
		assert.Contains(t, stdout.String(), "from the args file: one two three", flags)
	}
}

// A private data dir that does not exist is made (0700), as
// ansible-runner's CLI makes it.
func TestPrivateDataDirMade(t *testing.T) {
	_, fake := fakeRun(t, "echo pong\n")
	pdd := filepath.Join(t.TempDir(), "new", "pdd")
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, realMain([]string{"run", pdd, "-m", "ping", "-b", fake, "--ident", "made"}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), "pong")
	fi, err := os.Stat(pdd)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm())
	assert.FileExists(t, filepath.Join(pdd, "artifacts", "made", "status"))
}

// --debug shows the command, its dir, the redacted environment and each
// status on stderr; --logfile appends the same lines, time-stamped, to a
// file, which --logfile alone only creates.
func TestDebugAndLogfile(t *testing.T) {
	pdd, fake := fakeRun(t, "echo ran\n")
	require.NoError(t, os.MkdirAll(filepath.Join(pdd, "env"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "env", "envvars"), []byte("MY_PASSWORD: hunter2\n"), 0o600))
	logfile := filepath.Join(t.TempDir(), "debug.log")

	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "--debug", "--logfile", logfile}, &stdout, &stderr), stderr.String())
	debug, _ := cutSummary(stderr.String())
	assert.Contains(t, debug, "starting debug logging\n")
	assert.Contains(t, debug, "\ncommand: "+fake+" site.yml\n")
	assert.Contains(t, debug, "\ncwd: "+filepath.Join(pdd, "project")+"\n")
	assert.Contains(t, debug, "\nenv:\n")
	assert.Contains(t, debug, "\n MY_PASSWORD: ")
	assert.NotContains(t, debug, "hunter2")
	assert.Contains(t, debug, "\nstatus: successful\n")
	assert.NotContains(t, stdout.String(), "command:", "stdout is ansible's")
	logged, err := os.ReadFile(logfile)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(logged), "\n"), "\n")
	assert.Len(t, lines, strings.Count(debug, "\n"))
	assert.Regexp(t, `^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: starting debug logging$`, lines[0])

	// --logfile alone: the file is there, empty; stderr is quiet.
	require.NoError(t, os.Remove(logfile))
	stderr.Reset()
	require.Equal(t, 0, realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "--logfile", logfile}, &stdout, &stderr))
	before, _ := cutSummary(stderr.String())
	assert.Empty(t, before)
	logged, err = os.ReadFile(logfile)
	require.NoError(t, err)
	assert.Empty(t, logged)

	// --omit-env-files is accepted: arunner writes no env files anyway.
	require.Equal(t, 0, realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "--omit-env-files"}, &stdout, &stderr))
}

// fakeRun returns a private data dir with project/site.yml, and a fake
// ansible-playbook: a shell script running script.
func fakeRun(t *testing.T, script string) (pdd, fake string) {
	t.Helper()
	pdd = t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(pdd, "project"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte("[]\n"), 0o600))
	fake = filepath.Join(t.TempDir(), "fake-ansible-playbook")
	require.NoError(t, os.WriteFile(fake, []byte("#!/bin/sh\n"+script), 0o700))
	return pdd, fake
}

// The exit code is ansible's rc: a fake binary that exits 3 makes arunner
// exit 3, and its output reaches stdout.
func TestExitCodeIsRC(t *testing.T) {
	pdd, fake := fakeRun(t, "echo fake says hello\nexit 3\n")
	var stdout, stderr bytes.Buffer
	rc := realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "--ident", "cli"}, &stdout, &stderr)
	assert.Equal(t, 3, rc)
	assert.Contains(t, stdout.String(), "fake says hello")
	data, err := os.ReadFile(filepath.Join(pdd, "artifacts", "cli", "rc"))
	require.NoError(t, err)
	assert.Equal(t, "3", string(data))

	// -q prints nothing.
	stdout.Reset()
	rc = realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "-q"}, &stdout, &stderr)
	assert.Equal(t, 3, rc)
	assert.Empty(t, stdout.String())
}

// arunner sets its own GC target unless GOGC is set.
func TestGCPercent(t *testing.T) {
	pct, ok := gcPercent("")
	assert.True(t, ok)
	assert.Equal(t, 200, pct)
	_, ok = gcPercent("50")
	assert.False(t, ok, "GOGC set: left to the runtime")
	_, ok = gcPercent("off")
	assert.False(t, ok)
}

// ansible killed by a signal from outside: rc 128+signal, and stderr says
// which signal, which ansible's output cannot.
func TestKilledBySignal(t *testing.T) {
	pdd, fake := fakeRun(t, "echo about to die\nkill -TERM $$\nsleep 5\n")
	var stdout, stderr bytes.Buffer
	rc := realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake}, &stdout, &stderr)
	assert.Equal(t, 128+15, rc)
	assert.Contains(t, stdout.String(), "about to die")
	before, summary := cutSummary(stderr.String())
	assert.Equal(t, "arunner: ansible was killed by signal 15 (terminated), rc 143 (status failed)\n", before)
	assert.Contains(t, summary, " failed, rc 143, in ")
	// An exit, however failed, leaves stderr to ansible.
	stderr.Reset()
	pdd, fake = fakeRun(t, "exit 3\n")
	assert.Equal(t, 3, realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake}, &stdout, &stderr))
	before, _ = cutSummary(stderr.String())
	assert.Empty(t, before)
}

// To a file, the output is batched, and all of it is there when arunner
// exits.
func TestOutputToFile(t *testing.T) {
	pdd, fake := fakeRun(t, "for i in 1 2 3; do echo line $i; done\n")
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer out.Close()
	var stderr bytes.Buffer
	rc := realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake}, out, &stderr)
	assert.Equal(t, 0, rc, stderr.String())
	data, err := os.ReadFile(out.Name())
	require.NoError(t, err)
	assert.Equal(t, "line 1\r\nline 2\r\nline 3\r\n", string(data))
}

func TestMissingPlaybookExitCode(t *testing.T) {
	pdd := t.TempDir()
	var stdout, stderr bytes.Buffer
	rc := realMain([]string{"run", pdd, "-p", "nope.yml"}, &stdout, &stderr)
	assert.Equal(t, 1, rc)
	assert.Equal(t, "ERROR! the playbook: nope.yml could not be found\n", stdout.String())
	before, _ := cutSummary(stderr.String())
	assert.Empty(t, before, "said once, on stdout, as ansible-playbook says it")
}

// An error found before ansible starts is printed once, on stdout, where
// ansible-runner's verbose event says it (stderr is left alone); with -q on
// stderr only, and with -j on stderr plainly beside the JSON event.
func TestSetupErrorPrintedOnce(t *testing.T) {
	good, fake := fakeRun(t, "exit 0\n")
	bad, _ := fakeRun(t, "")
	require.NoError(t, os.Mkdir(filepath.Join(bad, "env"), 0o700))
	settings := filepath.Join(bad, "env", "settings")
	require.NoError(t, os.WriteFile(settings, []byte("job_timeout: abc\n"), 0o600))
	badSettings := "PrivateDataDir: privdata: " + settings + `:1: key "job_timeout": bad value: want a number of seconds, got a string`
	noPlaybook := "Target: the playbook nope.yml could not be found"
	const noPlaybookText = "ERROR! the playbook: nope.yml could not be found"
	for _, tc := range []struct {
		name   string
		args   []string
		stdout string // a JSON event when it starts with {
		stderr string
	}{
		{"bad env file", []string{bad, "-p", "site.yml", "-b", fake}, badSettings + "\n", ""},
		{"bad env file, quiet", []string{bad, "-p", "site.yml", "-b", fake, "-q"}, "", "arunner: " + badSettings + "\n"},
		{"bad env file, json", []string{bad, "-p", "site.yml", "-b", fake, "-j"}, "{" + badSettings, "arunner: " + badSettings + "\n"},
		{"missing playbook", []string{good, "-p", "nope.yml"}, noPlaybookText + "\n", ""},
		{"missing playbook, quiet", []string{good, "-p", "nope.yml", "-q"}, "", "arunner: " + noPlaybook + "\n"},
		{"missing playbook, json", []string{good, "-p", "nope.yml", "-j"}, "{" + noPlaybookText, "arunner: " + noPlaybook + "\n"},
		{"missing binary", []string{good, "-p", "site.yml", "-b", "/nonexistent/ansible-playbook"},
			"The command was not found or was not executable: /nonexistent/ansible-playbook.\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			rc := realMain(append([]string{"run"}, tc.args...), &stdout, &stderr)
			assert.NotZero(t, rc)
			if msg, ok := strings.CutPrefix(tc.stdout, "{"); ok {
				var ev struct{ Event, Stdout string }
				require.NoError(t, json.Unmarshal(stdout.Bytes(), &ev), stdout.String())
				assert.Equal(t, "verbose", ev.Event)
				assert.Equal(t, msg, ev.Stdout)
			} else {
				assert.Equal(t, tc.stdout, stdout.String())
			}
			before, summary := cutSummary(stderr.String())
			assert.Equal(t, tc.stderr, before)
			assert.Contains(t, summary, ", rc ", "the summary follows")
		})
	}
}

// -j streams: each event reaches stdout while ansible still runs, here
// through a pipe, where the runner batches Output for at most
// lazyio.Delay. The fake prints one line and waits for the test to have
// read that line's event before it prints the next and exits.
func TestJSONStreamsLive(t *testing.T) {
	gate := filepath.Join(t.TempDir(), "gate")
	pdd, fake := fakeRun(t, "echo first\nwhile [ ! -e "+gate+" ]; do sleep 0.05; done\necho second\n")
	open := func() { os.WriteFile(gate, nil, 0o600) }
	defer open() // should the test fail early: the fake must not wait forever

	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	rc := make(chan int, 1)
	go func() {
		defer w.Close()
		var stderr bytes.Buffer
		rc <- realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "-j"}, w, &stderr)
	}()
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- bytes.Clone(sc.Bytes())
		}
	}()
	next := func() map[string]any {
		t.Helper()
		select {
		case line, ok := <-lines:
			require.True(t, ok, "stdout ended")
			var ev map[string]any
			require.NoError(t, json.Unmarshal(line, &ev), "%q", line)
			return ev
		case <-time.After(20 * time.Second):
			t.Fatal("no event on stdout while ansible runs")
			return nil
		}
	}

	ev := next()
	assert.EqualValues(t, 1, ev["counter"])
	assert.Equal(t, "verbose", ev["event"])
	assert.Equal(t, "first", ev["stdout"])
	select {
	case <-rc:
		t.Fatal("arunner ended before the fake was let go")
	default:
	}
	open()
	ev = next()
	assert.EqualValues(t, 2, ev["counter"])
	assert.Equal(t, "second", ev["stdout"])
	assert.Equal(t, 0, <-rc)
}

// --dry-run prints the plan (the command, the environment the run adds,
// the files it writes), secrets redacted, and starts and writes nothing:
// the fake ansible, which would leave a marker, never runs.
func TestDryRun(t *testing.T) {
	pdd, fake := fakeRun(t, "touch \"$0.ran\"\n")
	require.NoError(t, os.MkdirAll(filepath.Join(pdd, "env"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "env", "envvars"), []byte(`{"API_TOKEN": "tok-s3cret"}`), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(pdd, "env", "passwords"), []byte(`{"Token:": "tok-s3cret"}`), 0o600))
	var stdout, stderr bytes.Buffer
	rc := realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "--limit", "web", "--ident", "dry", "--dry-run"}, &stdout, &stderr)
	assert.Equal(t, 0, rc, stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "command: "+fake+" --limit web site.yml\n")
	assert.Contains(t, out, "dir: "+filepath.Join(pdd, "project")+"\n")
	assert.Contains(t, out, "  API_TOKEN=**********\n")
	assert.Contains(t, out, "  ANSIBLE_STDOUT_CALLBACK=")
	assert.Contains(t, out, "prompts answered:\n  Token:\n")
	assert.NotContains(t, out, "s3cret")
	assert.NoFileExists(t, fake+".ran")
	assert.NoDirExists(t, filepath.Join(pdd, "artifacts"))

	// What the run would refuse, the dry run refuses, with exit 1.
	stdout.Reset()
	rc = realMain([]string{"run", pdd, "-p", "nope.yml", "--dry-run"}, &stdout, &stderr)
	assert.Equal(t, 1, rc)
	assert.Contains(t, stderr.String(), "the playbook nope.yml could not be found")
}
