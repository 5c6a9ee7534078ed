package isolation

import (
	"math/big"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// env/settings' keys win over the caller's, as in ansible-runner; keys it
// does not set keep the caller's value.
func TestFromSettings(t *testing.T) {
	base := Options{Image: "caller", ContainerOptions: []string{"--net=none"}, ROPaths: []string{"/a"}}
	o, err := FromSettings(map[string]any{
		"process_isolation": "yes", "container_image": "settings",
		"process_isolation_hide_paths": []any{"/root"}, "container_volume_mounts": nil,
	}, base)
	require.NoError(t, err)
	assert.Equal(t, Options{Enabled: true, Image: "settings", ContainerOptions: []string{"--net=none"},
		ROPaths: []string{"/a"}, HidePaths: []string{"/root"}}, o)

	for raw, key := range map[string]map[string]any{
		"process_isolation_hide_paths": {"process_isolation_hide_paths": "/root"},
		"container_options":            {"container_options": []any{"--a", 1}},
		"container_image":              {"container_image": 3},
		"container_auth_data":          {"container_auth_data": map[string]any{"host": "q"}},
	} {
		_, err := FromSettings(key, base)
		var se *SettingError
		require.ErrorAs(t, err, &se, raw)
		assert.Equal(t, raw, se.Key)
	}
}

func TestTruthy(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want bool
	}{
		{nil, false}, {false, false}, {true, true}, {"", false}, {"no", true}, {0, false}, {2, true},
		{0.0, false}, {0.5, true}, {new(big.Int), false}, {big.NewInt(1), true},
		{[]any{}, false}, {[]any{1}, true}, {map[string]any{}, false}, {map[string]any{"a": 1}, true},
		{struct{}{}, true},
	} {
		assert.Equal(t, tt.want, truthy(tt.v), "%#v", tt.v)
	}
}
