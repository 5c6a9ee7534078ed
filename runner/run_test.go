package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readArtifact(t *testing.T, res *Result, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(res.ArtifactDir, name))
	require.NoError(t, err)
	return string(data)
}

func TestRunSuccessful(t *testing.T) {
	cfg := fakeConfig(t, "ok")
	cfg.Ident = "run1"
	var mu sync.Mutex
	var statuses []Status
	var starting StatusUpdate
	finished := 0
	cfg.StatusHandler = func(u StatusUpdate) {
		mu.Lock()
		defer mu.Unlock()
		statuses = append(statuses, u.Status)
		if u.Status == StatusStarting {
			starting = u
		}
	}
	cfg.FinishedCallback = func(res *Result) {
		finished++
		// Artifacts are complete before the callback runs.
		data, err := os.ReadFile(filepath.Join(res.ArtifactDir, "status"))
		assert.NoError(t, err)
		assert.Equal(t, "successful", string(data))
	}
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, StatusSuccessful, res.Status)
	assert.Equal(t, 0, res.RC)
	assert.Equal(t, []Status{StatusStarting, StatusRunning, StatusSuccessful}, statuses)
	assert.Equal(t, 1, finished)
	assert.Equal(t, filepath.Join(cfg.PrivateDataDir, "artifacts", "run1"), res.ArtifactDir)

	assert.Equal(t, "0", readArtifact(t, res, "rc"))
	assert.Equal(t, "successful", readArtifact(t, res, "status"))
	assert.Contains(t, readArtifact(t, res, "stdout"), "ok: [localhost]")
	assert.Equal(t, "", readArtifact(t, res, "stderr"))

	var command struct {
		Command []string          `json:"command"`
		Cwd     string            `json:"cwd"`
		Env     map[string]string `json:"env"`
	}
	require.NoError(t, json.Unmarshal([]byte(readArtifact(t, res, "command")), &command))
	assert.Equal(t, filepath.Join(cfg.PrivateDataDir, "project"), command.Cwd)
	assert.Equal(t, []string{os.Args[0], "-i", filepath.Join(cfg.PrivateDataDir, "inventory"), "site.yml"}, command.Command)
	assert.Equal(t, "1", command.Env["PYTHONUNBUFFERED"])
	assert.Equal(t, command.Command, starting.Command)
	assert.Equal(t, command.Cwd, starting.Cwd)

	// The run's private dir (callback plugin, extra vars) is gone.
	_, err = os.Stat(filepath.Join(res.ArtifactDir, ".arunner"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestRunNonZeroExit(t *testing.T) {
	res, err := Run(context.Background(), fakeConfig(t, "exit2"))
	var exitErr *ExitError
	require.ErrorAs(t, err, &exitErr)
	assert.Equal(t, 2, exitErr.RC)
	assert.Equal(t, StatusFailed, exitErr.Status)
	assert.Zero(t, exitErr.Signal)
	// No event came from the callback plugin: what ansible's rc 2 then
	// means (argparse's, as the fake stands in for ansible-playbook).
	assert.EqualError(t, err, "ansible exited with rc 2 (status failed): ansible rejected its command line (a usage error)")
	assert.Equal(t, StatusFailed, res.Status)
	assert.Equal(t, "2", readArtifact(t, res, "rc"))
	assert.Equal(t, "failed", readArtifact(t, res, "status"))
}

// treeConfig runs a fake that starts a child in its process group and
// reports both pids once it is up.
func treeConfig(t *testing.T) (Config, func() []int) {
	cfg := fakeConfig(t, "tree")
	out := filepath.Join(t.TempDir(), "pids")
	cfg.EnvVars["FAKE_OUT"] = out
	pids := func() []int {
		data, err := os.ReadFile(out)
		if err != nil {
			return nil
		}
		var ps []int
		for _, f := range strings.Fields(string(data)) {
			n, _ := strconv.Atoi(f)
			ps = append(ps, n)
		}
		return ps
	}
	return cfg, pids
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func assertTreeGone(t *testing.T, pids []int) {
	t.Helper()
	require.Len(t, pids, 2)
	for _, pid := range pids {
		waitFor(t, "pid "+strconv.Itoa(pid)+" to be gone", func() bool { return gone(pid) })
	}
}

func TestCancel(t *testing.T) {
	cases := map[string]func(t *testing.T, cfg *Config, pids func() []int) (*Result, error){
		"callback": func(t *testing.T, cfg *Config, pids func() []int) (*Result, error) {
			cfg.CancelCallback = func() bool { return len(pids()) == 2 }
			return Run(context.Background(), *cfg)
		},
		"context": func(t *testing.T, cfg *Config, pids func() []int) (*Result, error) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			job, err := Start(ctx, *cfg)
			require.NoError(t, err)
			waitFor(t, "the tree", func() bool { return len(pids()) == 2 })
			cancel()
			res, err := job.Wait()
			assert.ErrorIs(t, err, context.Canceled)
			return res, err
		},
		"handle": func(t *testing.T, cfg *Config, pids func() []int) (*Result, error) {
			job, err := Start(context.Background(), *cfg)
			require.NoError(t, err)
			waitFor(t, "the tree", func() bool { return len(pids()) == 2 })
			job.Cancel()
			job.Cancel() // idempotent
			return job.Wait()
		},
	}
	for name, cancel := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, pids := treeConfig(t)
			res, err := cancel(t, &cfg, pids)
			require.ErrorIs(t, err, ErrCanceled)
			assert.Equal(t, StatusCanceled, res.Status)
			assert.Equal(t, 254, res.RC)
			assert.Equal(t, "canceled", readArtifact(t, res, "status"))
			assert.Equal(t, "254", readArtifact(t, res, "rc"))
			assertTreeGone(t, pids())
		})
	}
}

func TestCancelEscalatesToSIGKILL(t *testing.T) {
	cfg := fakeConfig(t, "ignoreint")
	cfg.CancelGrace = 300 * time.Millisecond
	job, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	waitFor(t, "running", func() bool { return job.Status() == StatusRunning })
	time.Sleep(300 * time.Millisecond) // let it install its SIGINT handler
	job.Cancel()
	res, err := job.Wait()
	require.ErrorIs(t, err, ErrCanceled)
	assert.Equal(t, StatusCanceled, res.Status)
	assert.Contains(t, readArtifact(t, res, "stdout"), "ignoring SIGINT")
}

func TestTimeouts(t *testing.T) {
	t.Run("job", func(t *testing.T) {
		t.Parallel()
		cfg := fakeConfig(t, "chatty")
		cfg.JobTimeout = time.Second
		res, err := Run(context.Background(), cfg)
		var te *TimeoutError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, ErrTimeout)
		assert.Equal(t, JobTimeout, te.Kind)
		assert.Equal(t, JobTimeout, res.Timeout)
		assert.Equal(t, StatusTimeout, res.Status)
		assert.Equal(t, 254, res.RC)
		assert.Equal(t, "timeout", readArtifact(t, res, "status"))
		assertEndsWith(t, res, "The job timeout of 1s was reached: the run was stopped.")
	})
	t.Run("idle", func(t *testing.T) {
		t.Parallel()
		cfg := fakeConfig(t, "sleep")
		cfg.IdleTimeout = time.Second
		res, err := Run(context.Background(), cfg)
		var te *TimeoutError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, IdleTimeout, te.Kind)
		assert.Equal(t, IdleTimeout, res.Timeout)
		assert.Equal(t, StatusTimeout, res.Status)
		assertEndsWith(t, res, "The idle timeout of 1s was reached (no output for 1s): the run was stopped.")
	})
	t.Run("settings", func(t *testing.T) {
		t.Parallel()
		cfg := fakeConfig(t, "sleep")
		must(t, os.MkdirAll(filepath.Join(cfg.PrivateDataDir, "env"), 0o700))
		must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "env", "settings"), []byte("job_timeout: 1\n"), 0o600))
		res, err := Run(context.Background(), cfg)
		require.ErrorIs(t, err, ErrTimeout)
		assert.Equal(t, JobTimeout, res.Timeout)
	})
}

// assertEndsWith checks that the run's output ends with the line notice,
// in the stdout artifact and as the last event, a verbose one whose
// end_line is the stdout artifact's line count: stdout and events still
// line up.
func assertEndsWith(t *testing.T, res *Result, notice string) {
	t.Helper()
	stdout := readArtifact(t, res, "stdout")
	assert.True(t, strings.HasSuffix(stdout, "\r\n"+notice+"\r\n"), "stdout ends with %q:\n%q", notice, stdout)
	files, err := filepath.Glob(filepath.Join(res.ArtifactDir, "job_events", "*.json"))
	require.NoError(t, err)
	var last map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		var ev map[string]any
		require.NoError(t, json.Unmarshal(data, &ev))
		if last == nil || ev["counter"].(float64) > last["counter"].(float64) {
			last = ev
		}
	}
	require.NotNil(t, last)
	assert.Equal(t, "verbose", last["event"])
	assert.Equal(t, notice, last["stdout"])
	assert.EqualValues(t, res.FinalCounter, last["counter"])
	assert.EqualValues(t, strings.Count(stdout, "\n"), last["end_line"], "end_line is the stdout artifact's line count")
}

func TestMissingBinary(t *testing.T) {
	cfg := fakeConfig(t, "ok")
	cfg.Binary = "/nonexistent/ansible-playbook"
	res, err := Run(context.Background(), cfg)
	require.ErrorIs(t, err, ErrBinaryNotFound)
	assert.Equal(t, StatusError, res.Status)
	assert.Equal(t, 127, res.RC)
	assert.Equal(t, "error", readArtifact(t, res, "status"))
	assert.Contains(t, readArtifact(t, res, "stdout"), "The command was not found or was not executable: /nonexistent/ansible-playbook.")
}

func TestOutputBeforeExitIsKept(t *testing.T) {
	res, err := Run(context.Background(), fakeConfig(t, "burst"))
	require.NoError(t, err)
	stdout := readArtifact(t, res, "stdout")
	assert.Equal(t, 20001, strings.Count(stdout, "\n"))
	// Lines outside events keep the pty's \r\n, as in ansible-runner's artifact.
	assert.True(t, strings.HasSuffix(stdout, "LAST LINE\r\n"), "stdout ends with %q", stdout[max(0, len(stdout)-40):])
}

func TestEnvironment(t *testing.T) {
	cfg := fakeConfig(t, "env")
	cfg.EnvVars["FROM_CONFIG"] = "config"
	cfg.EnvVars["BOTH"] = "config"
	must(t, os.MkdirAll(filepath.Join(cfg.PrivateDataDir, "env"), 0o700))
	must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "env", "envvars"), []byte("FROM_FILE: file\nBOTH: file\nNUM: 3\n"), 0o600))
	res, got := runEnvFake(t, cfg)
	env := got.Env
	assert.True(t, got.StdinTTY, "ansible's stdin is the pty, never the caller's stdin")
	assert.Equal(t, "file", env["FROM_FILE"])
	assert.Equal(t, "config", env["FROM_CONFIG"])
	assert.Equal(t, "config", env["BOTH"], "Config.EnvVars win over env/envvars")
	assert.Equal(t, "3", env["NUM"])
	assert.Equal(t, "1", env["PYTHONUNBUFFERED"])
	assert.Equal(t, "False", env["ANSIBLE_HOST_KEY_CHECKING"])
	assert.Equal(t, "False", env["ANSIBLE_RETRY_FILES_ENABLED"])
	assert.Equal(t, "jsonfile", env["ANSIBLE_CACHE_PLUGIN"])
	assert.Equal(t, filepath.Join(res.ArtifactDir, "fact_cache"), env["ANSIBLE_CACHE_PLUGIN_CONNECTION"])
	assert.Equal(t, res.ArtifactDir, env["AWX_ISOLATED_DATA_DIR"])
	assert.NotEmpty(t, env["ANSIBLE_STDOUT_CALLBACK"])
	assert.NotEmpty(t, env["ANSIBLE_CALLBACK_PLUGINS"])
}

func TestManagedEnvRefused(t *testing.T) {
	cfg := fakeConfig(t, "ok")
	cfg.EnvVars["ANSIBLE_CACHE_PLUGIN"] = "redis"
	res, err := Run(context.Background(), cfg)
	var me *ManagedEnvError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "ANSIBLE_CACHE_PLUGIN", me.Name)
	assert.Equal(t, "Config.EnvVars", me.Source)
	assert.Equal(t, StatusError, res.Status)
	assert.Equal(t, "error", readArtifact(t, res, "status"))
}

func TestBadInput(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(t *testing.T, cfg *Config)
		status Status
		want   string // in the error and the stdout artifact
	}{
		{"missing playbook", func(t *testing.T, cfg *Config) { cfg.Target = Playbook{Path: "nope.yml"} },
			StatusFailed, "nope.yml could not be found"},
		{"missing inventory", func(t *testing.T, cfg *Config) { cfg.Inventory = Inventory{Sources: []string{"/nonexistent/hosts"}} },
			StatusError, "/nonexistent/hosts"},
		{"project dir is a file", func(t *testing.T, cfg *Config) {
			p := filepath.Join(t.TempDir(), "file")
			must(t, os.WriteFile(p, nil, 0o600))
			cfg.ProjectDir = p
		}, StatusError, "is not a directory"},
		{"no playbook at all", func(t *testing.T, cfg *Config) { cfg.Target = nil },
			StatusError, "Playbook"},
		{"malformed cmdline", func(t *testing.T, cfg *Config) { cfg.Cmdline = `--limit 'web` },
			StatusError, "Cmdline"},
		{"nil credential pointer", func(t *testing.T, cfg *Config) {
			cfg.Credentials = []credentials.Credential{(*credentials.Machine)(nil)}
		}, StatusError, "creds[0]: invalid: nil *credentials.Machine"},
		{"env name with =", func(t *testing.T, cfg *Config) { cfg.EnvVars["A=B"] = "x" },
			StatusError, `EnvVars: key "A=B": bad value: not a valid environment variable name`},
		{"env name empty", func(t *testing.T, cfg *Config) { cfg.EnvVars[""] = "x" },
			StatusError, `EnvVars: key "": bad value: not a valid environment variable name`},
		// The value is not in the error: it may be a secret.
		{"env value with NUL", func(t *testing.T, cfg *Config) { cfg.EnvVars["TOKEN"] = "s3cret\x00tail" },
			StatusError, `EnvVars: key "TOKEN": bad value: value contains a NUL byte`},
		{"Wrap leaves no command", func(t *testing.T, cfg *Config) {
			cfg.Wrap = func(c *Command) error { c.Argv = nil; return nil }
		}, StatusError, "Wrap: no program to run"},
		{"empty program name", func(t *testing.T, cfg *Config) { cfg.Target, cfg.Binary = RawCommand{Argv: []string{"", "x"}}, "" },
			StatusError, "Target: RawCommand needs a command line"},
	}
	for _, file := range []struct{ name, content string }{
		{"envvars", "FOO: [unclosed\n"},
		{"extravars", "{\"a\": [1,\n"},
		{"settings", "job_timeout: abc\n"},
		{"passwords", "- not\n- a mapping\n"},
		{"cmdline", "--limit 'unterminated\n"},
	} {
		cases = append(cases, struct {
			name   string
			setup  func(t *testing.T, cfg *Config)
			status Status
			want   string
		}{"malformed env/" + file.name, func(t *testing.T, cfg *Config) {
			must(t, os.MkdirAll(filepath.Join(cfg.PrivateDataDir, "env"), 0o700))
			must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "env", file.name), []byte(file.content), 0o600))
		}, StatusError, filepath.Join("env", file.name)})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := fakeConfig(t, "ok")
			tc.setup(t, &cfg)
			started := false
			cfg.StatusHandler = func(u StatusUpdate) { started = started || u.Status == StatusRunning }
			var handled []*events.Event
			cfg.EventHandler = func(ev *events.Event) bool { handled = append(handled, ev); return true }
			res, err := Run(context.Background(), cfg)
			require.Error(t, err)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "s3cret")
			assert.False(t, started, "nothing is started on bad input")
			assert.Equal(t, tc.status, res.Status)
			assert.Equal(t, string(tc.status), readArtifact(t, res, "status"))
			assert.Equal(t, "1", readArtifact(t, res, "rc"))
			stdout := readArtifact(t, res, "stdout")
			assert.Contains(t, stdout, tc.want)
			assert.NotContains(t, stdout, "s3cret")

			// As ansible-runner leaves it: the message is also one verbose
			// event, so that output built from events says why.
			files, err := filepath.Glob(filepath.Join(res.ArtifactDir, "job_events", "*.json"))
			require.NoError(t, err)
			require.Len(t, files, 1)
			var ev map[string]any
			data, err := os.ReadFile(files[0])
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(data, &ev))
			assert.Equal(t, "verbose", ev["event"])
			assert.Equal(t, strings.TrimSuffix(stdout, "\n"), ev["stdout"], "the event's text is the stdout artifact")
			assert.EqualValues(t, 1, ev["counter"])
			assert.EqualValues(t, 0, ev["start_line"])
			assert.EqualValues(t, 1, ev["end_line"])
			assert.Equal(t, res.Ident, ev["runner_ident"])
			require.Len(t, handled, 1)
			assert.Equal(t, ev["uuid"], handled[0].UUID)
			assert.Equal(t, 1, res.FinalCounter)

			// The command artifact exists when the command was built.
			if tc.status == StatusFailed {
				var cmd struct{ Command []string }
				require.NoError(t, json.Unmarshal([]byte(readArtifact(t, res, "command")), &cmd))
				assert.Equal(t, "nope.yml", cmd.Command[len(cmd.Command)-1])
				assert.Equal(t, cmd.Command, res.Command)
			} else {
				assert.NoFileExists(t, filepath.Join(res.ArtifactDir, "command"))
			}
		})
	}
}

func TestPromptAnswered(t *testing.T) {
	cfg := fakeConfig(t, "prompt")
	cfg.Passwords = []Password{{Pattern: `Vault password:\s*?$`, Response: "s3cret-vault"}}
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	stdout := readArtifact(t, res, "stdout")
	assert.Contains(t, stdout, "got 12 bytes, ok=true")
	assert.NotContains(t, stdout, "s3cret-vault", "the answer is never echoed")
	assert.NotContains(t, readArtifact(t, res, "command"), "s3cret-vault")
}

func TestUnansweredPromptTimesOut(t *testing.T) {
	cfg := fakeConfig(t, "vars_prompt")
	cfg.PromptTimeout = time.Second
	res, err := Run(context.Background(), cfg)
	var te *TimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, PromptTimeout, te.Kind)
	assert.Contains(t, te.Prompt, "Enter the secret:")
	assert.Contains(t, err.Error(), "Enter the secret:")
	assert.Equal(t, StatusTimeout, res.Status)
	assertEndsWith(t, res, "The prompt timeout of 1s was reached (a prompt went unanswered): the run was stopped.")
}

// Many runs in one process: no global state. Run with -race.
func TestConcurrentRuns(t *testing.T) {
	const n = 50
	var wg sync.WaitGroup
	errs := make([]error, n)
	results := make([]*Result, n)
	cfgs := make([]Config, n)
	for i := range n {
		cfgs[i] = fakeConfig(t, "events")
		cfgs[i].EnvVars["FAKE_EVENTS"] = strconv.Itoa(i % 7)
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = Run(context.Background(), cfgs[i])
		}()
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i], "run %d", i)
		assert.Equal(t, StatusSuccessful, results[i].Status)
		assert.Equal(t, 2+i%7, results[i].FinalCounter, "run %d", i)
		stats := results[i].Stats()
		require.Equal(t, 1, stats.Processed["localhost"], "run %d", i)
		assert.Equal(t, i%7, stats.OK["localhost"])
	}
}

func TestStartErrors(t *testing.T) {
	_, err := Start(context.Background(), Config{})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "PrivateDataDir", ce.Field)

	_, err = Start(context.Background(), Config{PrivateDataDir: t.TempDir(), Ident: "../escape"})
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "Ident", ce.Field)

	// A private data dir that cannot be made.
	file := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(file, nil, 0o600))
	_, err = Start(context.Background(), Config{PrivateDataDir: filepath.Join(file, "pdd")})
	require.ErrorIs(t, err, syscall.ENOTDIR)
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "PrivateDataDir", ce.Field)
}

// A private data dir that does not exist is made, 0700, as ansible-runner
// makes it: a run that needs nothing from it goes ahead.
func TestMissingPrivateDataDirIsMade(t *testing.T) {
	cfg := fakeConfig(t, "ok")
	cfg.PrivateDataDir = filepath.Join(t.TempDir(), "new", "pdd")
	cfg.Target = AdHoc{Module: "ping"}
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, StatusSuccessful, res.Status)
	for _, dir := range []string{cfg.PrivateDataDir, filepath.Dir(cfg.PrivateDataDir)} {
		fi, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), dir)
	}
	assert.Equal(t, filepath.Join(cfg.PrivateDataDir, "artifacts", res.Ident), res.ArtifactDir)
}

// Config.ExtraVars and a named-pipe env/extravars reach ansible as -e @file,
// never on argv, and the files are gone after the run.
func TestExtraVarsFiles(t *testing.T) {
	cfg := fakeConfig(t, "env")
	cfg.ExtraVars = map[string]any{"secret_var": "hunter2-value"}
	fifo := filepath.Join(cfg.PrivateDataDir, "env", "extravars")
	must(t, os.MkdirAll(filepath.Dir(fifo), 0o700))
	must(t, syscall.Mkfifo(fifo, 0o600))
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			f.WriteString("from_pipe: 1\n")
			f.Close()
		}
	}()
	res, got := runEnvFake(t, cfg)
	var files []string
	for i, a := range got.Args {
		assert.NotContains(t, a, "hunter2-value")
		if a == "-e" {
			files = append(files, strings.TrimPrefix(got.Args[i+1], "@"))
		}
	}
	require.Len(t, files, 2, "argv: %q", got.Args)
	assert.JSONEq(t, `{"from_pipe": 1}`, got.Files[files[0]])
	assert.JSONEq(t, `{"secret_var": "hunter2-value"}`, got.Files[files[1]])
	for _, f := range files {
		assert.True(t, strings.HasPrefix(f, res.ArtifactDir), f)
		_, err := os.Stat(f)
		assert.ErrorIs(t, err, fs.ErrNotExist, "%s is removed after the run", f)
	}
}

func init() {
	// Prints a warning as ansible does before it loads the callback plugin,
	// then sends one event, and reports to FAKE_OUT whether its -e @files
	// stayed until the event and disappeared within 5 s after it.
	fakeModes["extravars-gone"] = func() int {
		var files []string
		for i, a := range os.Args {
			if a == "-e" && i+1 < len(os.Args) {
				files = append(files, strings.TrimPrefix(os.Args[i+1], "@"))
			}
		}
		fmt.Fprint(os.Stdout, "[WARNING]: before the plugin\n")
		time.Sleep(300 * time.Millisecond)
		for _, p := range files {
			if _, err := os.Stat(p); err != nil {
				os.WriteFile(os.Getenv("FAKE_OUT"), []byte("gone before the first event: "+p), 0o600)
				return 0
			}
		}
		fmt.Fprint(os.Stdout, fakeEvent("playbook_on_start", "00000000-0000-0000-0000-000000000000", ""))
		result := "gone"
		for _, p := range files {
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
					break
				} else if time.Now().After(deadline) {
					result = "still there: " + p
					break
				}
			}
		}
		os.WriteFile(os.Getenv("FAKE_OUT"), []byte(result), 0o600)
		return 0
	}
}

// Extra vars files, a credential's among them, are removed once the
// callback plugin's first event shows that ansible has read them, not when
// the run ends: a run killed later leaves none. Text before that event is
// no sign: ansible prints warnings before it loads extra vars.
func TestExtraVarsFilesGoneAtFirstEvent(t *testing.T) {
	cfg := fakeConfig(t, "extravars-gone")
	out := filepath.Join(t.TempDir(), "out")
	cfg.EnvVars["FAKE_OUT"] = out
	cfg.ExtraVars = map[string]any{"secret_var": "hunter2-value"}
	ct, err := credentials.ParseCredentialType([]byte("fields: [{id: token, secret: true}]"), []byte("extra_vars: {api_token: '{{ token }}'}"))
	require.NoError(t, err)
	cfg.Credentials = []credentials.Credential{credentials.Custom{Type: ct, Inputs: map[string]any{"token": "tok-secret-123"}}}
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(res.Command, " "), "/.arunner/extravars.json")
	assert.Contains(t, strings.Join(res.Command, " "), "/.arunner/credentials/")
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, "gone", string(data))
}

func TestNoPTY(t *testing.T) {
	cfg := fakeConfig(t, "stderr")
	cfg.NoPTY = true
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, "{\"json\": \"on stdout\"}\n", readArtifact(t, res, "stdout"))
	assert.Equal(t, "a warning on stderr\n", readArtifact(t, res, "stderr"))
}

// In JSON mode the stdout artifact and Output hold one JSON event per line,
// as ansible-runner's json mode writes them.
func TestJSONOutput(t *testing.T) {
	cfg := fakeConfig(t, "events")
	cfg.EnvVars["FAKE_EVENTS"] = "2"
	var out strings.Builder
	cfg.Output, cfg.JSONOutput = &out, true
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	for name, text := range map[string]string{"artifact": readArtifact(t, res, "stdout"), "Output": out.String()} {
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		require.Len(t, lines, 4, name)
		for i, line := range lines {
			var ev map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &ev), "%s line %d", name, i)
			assert.EqualValues(t, i+1, ev["counter"])
		}
	}
}

// Events and HostEvents read the run back from job_events/; an
// EventHandler returning false keeps an event out of it (and so out of
// Events) while FinalCounter still counts it.
func TestEventsReadBack(t *testing.T) {
	cfg := fakeConfig(t, "events")
	cfg.EnvVars["FAKE_EVENTS"] = "3"
	var seen []int
	cfg.EventHandler = func(ev *events.Event) bool {
		seen = append(seen, ev.Counter)
		return ev.Counter != 2 // drop the first runner_on_ok
	}
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3, 4, 5}, seen)
	assert.Equal(t, 5, res.FinalCounter)

	var counters []int
	for ev, err := range res.Events() {
		require.NoError(t, err)
		counters = append(counters, ev.Counter)
	}
	assert.Equal(t, []int{1, 3, 4, 5}, counters)
	files, err := os.ReadDir(filepath.Join(res.ArtifactDir, "job_events"))
	require.NoError(t, err)
	assert.Len(t, files, 4)

	n := 0
	for ev, err := range res.HostEvents("localhost") {
		require.NoError(t, err)
		assert.Equal(t, "localhost", ev.Host())
		n++
	}
	assert.Equal(t, 3, n, "playbook_on_start, two runner_on_ok (stats has no host)")
}

func TestRotateArtifacts(t *testing.T) {
	pdd := fakePDD(t)
	for _, ident := range []string{"a1", "r1", "r2", "r3"} {
		cfg := fakeConfig(t, "ok")
		cfg.PrivateDataDir, cfg.Ident, cfg.RotateArtifacts = pdd, ident, 2
		_, err := Run(context.Background(), cfg)
		require.NoError(t, err)
		time.Sleep(100 * time.Millisecond) // distinct mtimes
	}
	entries, err := os.ReadDir(filepath.Join(pdd, "artifacts"))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"r2", "r3"}, names)
}

// Garbage on the event stream is reported, not fatal, and loses no text.
func TestGarbageFrames(t *testing.T) {
	res, err := Run(context.Background(), fakeConfig(t, "garbage"))
	require.NoError(t, err)
	assert.NotEmpty(t, res.FrameErrors)
	stdout := readArtifact(t, res, "stdout")
	for _, want := range []string{"before", "middle", "ok: [localhost]", "after"} {
		assert.Contains(t, stdout, want)
	}
	var names []string
	for ev, err := range res.Events() {
		require.NoError(t, err)
		names = append(names, ev.Event)
	}
	assert.Contains(t, names, "runner_on_ok")
}

// ansible killed from outside mid-run: a failed run with rc 128+9, what it
// printed kept, and what it started gone.
func TestKilledFromOutside(t *testing.T) {
	cfg, pids := treeConfig(t)
	job, err := Start(context.Background(), cfg)
	require.NoError(t, err)
	waitFor(t, "the tree", func() bool { return len(pids()) == 2 })
	must(t, syscall.Kill(pids()[0], syscall.SIGKILL))
	res, err := job.Wait()
	var exit *ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 137, exit.RC)
	assert.Equal(t, syscall.SIGKILL, exit.Signal)
	assert.EqualError(t, err, "ansible was killed by signal 9 (killed), rc 137 (status failed)")
	assert.Equal(t, StatusFailed, res.Status)
	assert.Equal(t, "137", readArtifact(t, res, "rc"))
	assert.Contains(t, readArtifact(t, res, "stdout"), "tree started")
	assertTreeGone(t, pids())
}

// env/cmdline is split like a shell would and placed right after the
// binary; Config.Cmdline replaces it.
func TestCmdline(t *testing.T) {
	args := func(t *testing.T, cfg Config) []string {
		_, got := runEnvFake(t, cfg)
		return got.Args
	}
	cfg := fakeConfig(t, "env")
	must(t, os.MkdirAll(filepath.Join(cfg.PrivateDataDir, "env"), 0o700))
	must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "env", "cmdline"), []byte(`--check -e 'greeting="hello world"'`+"\n"), 0o600))
	got := args(t, cfg)
	assert.Equal(t, []string{"--check", "-e", `greeting="hello world"`, "-i"}, got[:4])
	assert.Equal(t, "site.yml", got[len(got)-1])

	cfg.Cmdline = "--diff"
	got = args(t, cfg)
	assert.Equal(t, "--diff", got[0])
	assert.NotContains(t, got, "--check")
}

// Every event ansible wrote before exiting reaches the EventHandler and
// job_events/, however long the handler takes over the backlog that the
// pty still holds when ansible exits (here several seconds: more than the
// quiet spell after which an open but silent pty is given up).
func TestSlowHandlerGetsEveryEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("takes ~6 s")
	}
	const n = 60
	cfg := fakeConfig(t, "events")
	cfg.EnvVars["FAKE_EVENTS"] = strconv.Itoa(n)
	seen := 0
	cfg.EventHandler = func(ev *events.Event) bool {
		seen++
		time.Sleep(100 * time.Millisecond)
		return true
	}
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, StatusSuccessful, res.Status)
	assert.Equal(t, n+2, seen, "playbook_on_start, the events, playbook_on_stats")
	assert.Equal(t, n+2, res.FinalCounter)
	files, err := os.ReadDir(filepath.Join(res.ArtifactDir, "job_events"))
	require.NoError(t, err)
	assert.Len(t, files, n+2)
	assert.Contains(t, readArtifact(t, res, "stdout"), "PLAY RECAP")
}

// The quiet spell that ends the drain counts from ansible's exit: output
// that came long before (a silent task, then the last lines and exit)
// must not make the runner give up on what it has not read yet.
func TestDrainedCountsFromExit(t *testing.T) {
	var filtering atomic.Bool
	var lastOutput, lastFiltered atomicTime
	lastOutput.Store(time.Now().Add(-time.Minute))
	lastFiltered.Store(time.Now().Add(-time.Minute))
	readDone := make(chan error, 1)
	time.AfterFunc(drainQuiet/2, func() { readDone <- nil })
	assert.True(t, drained(readDone, &filtering, &lastOutput, &lastFiltered), "gave up before the reader reached EOF")

	// Nothing read and nothing filtered since the exit: given up after drainQuiet.
	start := time.Now()
	assert.False(t, drained(make(chan error), &filtering, &lastOutput, &lastFiltered))
	assert.GreaterOrEqual(t, time.Since(start), drainQuiet)
}
