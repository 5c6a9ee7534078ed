package runner

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
)

// recoverHookPanic runs f and returns the *HookPanic it panicked with, nil
// when it returned.
func recoverHookPanic(t *testing.T, f func()) (p *HookPanic) {
	t.Helper()
	defer func() {
		if v := recover(); v != nil {
			hp, ok := v.(*HookPanic)
			require.True(t, ok, "panicked with %T %v, want *HookPanic", v, v)
			p = hp
		}
	}()
	f()
	return nil
}

// TestHookPanic checks that a hook's panic stops the run, with nothing left
// behind, and comes out of Wait (or Run) on the caller's goroutine.
func TestHookPanic(t *testing.T) {
	cases := []struct {
		name    string // default hook
		hook    string
		mode    string
		arm     func(cfg *Config, pids func() []int, boom func())
		started bool   // ansible ran: its tree must be gone
		status  string // the status artifact
	}{
		{hook: "EventHandler", mode: "tree", started: true, status: "error", arm: func(cfg *Config, pids func() []int, boom func()) {
			// The first event, "tree started", comes after the pids.
			cfg.EventHandler = func(*events.Event) bool { boom(); return true }
		}},
		{hook: "CancelCallback", mode: "tree", started: true, status: "error", arm: func(cfg *Config, pids func() []int, boom func()) {
			cfg.CancelCallback = func() bool {
				if len(pids()) == 2 {
					boom()
				}
				return false
			}
		}},
		{hook: "StatusHandler", mode: "tree", status: "error", arm: func(cfg *Config, pids func() []int, boom func()) {
			cfg.StatusHandler = func(u StatusUpdate) {
				if u.Status == StatusStarting {
					boom()
				}
			}
		}},
		{hook: "Wrap", mode: "tree", status: "error", arm: func(cfg *Config, pids func() []int, boom func()) {
			cfg.Wrap = func(*Command) error { boom(); return nil }
		}},
		// The message of a run that failed before ansible started is an event too.
		{name: "EventHandler before the start", hook: "EventHandler", mode: "tree", status: "error", arm: func(cfg *Config, pids func() []int, boom func()) {
			cfg.Target = Playbook{Path: "nope.yml"}
			cfg.EventHandler = func(*events.Event) bool { boom(); return true }
		}},
		{hook: "FinishedCallback", mode: "ok", status: "successful", arm: func(cfg *Config, pids func() []int, boom func()) {
			cfg.FinishedCallback = func(*Result) { boom() }
		}},
	}
	for _, c := range cases {
		name := c.hook
		if c.name != "" {
			name = c.name
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg, pids := treeConfig(t)
			cfg.EnvVars["ARUNNER_FAKE"] = c.mode
			cfg.Ident = uuid.NewString()
			var panicked atomic.Bool
			var after atomic.Int32 // hook calls after the panic
			c.arm(&cfg, pids, func() { panicked.Store(true); panic("boom") })
			count := func() {
				if panicked.Load() {
					after.Add(1)
				}
			}
			if cfg.EventHandler == nil {
				cfg.EventHandler = func(*events.Event) bool { count(); return true }
			}
			if cfg.StatusHandler == nil {
				cfg.StatusHandler = func(StatusUpdate) { count() }
			}
			if cfg.CancelCallback == nil {
				cfg.CancelCallback = func() bool { count(); return false }
			}
			if cfg.FinishedCallback == nil {
				cfg.FinishedCallback = func(*Result) { count() }
			}

			job, err := Start(context.Background(), cfg)
			require.NoError(t, err)
			// The fake sleeps for a minute unless it is killed.
			waitFor(t, "the run to stop", func() bool {
				select {
				case <-job.Done():
					return true
				default:
					return false
				}
			})
			p := recoverHookPanic(t, func() { job.Wait() })
			require.NotNil(t, p, "Wait returned")
			assert.Equal(t, c.hook, p.Hook)
			assert.Equal(t, "boom", p.Value)
			assert.Contains(t, string(p.Stack), "hooks_test.go", "the stack is the hook's")
			assert.Contains(t, p.Error(), c.hook+" panicked: boom")
			assert.NotNil(t, recoverHookPanic(t, func() { job.Wait() }), "Wait panics every time")
			assert.Zero(t, after.Load(), "a hook ran after the panic")

			art := filepath.Join(cfg.PrivateDataDir, "artifacts", cfg.Ident)
			status, err := os.ReadFile(filepath.Join(art, "status"))
			require.NoError(t, err)
			assert.Equal(t, c.status, string(status))
			_, err = os.Stat(filepath.Join(art, ".arunner"))
			assert.ErrorIs(t, err, os.ErrNotExist, "the run's private dir survived the panic")
			if c.started {
				assertTreeGone(t, pids())
			} else {
				assert.Empty(t, pids(), "ansible started")
			}
		})
	}
}

func TestHookPanicFromRun(t *testing.T) {
	cfg := fakeConfig(t, "ok")
	cfg.EventHandler = func(*events.Event) bool { panic(os.ErrClosed) }
	p := recoverHookPanic(t, func() { Run(context.Background(), cfg) })
	require.NotNil(t, p, "Run returned")
	assert.Equal(t, "EventHandler", p.Hook)
	assert.ErrorIs(t, p, os.ErrClosed, "Unwrap gives an error panic value")
}

// TestStreamBodyPanics checks that a panic in a Stream loop's body does not
// leave the run behind it stuck: its handler must not block on the channel
// nobody reads any more.
func TestStreamBodyPanics(t *testing.T) {
	cfg := fakeConfig(t, "events")
	cfg.EnvVars["FAKE_EVENTS"] = "2000"
	cfg.Ident = uuid.NewString()
	var handled atomic.Int32
	cfg.EventHandler = func(*events.Event) bool { handled.Add(1); return true }
	assert.PanicsWithValue(t, "body", func() {
		evs, _ := Stream(context.Background(), cfg)
		for range evs {
			// The body holds the first event and the channel 256 more:
			// the 258th is on its way in, and the handler blocked.
			waitFor(t, "the channel to fill", func() bool { return handled.Load() >= 258 })
			panic("body")
		}
	})
	art := filepath.Join(cfg.PrivateDataDir, "artifacts", cfg.Ident)
	waitFor(t, "the run to end", func() bool {
		status, _ := os.ReadFile(filepath.Join(art, "status"))
		return len(status) > 0
	})
	_, err := os.Stat(filepath.Join(art, ".arunner"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
