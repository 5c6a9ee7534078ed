package factcache

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateHost(t *testing.T) {
	tests := []struct {
		host string
		ok   bool
	}{
		{"web1", true},
		{"web:22", true}, // ansible writes this name as is
		{"sp ace", true},
		{"ünïcode", true},
		{"10.0.0.1", true},
		{strings.Repeat("a", 255), true},
		{"", false},
		{".", false},
		{"..", false},
		{"../etc/passwd", false},
		{"a/b", false},
		{"/abs", false},
		{"nul\x00byte", false},
		{".hidden", false},
		{strings.Repeat("a", 256), false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			err := ValidateHost(tt.host)
			if tt.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidHost)
			var he *HostError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tt.host, he.Host)
			assert.Contains(t, err.Error(), "factcache: host ")
		})
	}
}

func TestSetGet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fact_cache")
	facts := Facts{"b": "<&>", "a": json.Number("1.0"), "n": []any{1, "x"}, "m": map[string]any{}}
	require.NoError(t, Set(dir, "h1", facts))

	data, err := os.ReadFile(filepath.Join(dir, "h1"))
	require.NoError(t, err)
	// json.dumps(sort_keys=True, indent=4) of the same value, no trailing newline.
	want := "{\n    \"a\": 1.0,\n    \"b\": \"<&>\",\n    \"m\": {},\n    \"n\": [\n        1,\n        \"x\"\n    ]\n}"
	assert.Equal(t, want, string(data))

	st, err := os.Stat(filepath.Join(dir, "h1"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	st, err = os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())

	got, err := Get(dir, "h1")
	require.NoError(t, err)
	assert.Equal(t, Facts{"a": json.Number("1.0"), "b": "<&>", "m": map[string]any{}, "n": []any{json.Number("1"), "x"}}, got)

	missing, err := Get(dir, "nobody")
	require.NoError(t, err)
	assert.NotNil(t, missing)
	assert.Empty(t, missing)

	require.ErrorIs(t, Set(dir, "../escape", facts), ErrInvalidHost)
	_, err = Get(dir, "../escape")
	require.ErrorIs(t, err, ErrInvalidHost)
	assert.NoFileExists(t, filepath.Join(filepath.Dir(dir), "escape"))

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestSetEscapesLikePython(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, Set(dir, "h1", Facts{"k": "é€😀\u2028"}))
	data, err := os.ReadFile(filepath.Join(dir, "h1"))
	require.NoError(t, err)
	// python3 -c 'import json; print(json.dumps({"k": "é€😀\u2028"}, sort_keys=True, indent=4))'
	assert.Equal(t, "{\n    \"k\": \"\\u00e9\\u20ac\\ud83d\\ude00\\u2028\"\n}", string(data))
	got, err := Get(dir, "h1")
	require.NoError(t, err)
	assert.Equal(t, "é€😀\u2028", got["k"])
}

func TestGetCorrupt(t *testing.T) {
	tests := []struct {
		name, content, msg string
	}{
		{"truncated", `{"a": 1, "b": [`, "truncated JSON"},
		{"empty", ``, "truncated JSON"},
		{"null", `null`, "not a JSON object"},
		{"array", `[1]`, "cannot unmarshal array"},
		{"trailing", `{"a": 1} {"b": 2}`, "trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "h1"), []byte(tt.content), 0o600))
			_, err := Get(dir, "h1")
			require.ErrorIs(t, err, ErrCorrupt)
			var ce *CorruptError
			require.True(t, errors.As(err, &ce))
			assert.Equal(t, "h1", ce.Host)
			assert.Equal(t, filepath.Join(dir, "h1"), ce.Path)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}
