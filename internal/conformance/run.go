package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
)

// Command is the command artifact: what was run, where, with which
// environment.
type Command struct {
	Command []string          `json:"command"`
	Cwd     string            `json:"cwd"`
	Env     map[string]string `json:"env"`
}

// Run is what one run left in its artifacts dir.
type Run struct {
	// Events are the job_events files, sorted by counter.
	Events []events.Event
	// Stdout, Status and RC are the artifacts of those names, as written
	// (RC and Status without a trailing newline; ansible-runner writes none).
	Stdout, Status, RC string
	// Command is the command artifact; zero when there is none (a run
	// that never started ansible).
	Command Command
	// CommandKeys are the top-level keys of the command artifact, sorted.
	CommandKeys []string
	// PrivateDataDir is the run's private data dir, taken to be the
	// grandparent of the artifacts dir (<pdd>/artifacts/<ident>); Compare
	// replaces it by a placeholder in paths and text. Set it by hand when
	// the artifacts live elsewhere.
	PrivateDataDir string
}

// ReadArtifacts reads the artifacts dir of one run. Missing stdout, rc,
// status or command files are left empty, so that Compare reports the
// difference; an unreadable or malformed file fails t.
func ReadArtifacts(t testing.TB, artifactDir string) Run {
	t.Helper()
	r := Run{PrivateDataDir: filepath.Dir(filepath.Dir(artifactDir))}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(artifactDir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return ""
		}
		require.NoError(t, err, "artifact %s", name)
		return string(b)
	}
	r.Stdout = read("stdout")
	r.Status = strings.TrimSpace(read("status"))
	r.RC = strings.TrimSpace(read("rc"))
	if cmd := read("command"); cmd != "" {
		require.NoError(t, json.Unmarshal([]byte(cmd), &r.Command), "%s/command", artifactDir)
		var keys map[string]json.RawMessage
		require.NoError(t, json.Unmarshal([]byte(cmd), &keys), "%s/command", artifactDir)
		for k := range keys {
			r.CommandKeys = append(r.CommandKeys, k)
		}
		sort.Strings(r.CommandKeys)
	}
	files, err := filepath.Glob(filepath.Join(artifactDir, "job_events", "*.json"))
	require.NoError(t, err)
	for _, fn := range files {
		data, err := os.ReadFile(fn)
		require.NoError(t, err)
		var e events.Event
		require.NoError(t, json.Unmarshal(data, &e), fn)
		r.Events = append(r.Events, e)
	}
	sort.SliceStable(r.Events, func(i, j int) bool { return r.Events[i].Counter < r.Events[j].Counter })
	return r
}

// CleanEnv returns the process environment without the variables that
// would make ansible behave differently between two runs (ANSIBLE_*,
// RUNNER_*, the rest of the plugin's own, and AWX's job ids), plus extra in
// sorted order.
func CleanEnv(extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ANSIBLE_") || strings.HasPrefix(k, "RUNNER_") || slices.Contains(eventproto.ManagedEnvKeys(), k) ||
			k == "JOB_ID" || k == "AD_HOC_COMMAND_ID" || k == "PROJECT_UPDATE_ID" || k == "INVENTORY_UPDATE_ID" {
			continue
		}
		env = append(env, kv)
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		env = append(env, k+"="+extra[k])
	}
	return env
}

// RequireTools skips t unless every named tool is on PATH (CI installs
// ansible-core and ansible-runner, so there the tests run).
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
}

// ReferenceTimeout bounds one reference run, so that a hung ansible fails
// the test instead of the whole test binary.
const ReferenceTimeout = 150 * time.Second

// RunReference runs `ansible-runner run PDD --ident IDENT FLAGS...` with a
// cleaned environment (see CleanEnv) and returns its artifacts. A non-zero
// exit is not an error: ansible-runner exits with ansible's rc, which the
// caller compares. It skips t when ansible-runner is not installed.
func RunReference(t testing.TB, pdd, ident string, flags ...string) Run {
	t.Helper()
	return RunReferenceEnv(t, pdd, ident, nil, flags...)
}

// RunReferenceEnv is RunReference with env added to the cleaned
// environment, for what ansible-runner takes from it (a stdout callback,
// JOB_ID). TMPDIR is a temp dir of t's unless env sets it: ansible-runner
// stops a timed-out run with SIGKILL, which leaves the module's unpacked
// payload (ansible_<module>_payload_*) in the temp dir, /tmp otherwise.
func RunReferenceEnv(t testing.TB, pdd, ident string, env map[string]string, flags ...string) Run {
	t.Helper()
	RequireTools(t, "ansible-runner")
	if _, ok := env["TMPDIR"]; !ok {
		env = maps.Clone(env)
		if env == nil {
			env = map[string]string{}
		}
		env["TMPDIR"] = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), ReferenceTimeout)
	defer cancel()
	argv := append([]string{"run", pdd, "--ident", ident}, flags...)
	cmd := exec.CommandContext(ctx, "ansible-runner", argv...)
	cmd.Env = CleanEnv(env)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && (!errors.As(err, &exit) || ctx.Err() != nil) {
		t.Fatalf("ansible-runner %s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return ReadArtifacts(t, filepath.Join(pdd, "artifacts", ident))
}

// CopyDir copies the fixture dir src (a private data dir) to a fresh temp
// dir, removed when t ends, and returns the copy's path. Directories get
// mode 0700 and files keep their executable bit, as a real private data
// dir would have.
func CopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "pdd")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600|info.Mode().Perm()&0o100)
	})
	require.NoError(t, err, "copy %s", src)
	return dst
}
