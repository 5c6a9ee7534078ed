package runner

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A run without a playbook_on_stats event (an ad hoc command, a canceled
// run) has empty stats, never nil ones: res.Stats().OK["h"] cannot panic.
func TestStatsNeverNil(t *testing.T) {
	res, err := Run(context.Background(), fakeConfig(t, "ok"))
	require.NoError(t, err)
	require.NotNil(t, res.Stats())
	assert.Empty(t, res.Stats().Processed)
	assert.Zero(t, res.Stats().OK["localhost"])

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err = Run(ctx, fakeConfig(t, "sleep"))
	require.ErrorIs(t, err, ErrCanceled)
	require.NotNil(t, res.Stats())
	assert.Empty(t, res.Stats().Failures)

	var none *Result
	require.NotNil(t, none.Stats())
}
