package runner

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/proctest"
	"github.com/arunner/arunner/privdata"
)

// A named pipe in env/ that no writer ever opens holds the run only until
// it is canceled or timed out, by any of the usual means. The run then ends
// as any canceled or timed-out run does: its status and rc 254 in the
// artifacts, the status handler and FinishedCallback called, nothing
// started, no private file left and no secret read before (env/passwords,
// fed through its own pipe) anywhere.
func TestStopWhileReadingPDD(t *testing.T) {
	const secret = "s3cret-pipe-pw"
	cases := []struct {
		name   string
		setup  func(t *testing.T, cfg *Config)
		stop   func(ctx context.CancelFunc, job *Job)
		status Status
		check  func(t *testing.T, err error)
	}{
		{"context", nil, func(cancel context.CancelFunc, _ *Job) { cancel() }, StatusCanceled, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrCanceled)
			assert.ErrorIs(t, err, context.Canceled)
		}},
		{"Job.Cancel", nil, func(_ context.CancelFunc, job *Job) { job.Cancel() }, StatusCanceled, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrCanceled)
			assert.NotErrorIs(t, err, context.Canceled)
		}},
		{"CancelCallback", func(t *testing.T, cfg *Config) {
			var polls atomic.Int32
			cfg.CancelCallback = func() bool { return polls.Add(1) > 2 }
		}, nil, StatusCanceled, func(t *testing.T, err error) {
			assert.ErrorIs(t, err, ErrCanceled)
			assert.NotErrorIs(t, err, context.Canceled)
		}},
		{"JobTimeout", func(t *testing.T, cfg *Config) { cfg.JobTimeout = 300 * time.Millisecond }, nil, StatusTimeout, func(t *testing.T, err error) {
			var te *TimeoutError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, JobTimeout, te.Kind)
			assert.Equal(t, "300ms", te.Limit)
		}},
		{"settings job_timeout", func(t *testing.T, cfg *Config) {
			must(t, os.WriteFile(filepath.Join(cfg.PrivateDataDir, "env", "settings"), []byte("job_timeout: 0.3\n"), 0o600))
		}, nil, StatusTimeout, func(t *testing.T, err error) {
			var te *TimeoutError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, "300ms", te.Limit)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := fakeConfig(t, "ok")
			env := filepath.Join(cfg.PrivateDataDir, "env")
			must(t, os.MkdirAll(env, 0o700))
			passwords, extravars := filepath.Join(env, "passwords"), filepath.Join(env, "extravars")
			must(t, syscall.Mkfifo(passwords, 0o600))
			must(t, syscall.Mkfifo(extravars, 0o600))
			go func() {
				if f, err := os.OpenFile(passwords, os.O_WRONLY, 0); err == nil {
					f.WriteString("'Vault password:': " + secret + "\n")
					f.Close()
				}
			}()
			if tc.setup != nil {
				tc.setup(t, &cfg)
			}
			var mu sync.Mutex
			var statuses []Status
			finished := 0
			cfg.StatusHandler = func(u StatusUpdate) {
				mu.Lock()
				statuses = append(statuses, u.Status)
				mu.Unlock()
			}
			cfg.FinishedCallback = func(*Result) { finished++ }
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			job, err := Start(ctx, cfg)
			require.NoError(t, err)
			start := time.Now()
			if tc.stop != nil {
				waitFor(t, "the runner to open env/extravars", func() bool { return proctest.HoldsOpen(os.Getpid(), extravars) })
				assert.Equal(t, StatusUnstarted, job.Status())
				tc.stop(cancel, job)
			}
			var res *Result
			select {
			case <-job.Done():
				res, err = job.Wait()
			case <-time.After(10 * time.Second):
				t.Fatal("the run did not end within 10s")
			}
			assert.Less(t, time.Since(start), 5*time.Second)
			require.Error(t, err)
			tc.check(t, err)
			var fe *privdata.FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, extravars, fe.Path)
			assert.NotContains(t, err.Error(), secret)

			assert.Equal(t, tc.status, res.Status)
			assert.Equal(t, tc.status, job.Status())
			assert.Equal(t, rcStopped, res.RC)
			assert.Equal(t, string(tc.status), readArtifact(t, res, "status"))
			assert.Equal(t, "254", readArtifact(t, res, "rc"))
			mu.Lock()
			assert.Equal(t, []Status{tc.status}, statuses, "nothing was started")
			mu.Unlock()
			assert.Equal(t, 1, finished)
			assert.False(t, proctest.HoldsOpen(os.Getpid(), extravars), "the pipe is closed")

			// Nothing private is left, and the secret is nowhere.
			_, err = os.Stat(filepath.Join(res.ArtifactDir, ".arunner"))
			assert.ErrorIs(t, err, fs.ErrNotExist)
			filepath.WalkDir(cfg.PrivateDataDir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					data, _ := os.ReadFile(p)
					assert.NotContains(t, string(data), secret, p)
				}
				return nil
			})
		})
	}
}

// A device in env/ is refused at once, naming the file and what it is:
// env/extravars linked to /dev/zero was read until memory ran out.
func TestDeviceInPDD(t *testing.T) {
	cfg := fakeConfig(t, "ok")
	env := filepath.Join(cfg.PrivateDataDir, "env")
	must(t, os.MkdirAll(env, 0o700))
	must(t, os.Symlink("/dev/zero", filepath.Join(env, "extravars")))
	started := false
	cfg.StatusHandler = func(u StatusUpdate) { started = started || u.Status == StatusStarting }
	res, err := Run(context.Background(), cfg)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.ErrorIs(t, err, privdata.ErrNotRegular)
	assert.Contains(t, err.Error(), filepath.Join(env, "extravars")+": not a regular file or named pipe: it is a character device")
	assert.False(t, started)
	assert.Equal(t, StatusError, res.Status)
	assert.Equal(t, "error", readArtifact(t, res, "status"))
	assert.True(t, strings.Contains(readArtifact(t, res, "stdout"), "character device"))
}

// A named pipe where the project dir belongs is refused without opening it
// (which would wait for a writer).
func TestProjectDirFIFO(t *testing.T) {
	cfg := fakeConfig(t, "ok")
	fifo := filepath.Join(t.TempDir(), "project")
	must(t, syscall.Mkfifo(fifo, 0o600))
	cfg.ProjectDir = fifo
	done := make(chan error, 1)
	go func() {
		_, err := Run(context.Background(), cfg)
		done <- err
	}()
	select {
	case err := <-done:
		var ce *ConfigError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "ProjectDir", ce.Field)
		assert.Contains(t, err.Error(), "is not a directory")
	case <-time.After(10 * time.Second):
		// Release the open for the leaked goroutine.
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatal("a named pipe as project dir held the run")
	}
}

// A run canceled while it is prepared, after the private data dir was read,
// ends canceled without starting ansible.
func TestCancelWhilePreparing(t *testing.T) {
	cfg := fakeConfig(t, "ok")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.Wrap = func(*Command) error { cancel(); return nil }
	var statuses []Status
	cfg.StatusHandler = func(u StatusUpdate) { statuses = append(statuses, u.Status) }
	res, err := Run(ctx, cfg)
	assert.ErrorIs(t, err, ErrCanceled)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, StatusCanceled, res.Status)
	assert.Equal(t, []Status{StatusCanceled}, statuses)
	assert.Equal(t, "254", readArtifact(t, res, "rc"))
}
