package runner

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A leak check has two halves: trackLeaks, before the run, gives it a known
// ident, remembers which private data dir files the test wrote itself and
// records every StatusUpdate; assertNoSecrets, after it, looks for the
// secrets everywhere the run could have left them. The halves meet through
// leakRuns, keyed by ident, so that assertNoSecrets keeps the plain
// (t, res, err, secrets...) shape any test can call.

// leakRun is what trackLeaks recorded for one run.
type leakRun struct {
	pdd    string
	inputs map[string][32]byte // pdd-relative path -> sha256 before the run

	mu       sync.Mutex
	statuses []StatusUpdate
}

var leakRuns sync.Map // ident -> *leakRun

// trackLeaks prepares cfg for assertNoSecrets. Call it last, once cfg's
// private data dir is laid out: files present now are the test's own inputs
// (env/ssh_key, env/passwords) and are exempt unless the run changes them.
func trackLeaks(t testing.TB, cfg *Config) {
	t.Helper()
	if cfg.Ident == "" {
		cfg.Ident = uuid.NewString()
	}
	pdd, err := filepath.Abs(cfg.PrivateDataDir)
	require.NoError(t, err)
	lr := &leakRun{pdd: pdd, inputs: map[string][32]byte{}}
	require.NoError(t, walkFiles(pdd, func(rel string, data []byte) {
		lr.inputs[rel] = sha256.Sum256(data)
	}))
	ident := cfg.Ident
	leakRuns.Store(ident, lr)
	t.Cleanup(func() { leakRuns.Delete(ident) })

	next := cfg.StatusHandler
	cfg.StatusHandler = func(u StatusUpdate) {
		lr.mu.Lock()
		lr.statuses = append(lr.statuses, u)
		lr.mu.Unlock()
		if next != nil {
			next(u)
		}
	}
}

// assertNoSecrets fails t when any secret survives the run outside
// ansible's memory: in a file under the private data dir (artifacts,
// job_events, command, stdout, anything the run created or changed), in
// the Result, in err, or in a StatusUpdate. It also fails when a private
// key file, the run's runtime dir or its agent socket is left behind, or
// when a process of the run is still alive. cfg must have gone through
// trackLeaks.
func assertNoSecrets(t testing.TB, res *Result, err error, secrets ...string) {
	t.Helper()
	for _, leak := range findLeaks(t, res, err, secrets...) {
		t.Error(leak)
	}
	// Processes are killed when the run ends, but the kernel may take a
	// moment to reap them.
	var alive []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		alive = runProcesses(res, leakRunFor(t, res))
		if len(alive) == 0 || time.Now().After(deadline) {
			break
		}
	}
	for _, p := range alive {
		t.Errorf("leak: process of run %s still alive: %s", res.Ident, p)
	}
}

func leakRunFor(t testing.TB, res *Result) *leakRun {
	t.Helper()
	require.NotNil(t, res, "assertNoSecrets needs the run's Result")
	v, ok := leakRuns.Load(res.Ident)
	require.True(t, ok, "run %s was not prepared with trackLeaks", res.Ident)
	return v.(*leakRun)
}

// findLeaks returns one line per place a secret or key material was found.
func findLeaks(t testing.TB, res *Result, err error, secrets ...string) []string {
	t.Helper()
	lr := leakRunFor(t, res)
	require.NotEmpty(t, secrets, "a leak check without secrets proves nothing")
	for _, s := range secrets {
		// A short needle would match by chance and hide real findings.
		require.GreaterOrEqual(t, len(s), 6, "secret %q is too short to search for", s)
	}

	var leaks []string
	check := func(where string, data []byte) {
		for i, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				leaks = append(leaks, fmt.Sprintf("leak: secret #%d found in %s", i, where))
			}
		}
	}

	walkErr := walkFiles(lr.pdd, func(rel string, data []byte) {
		if sum, ok := lr.inputs[rel]; ok && sum == sha256.Sum256(data) {
			return
		}
		check(rel, data)
		if bytes.Contains(data, []byte("PRIVATE KEY-----")) {
			leaks = append(leaks, "leak: private key file left at "+rel)
		}
	})
	if walkErr != nil {
		leaks = append(leaks, "walking the private data dir: "+walkErr.Error())
	}
	if _, statErr := os.Lstat(filepath.Join(res.ArtifactDir, ".arunner")); !errors.Is(statErr, fs.ErrNotExist) {
		leaks = append(leaks, "leak: the run's runtime dir .arunner survived the run")
	}

	check("Result.Command", []byte(strings.Join(res.Command, "\x00")))
	check("Result.Cwd", []byte(res.Cwd))
	if res.Err != nil {
		check("Result.Err", []byte(res.Err.Error()))
	}
	if res.ArtifactErr != nil {
		check("Result.ArtifactErr", []byte(res.ArtifactErr.Error()))
	}
	if res.OutputErr != nil {
		check("Result.OutputErr", []byte(res.OutputErr.Error()))
	}
	for _, fe := range res.FrameErrors {
		check("Result.FrameErrors", []byte(fe.Error()))
	}
	if err != nil {
		check("the returned error", []byte(err.Error()))
	}

	lr.mu.Lock()
	statuses := append([]StatusUpdate(nil), lr.statuses...)
	lr.mu.Unlock()
	if len(statuses) == 0 {
		leaks = append(leaks, "no StatusUpdate was recorded: StatusHandler was replaced after trackLeaks")
	}
	for _, u := range statuses {
		data, jerr := json.Marshal(u)
		require.NoError(t, jerr)
		check("StatusUpdate "+string(u.Status), data)
	}

	if sock := agentSocket(res); sock != "" {
		if _, statErr := os.Lstat(sock); !errors.Is(statErr, fs.ErrNotExist) {
			leaks = append(leaks, "leak: agent socket "+sock+" survived the run")
		}
		if _, statErr := os.Lstat(filepath.Dir(sock)); !errors.Is(statErr, fs.ErrNotExist) {
			leaks = append(leaks, "leak: agent dir "+filepath.Dir(sock)+" survived the run")
		}
	}
	return leaks
}

// walkFiles calls fn with the content of every regular file under dir.
// Sockets and FIFOs are reported as errors: a run leaves neither behind.
func walkFiles(dir string, fn func(rel string, data []byte)) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		switch {
		case d.IsDir():
			return nil
		case d.Type()&(fs.ModeSocket|fs.ModeNamedPipe) != 0:
			return fmt.Errorf("%s is a %v left in the private data dir", rel, d.Type())
		case d.Type()&fs.ModeSymlink != 0:
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fn(rel, data)
		return nil
	})
}

// agentSocket is the SSH_AUTH_SOCK the command artifact recorded, if any.
func agentSocket(res *Result) string {
	data, err := os.ReadFile(filepath.Join(res.ArtifactDir, "command"))
	if err != nil {
		return ""
	}
	var cmd struct {
		Env map[string]string `json:"env"`
	}
	if json.Unmarshal(data, &cmd) != nil {
		return ""
	}
	return cmd.Env["SSH_AUTH_SOCK"]
}

// runProcesses lists the live processes (other than this one) whose working
// directory is inside the private data dir, or whose environment names it
// or the run's agent socket: ansible, its workers, ssh and ssh control
// masters all inherit the run's environment.
func runProcesses(res *Result, lr *leakRun) []string {
	needles := [][]byte{[]byte(lr.pdd)}
	if sock := agentSocket(res); sock != "" {
		needles = append(needles, []byte(sock))
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		base := filepath.Join("/proc", e.Name())
		hit := false
		if cwd, err := os.Readlink(filepath.Join(base, "cwd")); err == nil {
			hit = cwd == lr.pdd || strings.HasPrefix(cwd, lr.pdd+"/")
		}
		if env, err := os.ReadFile(filepath.Join(base, "environ")); err == nil && !hit {
			for _, n := range needles {
				hit = hit || bytes.Contains(env, n)
			}
		}
		if !hit {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join(base, "cmdline"))
		found = append(found, fmt.Sprintf("pid %d: %s", pid, bytes.ReplaceAll(bytes.TrimRight(cmdline, "\x00"), []byte{0}, []byte{' '})))
	}
	return found
}

// The checker itself must be able to fail: plant each kind of leak after a
// clean run and see it reported.
func TestLeakCheckerFindsLeaks(t *testing.T) {
	const secret = "planted-s3cret-value"
	newRun := func(t *testing.T) (*Result, error) {
		cfg := fakeConfig(t, "prompt")
		cfg.Passwords = []Password{{Pattern: `Vault password:\s*?$`, Response: secret}}
		must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "env-input"), []byte(secret), 0o600))
		trackLeaks(t, &cfg)
		return Run(context.Background(), cfg)
	}
	t.Run("clean run", func(t *testing.T) {
		res, err := newRun(t)
		require.NoError(t, err)
		assert.Empty(t, findLeaks(t, res, err, secret), "an unchanged input file is exempt")
	})
	cases := []struct {
		name  string
		plant func(res *Result) error
		want  string
	}{
		{"artifact file", func(res *Result) error {
			return os.WriteFile(filepath.Join(res.ArtifactDir, "stdout"), []byte("x "+secret), 0o600)
		}, "secret #0 found in artifacts/"},
		{"changed input", func(res *Result) error {
			return os.WriteFile(filepath.Join(filepath.Dir(filepath.Dir(res.ArtifactDir)), "env-input"), []byte(secret+"!"), 0o600)
		}, "secret #0 found in env-input"},
		{"key file", func(res *Result) error {
			return os.WriteFile(filepath.Join(res.ArtifactDir, "id"), []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"), 0o600)
		}, "private key file left at artifacts/"},
		{"runtime dir", func(res *Result) error {
			return os.Mkdir(filepath.Join(res.ArtifactDir, ".arunner"), 0o700)
		}, ".arunner survived"},
		{"result", func(res *Result) error {
			res.Command = append(res.Command, secret)
			return nil
		}, "found in Result.Command"},
		{"result error", func(res *Result) error {
			res.Err = errors.New(secret)
			return nil
		}, "found in Result.Err"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := newRun(t)
			require.NoError(t, err)
			require.NoError(t, tc.plant(res))
			assert.Contains(t, strings.Join(findLeaks(t, res, err, secret), "\n"), tc.want)
		})
	}
	t.Run("returned error", func(t *testing.T) {
		res, _ := newRun(t)
		assert.Contains(t, strings.Join(findLeaks(t, res, errors.New("boom: "+secret), secret), "\n"), "found in the returned error")
	})
	t.Run("status update", func(t *testing.T) {
		res, err := newRun(t)
		require.NoError(t, err)
		v, _ := leakRuns.Load(res.Ident)
		lr := v.(*leakRun)
		lr.statuses = append(lr.statuses, StatusUpdate{Env: map[string]string{"X": secret}})
		assert.Contains(t, strings.Join(findLeaks(t, res, err, secret), "\n"), "found in StatusUpdate")
	})
	t.Run("surviving process", func(t *testing.T) {
		res, err := newRun(t)
		require.NoError(t, err)
		lr := leakRunFor(t, res)
		sleep := exec.Command("sleep", "30")
		sleep.Dir = lr.pdd
		require.NoError(t, sleep.Start())
		assert.NotEmpty(t, runProcesses(res, lr), "a process working in the private data dir is found")
		sleep.Process.Kill()
		sleep.Wait()
		assert.Empty(t, runProcesses(res, lr))
	})
}
