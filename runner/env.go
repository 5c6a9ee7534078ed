package runner

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/isolation"
	"github.com/arunner/arunner/privdata"
)

// runnerManaged are the variables the runner itself sets; a caller's value
// for one of them is refused. The callback variables come from the events
// package; ANSIBLE_STDOUT_CALLBACK and ANSIBLE_CALLBACK_PLUGINS are not
// refused: a caller's stdout callback is honoured for the human text and a
// caller's callback plugin path is kept after ours.
var runnerManaged = []string{
	"PYTHONUNBUFFERED",
	"AWX_ISOLATED_DATA_DIR",
	"ANSIBLE_CACHE_PLUGIN",
	"ANSIBLE_CACHE_PLUGIN_CONNECTION",
}

func isManaged(name string) bool {
	if name == "ANSIBLE_STDOUT_CALLBACK" || name == "ANSIBLE_CALLBACK_PLUGINS" {
		return false
	}
	for _, m := range runnerManaged {
		if m == name {
			return true
		}
	}
	for _, m := range eventproto.ManagedEnvKeys() {
		if m == name {
			return true
		}
	}
	return false
}

// buildEnv builds the child's environment as ansible-runner does: this
// process's environment (except in a container), then env/envvars, then Config.EnvVars, then the
// the credentials' variables, then the variables the runner manages.
func (r *run) buildEnv(d *privdata.Dir, credEnv map[string]string) (map[string]string, error) {
	env := make(map[string]string, 64)
	if r.iso.Mode() != isolation.Container {
		// A container gets the run's own variables only, as with
		// ansible-runner: the host's PATH or HOME would be wrong there.
		env = environ()
	}
	for _, k := range slices.Sorted(maps.Keys(d.EnvVars)) {
		if isManaged(k) {
			return nil, &ManagedEnvError{Name: k, Source: r.paths().Env("envvars")}
		}
		env[k] = d.EnvVars[k]
	}
	for _, k := range slices.Sorted(maps.Keys(r.cfg.EnvVars)) {
		if isManaged(k) {
			return nil, &ManagedEnvError{Name: k, Source: "Config.EnvVars"}
		}
		if err := privdata.CheckEnvVar(k, r.cfg.EnvVars[k]); err != nil {
			return nil, &ConfigError{Field: "EnvVars", Err: fmt.Errorf("key %q: %w", k, err)}
		}
		env[k] = r.cfg.EnvVars[k]
	}
	for _, k := range slices.Sorted(maps.Keys(credEnv)) {
		if isManaged(k) {
			return nil, &ManagedEnvError{Name: k, Source: "Config.Credentials"}
		}
		env[k] = credEnv[k]
	}

	// ANSIBLE_CALLBACK_PLUGINS is split on ':': the plugin goes where
	// ansible takes the path as it is.
	pluginDir := filepath.Join(r.ansibleDir(), "callback")
	r.planned = append(r.planned, planFile{PlanFile: PlanFile{Path: pluginDir, What: "callback plugin"}, plugin: true})
	// The plugin's tokens carry the run's key, so that a token printed by
	// a task is not taken for an event; it is not recorded with the env.
	key, err := eventproto.NewKey()
	if err != nil {
		return nil, err
	}
	r.addSecret(key)
	userCallback := env["ANSIBLE_STDOUT_CALLBACK"]
	userPlugins := env["ANSIBLE_CALLBACK_PLUGINS"]
	for k, v := range eventproto.Env(eventproto.EnvOptions{
		PluginDir:           pluginDir,
		UserStdoutCallback:  userCallback,
		OmitEventData:       r.cfg.OmitEventData,
		OnlyFailedEventData: r.cfg.OnlyFailedEventData,
		Key:                 key,
		// The side band gets event JSON past the pty's 4 KiB reads, and
		// its goroutine decodes records while the terminal's reader
		// scans the text: through pipes (NoPTY) too, where that beats
		// decoding base64 tokens on one goroutine (BENCHMARKS.md).
		SideBand: true,
		Window:   r.cfg.EventWindow,
	}) {
		env[k] = v
	}
	if userPlugins != "" {
		// Ours first, so that our plugin is the one found under its name.
		env["ANSIBLE_CALLBACK_PLUGINS"] += ":" + userPlugins
	}

	env["PYTHONUNBUFFERED"] = "1"
	env["ANSIBLE_RETRY_FILES_ENABLED"] = "False"
	if _, ok := env["ANSIBLE_HOST_KEY_CHECKING"]; !ok {
		env["ANSIBLE_HOST_KEY_CHECKING"] = "False"
	}
	env["AWX_ISOLATED_DATA_DIR"] = r.art.Dir
	env["ANSIBLE_CACHE_PLUGIN"] = "jsonfile"
	env["ANSIBLE_CACHE_PLUGIN_CONNECTION"] = r.factCachePath()
	if t, ok := r.cfg.Target.(Role); ok {
		env["ANSIBLE_ROLES_PATH"] = r.rolesPath(t)
	}
	if isAdHoc(r.cfg.Target) {
		env["ANSIBLE_LOAD_CALLBACK_PLUGINS"] = "1"
		if _, ok := env["AD_HOC_COMMAND_ID"]; !ok {
			env["AD_HOC_COMMAND_ID"] = "1"
		}
	}
	return env, nil
}

func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// lookPath finds name on the PATH the child will have, not on ours.
func lookPath(name string, env map[string]string) string {
	if strings.Contains(name, "/") {
		return name
	}
	for _, dir := range filepath.SplitList(env["PATH"]) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return name
}
