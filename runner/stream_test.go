package runner

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStream(t *testing.T) {
	cfg := fakeConfig(t, "events")
	cfg.EnvVars["FAKE_EVENTS"] = "5"
	var names []string
	counter := 0
	evs, result := Stream(context.Background(), cfg)
	assert.Nil(t, result(), "no Result before the loop")
	for ev, err := range evs {
		require.NoError(t, err)
		counter++
		assert.Equal(t, counter, ev.Counter, "counters are gap-free and in order")
		names = append(names, ev.Event)
	}
	require.Len(t, names, 7)
	assert.Equal(t, "playbook_on_start", names[0])
	assert.Equal(t, "playbook_on_stats", names[6])

	// The Result, as Run would have returned it.
	res := result()
	require.NotNil(t, res)
	assert.Equal(t, StatusSuccessful, res.Status)
	assert.Equal(t, 7, res.FinalCounter)
	assert.Equal(t, 5, res.Stats().OK["localhost"])
	assert.Nil(t, res.Err)
}

func TestStreamYieldsRunError(t *testing.T) {
	var last error
	n := 0
	evs, result := Stream(context.Background(), fakeConfig(t, "exit2"))
	for ev, err := range evs {
		if err != nil {
			last = err
			continue
		}
		n++
		assert.Equal(t, "verbose", ev.Event)
	}
	var exitErr *ExitError
	require.ErrorAs(t, last, &exitErr)
	assert.Equal(t, 2, exitErr.RC)
	assert.Equal(t, 1, n)
	res := result()
	require.NotNil(t, res)
	assert.Equal(t, StatusFailed, res.Status)
	assert.Equal(t, 2, res.RC)
	assert.Same(t, last, res.Err)
}

// Breaking out of the loop cancels the run and returns only once it ended.
func TestStreamBreakCancels(t *testing.T) {
	cfg, pids := treeConfig(t)
	evs, result := Stream(context.Background(), cfg)
	for range evs {
		break // the first event is the fake's "tree started" line
	}
	assertTreeGone(t, pids())
	res := result()
	require.NotNil(t, res, "the canceled run's Result")
	assert.Equal(t, StatusCanceled, res.Status)
}

// A run that cannot start yields its error and has no Result; each range
// starts a run of its own, and result tells the latest.
func TestStreamResultOfEachRange(t *testing.T) {
	evs, result := Stream(context.Background(), Config{})
	var errs []error
	for _, err := range evs {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	var ce *ConfigError
	require.ErrorAs(t, errs[0], &ce)
	assert.Nil(t, result())

	cfg := fakeConfig(t, "ok")
	cfg.Ident = ""
	evs, result = Stream(context.Background(), cfg)
	var idents []string
	for range 2 {
		for range evs {
		}
		require.NotNil(t, result())
		idents = append(idents, result().Ident)
	}
	assert.NotEqual(t, idents[0], idents[1])
}
