package eventproto

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInstallPlugin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "callback")
	got, err := InstallPlugin(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, got)
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	fst, err := os.Stat(filepath.Join(dir, StdoutCallback+".py"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fst.Mode().Perm())
	want, err := os.ReadFile(filepath.Join("plugin", "arunner.py"))
	require.NoError(t, err)
	have, err := os.ReadFile(filepath.Join(dir, StdoutCallback+".py"))
	require.NoError(t, err)
	assert.Equal(t, want, have)

	// Reinstalling over an existing, loosened dir tightens it again.
	require.NoError(t, os.Chmod(dir, 0o755))
	_, err = InstallPlugin(dir)
	require.NoError(t, err)
	st, err = os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestInstallPluginRefusesSymlinkAndFile(t *testing.T) {
	base := t.TempDir()
	target := filepath.Join(base, "target")
	require.NoError(t, os.Mkdir(target, 0o700))
	link := filepath.Join(base, "link")
	require.NoError(t, os.Symlink(target, link))
	_, err := InstallPlugin(link)
	require.Error(t, err)
	assert.Contains(t, err.Error(), link)

	file := filepath.Join(base, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = InstallPlugin(file)
	require.Error(t, err)
}

func TestEnv(t *testing.T) {
	tests := []struct {
		name string
		in   EnvOptions
		want map[string]string
	}{
		{
			name: "defaults",
			in:   EnvOptions{PluginDir: "/p"},
			want: map[string]string{
				"ANSIBLE_CALLBACK_PLUGINS": "/p", "ANSIBLE_STDOUT_CALLBACK": "arunner", "ORIGINAL_STDOUT_CALLBACK": "",
				"RUNNER_OMIT_EVENTS": "False", "RUNNER_ONLY_FAILED_EVENTS": "False", "MAX_EVENT_RES": "700000",
			},
		},
		{
			name: "all set",
			in:   EnvOptions{PluginDir: "/p", UserStdoutCallback: "minimal", OmitEventData: true, OnlyFailedEventData: true, MaxEventRes: 10, SideBand: true, Key: "k", Window: 5 * time.Millisecond},
			want: map[string]string{
				"ANSIBLE_CALLBACK_PLUGINS": "/p", "ANSIBLE_STDOUT_CALLBACK": "arunner", "ORIGINAL_STDOUT_CALLBACK": "minimal",
				"RUNNER_OMIT_EVENTS": "True", "RUNNER_ONLY_FAILED_EVENTS": "True", "MAX_EVENT_RES": "10",
				"ARUNNER_EVENT_FD": "3", "ARUNNER_EVENT_KEY": "k", "ARUNNER_EVENT_WINDOW_MS": "5",
			},
		},
		{
			name: "no window",
			in:   EnvOptions{PluginDir: "/p", Window: -1},
			want: map[string]string{
				"ANSIBLE_CALLBACK_PLUGINS": "/p", "ANSIBLE_STDOUT_CALLBACK": "arunner", "ORIGINAL_STDOUT_CALLBACK": "",
				"RUNNER_OMIT_EVENTS": "False", "RUNNER_ONLY_FAILED_EVENTS": "False", "MAX_EVENT_RES": "700000",
				"ARUNNER_EVENT_WINDOW_MS": "0",
			},
		},
		{
			name: "window under a millisecond",
			in:   EnvOptions{PluginDir: "/p", Window: time.Microsecond},
			want: map[string]string{
				"ANSIBLE_CALLBACK_PLUGINS": "/p", "ANSIBLE_STDOUT_CALLBACK": "arunner", "ORIGINAL_STDOUT_CALLBACK": "",
				"RUNNER_OMIT_EVENTS": "False", "RUNNER_ONLY_FAILED_EVENTS": "False", "MAX_EVENT_RES": "700000",
				"ARUNNER_EVENT_WINDOW_MS": "1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Env(tt.in)
			assert.Equal(t, tt.want, got)
			keys := make([]string, 0, len(got))
			for k := range got {
				keys = append(keys, k)
			}
			if !tt.in.SideBand {
				keys = append(keys, SideBandEnv) // managed, but only set with the side band
			}
			if tt.in.Key == "" {
				keys = append(keys, KeyEnv) // managed, but only set with a key
			}
			if tt.in.Window == 0 {
				keys = append(keys, EventWindowEnv) // managed, but only set with a window
			}
			assert.ElementsMatch(t, ManagedEnvKeys(), keys)
		})
	}
}

// The plugin's own default is the one DefaultEventWindow documents.
func TestDefaultEventWindowIsThePlugins(t *testing.T) {
	src, err := pluginFS.ReadFile("plugin/arunner.py")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^EVENT_WINDOW_MS = (\d+)$`).FindSubmatch(src)
	require.NotNil(t, m, "EVENT_WINDOW_MS in the plugin")
	assert.Equal(t, strconv.FormatInt(DefaultEventWindow.Milliseconds(), 10), string(m[1]))
}
