package isolation

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// Options are ansible-runner's process isolation settings, under the names
// of its env/settings keys (and of its CLI flags, with dashes).
type Options struct {
	// Enabled is process_isolation: without it nothing is isolated.
	Enabled bool
	// Executable is process_isolation_executable: "podman" (the default,
	// as ansible-runner's) or "docker" run a container from Image; any
	// other value is taken for a bubblewrap binary, as ansible-runner
	// decides by the exact name.
	Executable string
	// Image is container_image, required for a container (ansible-runner
	// 2.3.1 falls back to quay.io/ansible/ansible-runner:devel; a run on an
	// image nobody chose is refused here instead, as in later versions).
	Image string
	// VolumeMounts are container_volume_mounts, "src:dst[:options]".
	VolumeMounts []string
	// ContainerOptions are container_options, one engine argument each,
	// placed after the runner's own.
	ContainerOptions []string
	// Path is process_isolation_path. ansible-runner puts the empty
	// stand-ins of hidden paths there; the sandbox hides them with a tmpfs
	// or /dev/null instead, so it is accepted and unused.
	Path string
	// HidePaths, ROPaths and ShowPaths are process_isolation_hide_paths,
	// _ro_paths and _show_paths: hidden, bound read-only and bound
	// writable in the sandbox (bubblewrap only, as in ansible-runner).
	HidePaths, ROPaths, ShowPaths []string
	// DirectoryIsolationBasePath is directory_isolation_base_path: a copy
	// of the project made for the run. Not supported: a run that sets it is
	// refused (ErrUnsupported).
	DirectoryIsolationBasePath string
}

// Mode is how a run is isolated.
type Mode int

const (
	None Mode = iota
	// Sandbox is bubblewrap.
	Sandbox
	// Container is podman or docker.
	Container
)

// DefaultExecutable is ansible-runner's process_isolation_executable.
const DefaultExecutable = "podman"

// Engine is the executable that isolates the run.
func (o *Options) Engine() string {
	if o.Executable == "" {
		return DefaultExecutable
	}
	return o.Executable
}

// Mode tells how o isolates a run: by the executable's exact name, as
// ansible-runner decides ("/usr/bin/podman" is taken for bubblewrap there
// too).
func (o *Options) Mode() Mode {
	switch {
	case o == nil || !o.Enabled:
		return None
	case o.Engine() == "podman" || o.Engine() == "docker":
		return Container
	}
	return Sandbox
}

// ErrUnsupported is matched by the error of a setting arunner does not
// honour: the run is refused rather than run without it.
var ErrUnsupported = errors.New("not supported by arunner")

// SettingError is a process isolation setting of the wrong type, or one
// arunner does not support; Key is its env/settings key.
type SettingError struct {
	Key string
	Err error
}

func (e *SettingError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *SettingError) Unwrap() error { return e.Err }

// Keys are the env/settings keys FromSettings reads.
var Keys = []string{
	"process_isolation", "process_isolation_executable", "process_isolation_path",
	"process_isolation_hide_paths", "process_isolation_show_paths", "process_isolation_ro_paths",
	"directory_isolation_base_path", "container_image", "container_volume_mounts",
	"container_options", "container_auth_data",
}

// FromSettings returns base with the isolation keys of an env/settings file
// (parsed, as privdata.Settings.Raw holds it) applied over it: as in
// ansible-runner, what env/settings says beats the caller's values. A
// value of the wrong type is a *SettingError, never ignored; so is
// container_auth_data, which arunner does not support (log in with the
// engine beforehand instead).
func FromSettings(raw map[string]any, base Options) (Options, error) {
	o := base
	o.VolumeMounts = slices.Clone(o.VolumeMounts)
	o.ContainerOptions = slices.Clone(o.ContainerOptions)
	o.HidePaths, o.ROPaths, o.ShowPaths = slices.Clone(o.HidePaths), slices.Clone(o.ROPaths), slices.Clone(o.ShowPaths)
	for _, key := range Keys {
		v, ok := raw[key]
		if !ok {
			continue
		}
		var err error
		switch key {
		case "process_isolation":
			o.Enabled = truthy(v)
		case "process_isolation_executable":
			err = str(v, &o.Executable)
		case "process_isolation_path":
			err = str(v, &o.Path)
		case "container_image":
			err = str(v, &o.Image)
		case "directory_isolation_base_path":
			err = str(v, &o.DirectoryIsolationBasePath)
		case "process_isolation_hide_paths":
			err = list(v, &o.HidePaths)
		case "process_isolation_show_paths":
			err = list(v, &o.ShowPaths)
		case "process_isolation_ro_paths":
			err = list(v, &o.ROPaths)
		case "container_volume_mounts":
			err = list(v, &o.VolumeMounts)
		case "container_options":
			err = list(v, &o.ContainerOptions)
		case "container_auth_data":
			if v != nil {
				err = fmt.Errorf("registry credentials are %w: log in with the engine first", ErrUnsupported)
			}
		}
		if err != nil {
			return base, &SettingError{Key: key, Err: err}
		}
	}
	return o, nil
}

func str(v any, dst *string) error {
	switch t := v.(type) {
	case nil:
		*dst = ""
	case string:
		*dst = t
	default:
		return fmt.Errorf("want a string, got %T", v)
	}
	return nil
}

// list reads a list of strings. A bare string is refused: ansible-runner
// would iterate it character by character (hide_paths "/root" hides "/").
func list(v any, dst *[]string) error {
	switch t := v.(type) {
	case nil:
		*dst = nil
		return nil
	case []any:
		out := make([]string, 0, len(t))
		for i, e := range t {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("item %d: want a string, got %T", i, e)
			}
			out = append(out, s)
		}
		*dst = out
		return nil
	}
	return fmt.Errorf("want a list of strings, got %T", v)
}

// truthy is Python's truth value of a parsed settings value, which is how
// ansible-runner reads process_isolation ("yes", 1 and a quoted "false"
// all turn it on). A value of a type it does not know counts as true: a
// sandbox asked for in an unexpected way is still a sandbox asked for.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case string:
		return t != ""
	case int:
		return t != 0
	case float64:
		return t != 0
	case *big.Int:
		return t.Sign() != 0
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return true
}
