package isolation

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

// hostTop are the top-level host dirs the sandbox sees, read-only: what
// ansible-runner binds (/usr, /etc, /opt, /bin), and the other /lib and
// /sbin dirs, bound or linked as they are on the host, without which no
// program starts on a merged-/usr system (ansible-runner#1310).
var hostTop = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"}

// sandbox builds the bubblewrap argv: a fresh root on which the host's
// system dirs are read-only, /dev and /proc of its own, a private /tmp,
// the hidden paths covered, the read-only ones bound, then the private
// data dir, the run's paths and the shown paths bound writable. As in
// ansible-runner, the sandbox shares the network and the run's
// environment, and ansible is in a PID namespace of its own that dies
// with the runner. Deliberate differences from ansible-runner 2.3.1: the
// /lib links exist; /dev is a minimal one (--dev), not the host's; a
// hidden directory is covered with an empty tmpfs and a hidden file with
// /dev/null, so nothing is left on disk; paths must exist.
func (o *Options) sandbox(r Run) (*Plan, error) {
	argv := []string{o.Engine(), "--die-with-parent", "--unshare-pid"}
	for _, top := range hostTop {
		fi, err := os.Lstat(top)
		switch {
		case err != nil:
			continue
		case fi.Mode()&os.ModeSymlink != 0:
			target, err := os.Readlink(top)
			if err != nil {
				return nil, err
			}
			argv = append(argv, "--symlink", target, top)
		case fi.IsDir():
			argv = append(argv, "--ro-bind", top, top)
		}
	}
	argv = append(argv, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp")

	hide, err := resolved("process_isolation_hide_paths", o.HidePaths)
	if err != nil {
		return nil, err
	}
	for _, p := range hide {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, &SettingError{Key: "process_isolation_hide_paths", Err: err}
		}
		if fi.IsDir() {
			argv = append(argv, "--tmpfs", p)
		} else {
			argv = append(argv, "--ro-bind", "/dev/null", p)
		}
	}
	ro, err := resolved("process_isolation_ro_paths", o.ROPaths)
	if err != nil {
		return nil, err
	}
	for _, p := range ro {
		argv = append(argv, "--ro-bind", p, p)
	}
	pdd, err := filepath.EvalSymlinks(r.PrivateDataDir)
	if err != nil && r.Planned {
		pdd, err = filepath.Clean(r.PrivateDataDir), nil
	}
	if err != nil {
		return nil, &SettingError{Key: "private_data_dir", Err: err}
	}
	argv = append(argv, "--bind", pdd, pdd)
	if pdd != filepath.Clean(r.PrivateDataDir) {
		// The run's paths name the private data dir as given.
		argv = append(argv, "--symlink", pdd, filepath.Clean(r.PrivateDataDir))
	}
	binds := bindsOf(r.Binds, []string{pdd}, r.Planned)
	for _, b := range binds {
		argv = append(argv, "--bind", b, b)
	}
	for _, b := range bindsOf(r.ReadOnly, append([]string{pdd}, binds...), r.Planned) {
		argv = append(argv, "--ro-bind", b, b)
	}
	show, err := resolved("process_isolation_show_paths", o.ShowPaths)
	if err != nil {
		return nil, err
	}
	for _, p := range show {
		argv = append(argv, "--bind", p, p)
	}
	if r.Dir != "" {
		argv = append(argv, "--chdir", r.Dir)
	}
	argv = append(argv, r.Argv...)
	return &Plan{Mode: Sandbox, Argv: argv, Dir: r.Dir, Env: maps.Clone(r.Env), Engine: o.Engine()}, nil
}

// resolved is paths made real and sorted, as ansible-runner orders them; a
// path that does not exist is an error naming the setting.
func resolved(key string, paths []string) ([]string, error) {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		real, err := filepath.EvalSymlinks(expandUser(p))
		if err != nil {
			return nil, &SettingError{Key: key, Err: fmt.Errorf("%s: %w", p, err)}
		}
		if real, err = filepath.Abs(real); err != nil {
			return nil, &SettingError{Key: key, Err: err}
		}
		out = append(out, real)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
