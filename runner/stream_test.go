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
	for ev, err := range Stream(context.Background(), cfg) {
		require.NoError(t, err)
		counter++
		assert.Equal(t, counter, ev.Counter, "counters are gap-free and in order")
		names = append(names, ev.Event)
	}
	require.Len(t, names, 7)
	assert.Equal(t, "playbook_on_start", names[0])
	assert.Equal(t, "playbook_on_stats", names[6])
}

func TestStreamYieldsRunError(t *testing.T) {
	var last error
	n := 0
	for ev, err := range Stream(context.Background(), fakeConfig(t, "exit2")) {
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
}

// Breaking out of the loop cancels the run and returns only once it ended.
func TestStreamBreakCancels(t *testing.T) {
	cfg, pids := treeConfig(t)
	for range Stream(context.Background(), cfg) {
		break // the first event is the fake's "tree started" line
	}
	assertTreeGone(t, pids())
}
