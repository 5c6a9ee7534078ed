package runner

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/eventproto"
)

// Config.EventWindow reaches the plugin, in whole milliseconds; zero
// leaves the plugin's default; and the variable that carries it is the
// runner's, not the caller's.
func TestEventWindowReachesPlugin(t *testing.T) {
	for _, tc := range []struct {
		window time.Duration
		want   string // "" for unset
	}{
		{0, ""},
		{-1, "0"},
		{5 * time.Millisecond, "5"},
		{1500 * time.Microsecond, "2"},
	} {
		cfg := fakeConfig(t, "ok")
		cfg.EventWindow = tc.window
		got, set := "", false
		cfg.Wrap = func(c *Command) error { got, set = c.Env[eventproto.EventWindowEnv]; return nil }
		_, err := Run(context.Background(), cfg)
		require.NoError(t, err)
		assert.Equal(t, tc.want != "", set, "window %v", tc.window)
		assert.Equal(t, tc.want, got, "window %v", tc.window)
	}

	cfg := fakeConfig(t, "ok")
	cfg.EnvVars[eventproto.EventWindowEnv] = "0"
	_, err := Run(context.Background(), cfg)
	var me *ManagedEnvError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, eventproto.EventWindowEnv, me.Name)
}
