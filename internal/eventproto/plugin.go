package eventproto

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/arunner/arunner/internal/atomicfile"
)

// StdoutCallback is the name of arunner's stdout callback plugin, the value
// of ANSIBLE_STDOUT_CALLBACK.
const StdoutCallback = "arunner"

// DefaultMaxEventRes is ansible-runner's default MAX_EVENT_RES: a result
// whose Python str() is longer is replaced by {} in event_data.
const DefaultMaxEventRes = 700000

//go:embed plugin/arunner.py
var pluginFS embed.FS

// InstallPlugin writes the embedded callback plugin into dir, creating dir
// with mode 0700 and the files with 0600, and returns the directory to put
// on ANSIBLE_CALLBACK_PLUGINS. It refuses a dir that is a symlink or not a
// directory, and replaces the files atomically so a concurrent run never
// reads half a plugin.
func InstallPlugin(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("events: installing callback plugin: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("events: installing callback plugin: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("events: installing callback plugin: %s is not a directory", dir)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("events: installing callback plugin: %w", err)
	}
	err = fs.WalkDir(pluginFS, "plugin", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := pluginFS.ReadFile(p)
		if err != nil {
			return err
		}
		return writeFileAtomic(filepath.Join(dir, d.Name()), data)
	})
	if err != nil {
		return "", fmt.Errorf("events: installing callback plugin: %w", err)
	}
	return dir, nil
}

func writeFileAtomic(path string, data []byte) error {
	return atomicfile.Write(path, bytes.NewReader(data), 0o600, false)
}

// EnvOptions selects how the callback plugin behaves.
type EnvOptions struct {
	// PluginDir is the directory InstallPlugin returned. ansible splits
	// ANSIBLE_CALLBACK_PLUGINS on ':' and expands '$VAR' in it: a dir
	// whose path has either is not found, and ansible refuses the stdout
	// callback.
	PluginDir string
	// UserStdoutCallback is the stdout callback the user chose (from the
	// caller's ANSIBLE_STDOUT_CALLBACK); it prints the human text. Empty
	// means ansible.cfg's stdout_callback, else "default" ("minimal" when
	// AD_HOC_COMMAND_ID is set).
	UserStdoutCallback string
	// OmitEventData drops event_data from every event (RUNNER_OMIT_EVENTS).
	OmitEventData bool
	// OnlyFailedEventData keeps event_data only on failure events
	// (RUNNER_ONLY_FAILED_EVENTS): runner_on_failed, runner_on_async_failed
	// and runner_item_on_failed. ansible-runner 2.3 names the last one
	// runner_on_item_failed, so it drops item failures' data; we keep it.
	OnlyFailedEventData bool
	// MaxEventRes bounds the length of a result's str() kept in
	// event_data.res; 0 means DefaultMaxEventRes.
	MaxEventRes int
	// Key is the run's event key (NewKey): the plugin puts it in front of
	// every token it writes, and a Filter with the same FilterConfig.Key
	// takes no other token for the plugin's. Empty sets no KeyEnv, and the
	// plugin writes tokens without a key.
	Key string
	// SideBand asks for the events side band: SideBandEnv is set to
	// "3". The runner then passes a pipe as descriptor SideBandFD, whose
	// read end feeds a SideBand, and sets SideBandEnv to
	// SideBandEnvValue of its write end in the child's environment. The
	// plugin writes event JSON there only when descriptor 3 is that pipe;
	// otherwise events travel in-band on the terminal.
	SideBand bool
	// Window is how long the plugin may hold a side-band event so that it
	// goes out with the ones after it; 0 means the plugin's default,
	// DefaultEventWindow, and a negative Window writes each event at once.
	// An event that comes more than a window after the plugin's last write
	// goes out at once; events that come faster are written together at
	// the window's end, the records in one write and their markers in
	// another, which spares the plugin's writes and the runner's wake-ups
	// in long loops. Events are held only while the side band carries
	// them, and a normal exit (also after SIGINT, as on cancel) writes
	// what is held; ansible killed outright loses at most a window's
	// events. The plugin also reads the terminal's output flags (whether
	// an event's text may travel in its record) at most once a window, so
	// a change of them (stty -opost in a task) applies from the first
	// event a window after the last read. The plugin counts whole
	// milliseconds: a shorter positive Window is one.
	Window time.Duration
}

// DefaultEventWindow is the plugin's event window when EnvOptions.Window
// is zero (EVENT_WINDOW_MS in the plugin).
const DefaultEventWindow = 20 * time.Millisecond

// Env returns the environment variables the runner must set for ansible
// so that the plugin is loaded and configured. ANSIBLE_CALLBACK_PLUGINS
// holds only PluginDir: if the caller has its own value, the runner must
// append it after ours, PluginDir + ":" + theirs, so that our plugin is
// the one found under its name.
func Env(o EnvOptions) map[string]string {
	maxRes := o.MaxEventRes
	if maxRes <= 0 {
		maxRes = DefaultMaxEventRes
	}
	env := map[string]string{
		"ANSIBLE_CALLBACK_PLUGINS":  o.PluginDir,
		"ANSIBLE_STDOUT_CALLBACK":   StdoutCallback,
		"ORIGINAL_STDOUT_CALLBACK":  o.UserStdoutCallback,
		"RUNNER_OMIT_EVENTS":        pyBool(o.OmitEventData),
		"RUNNER_ONLY_FAILED_EVENTS": pyBool(o.OnlyFailedEventData),
		"MAX_EVENT_RES":             strconv.Itoa(maxRes),
	}
	if o.Key != "" {
		env[KeyEnv] = o.Key
	}
	if o.SideBand {
		env[SideBandEnv] = strconv.Itoa(SideBandFD)
	}
	switch {
	case o.Window < 0:
		env[EventWindowEnv] = "0"
	case o.Window > 0:
		env[EventWindowEnv] = strconv.FormatInt(int64((o.Window+time.Millisecond-1)/time.Millisecond), 10)
	}
	return env
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// ManagedEnvKeys returns the names Env may set. A caller may not override
// them, except ANSIBLE_CALLBACK_PLUGINS, which is merged as Env describes,
// and ANSIBLE_STDOUT_CALLBACK, which becomes EnvOptions.UserStdoutCallback.
func ManagedEnvKeys() []string {
	return []string{
		"ANSIBLE_CALLBACK_PLUGINS", "ANSIBLE_STDOUT_CALLBACK", "ORIGINAL_STDOUT_CALLBACK",
		"RUNNER_OMIT_EVENTS", "RUNNER_ONLY_FAILED_EVENTS", "MAX_EVENT_RES", SideBandEnv, KeyEnv, EventWindowEnv,
	}
}

// KeyEnv names the environment variable that passes the run's event key to
// the callback plugin (EnvOptions.Key). The plugin removes it from its
// environment when it loads, before ansible starts any task, so that no
// task inherits it; it must not be recorded with the run's environment.
const KeyEnv = "ARUNNER_EVENT_KEY"

// NewKey returns a new event key: 16 base64 characters from 12 random
// bytes. A token's base64 text starts with the key, so that text a task
// prints (on a managed host, or a log file it shows) cannot pass for an
// event without it; 12 bytes keep the base64 of what follows the key
// aligned, so the plugin adds it to an encoded token as it is.
func NewKey() (string, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("events: event key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}
