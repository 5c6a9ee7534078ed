package isolation

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Run is the command a run would start on the host, and what the sandbox
// must make visible for it.
type Run struct {
	Argv []string
	Dir  string
	// Env is the command's environment. For a container it must hold only
	// the run's own variables (env/envvars, the caller's, the runner's):
	// the host's are HostEnv, and stay outside, as with ansible-runner.
	Env map[string]string
	// HostEnv is the container engine's own environment (CONTAINERS_CONF,
	// XDG_RUNTIME_DIR, DOCKER_HOST...); unused by the sandbox.
	HostEnv map[string]string
	// PassThrough names variables of Env that reach the container from the
	// engine's environment (`-e NAME`), never from the env file: values
	// set only when the process starts (the side band's) and secrets that
	// should not touch the disk (the run's event key).
	PassThrough []string
	// SideBand names the variable that asks for the events side band on
	// descriptor 3; an engine that cannot pass the descriptor deletes it,
	// and the events travel in-band.
	SideBand string
	// Name is the run's ident; the container is ansible_runner_<Name>.
	Name string
	// PrivateDataDir is bound writable in the sandbox, and mounted in the
	// container at its own path and at /runner.
	PrivateDataDir string
	// Binds are further host paths the run needs (project, artifacts,
	// ssh-agent socket dir, ssh control path dir...), bound writable at
	// their own path. Paths inside another bind are skipped, missing ones
	// too.
	Binds []string
	// ReadOnly are host paths the run reads (inventories, a playbook, vault
	// password files named on the command line), bound read-only at their
	// own path unless inside a bind.
	ReadOnly []string
	// EnvFile is where the runner writes Plan.EnvFile (0600, removed when
	// the run ends) for the container engine's --env-file.
	EnvFile string
	// TTY is a run under a pty: the container gets --tty.
	TTY bool
	// UID is the runner's user id: docker runs as it, and podman run by a
	// user other than root gets --userns=keep-id.
	UID int
	// Planned says that Binds, ReadOnly and PrivateDataDir are planned,
	// not made yet (a dry run): they are bound as named, not resolved, and
	// none is skipped for being missing.
	Planned bool
}

// Plan is the isolated command.
type Plan struct {
	Mode Mode
	Argv []string
	Dir  string
	Env  map[string]string
	// EnvFile is the content of Run.EnvFile, nil when no file is used.
	EnvFile []byte
	// JobEnv is what the container's process gets (Run.Env, less a side
	// band the engine cannot pass): what the run records as its
	// environment. Nil for the sandbox, whose Env is the command's.
	JobEnv map[string]string
	// Engine and Container name the engine and the container, for Kill,
	// Remove and ImageCheck; empty for the sandbox.
	Engine, Container, Image string
}

// Kill is the engine command that sends sig (a name: "INT", "KILL") to
// the container's main process.
func (p *Plan) Kill(sig string) []string {
	return []string{p.Engine, "kill", "--signal", sig, p.Container}
}

// Remove is the engine command that removes the container, stopping it
// at once: nothing of a run may be left behind.
func (p *Plan) Remove() []string {
	if p.Engine == "podman" {
		return []string{p.Engine, "rm", "--force", "--time", "0", p.Container}
	}
	return []string{p.Engine, "rm", "--force", p.Container}
}

// ImageCheck is the engine command that succeeds when the image is there
// (locally, or pulled now), so that a missing image is an error before the
// run rather than a failed run.
func (p *Plan) ImageCheck() []string {
	return []string{p.Engine, "image", "inspect", "--format", "{{.Id}}", p.Image}
}

// Pull is the engine command that fetches the image.
func (p *Plan) Pull() []string {
	return []string{p.Engine, "pull", "--quiet", p.Image}
}

// Wrap returns the isolated command for r. Bad settings (no image, a
// mount source that does not exist, a mount of / or /usr) are errors that
// name the setting.
func (o *Options) Wrap(r Run) (*Plan, error) {
	if o.DirectoryIsolationBasePath != "" {
		return nil, &SettingError{Key: "directory_isolation_base_path", Err: fmt.Errorf("a copy of the project for the run is %w", ErrUnsupported)}
	}
	switch o.Mode() {
	case Container:
		return o.container(r)
	case Sandbox:
		return o.sandbox(r)
	}
	return &Plan{Argv: slices.Clone(r.Argv), Dir: r.Dir, Env: maps.Clone(r.Env)}, nil
}

// nameUnsafe is what ansible-runner replaces in the ident to name the
// container.
var nameUnsafe = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// unsafeMounts are refused as a mount source or destination, as
// ansible-runner refuses them.
var unsafeMounts = []string{"/", "/home", "/usr"}

func checkMountPath(key, p string) error {
	if slices.Contains(unsafeMounts, filepath.Clean(p)) {
		return &SettingError{Key: key, Err: fmt.Errorf("refusing to mount %s", p)}
	}
	return nil
}

// container builds the argv in ansible-runner 2.3.1's order
// (wrap_args_for_containerization). Deliberate differences, documented in
// README: the private data dir and the run's other paths are also mounted
// at their host paths, and the command runs there, so that argv, the
// environment, task paths in events and the artifacts read as on the
// host; the env file is private to the run; descriptor 3 is passed
// (podman); a mount source that does not exist is an error, a file is
// mounted as itself.
func (o *Options) container(r Run) (*Plan, error) {
	engine := o.Engine()
	if o.Image == "" {
		return nil, &SettingError{Key: "container_image", Err: errors.New("required for a container run")}
	}
	pdd := filepath.Clean(r.PrivateDataDir)
	if err := checkMountPath("private_data_dir", pdd); err != nil {
		return nil, err
	}
	argv := []string{engine, "run", "--rm"}
	if r.TTY {
		argv = append(argv, "--tty")
	}
	argv = append(argv, "--interactive", "--workdir", r.Dir)
	argv = append(argv, "-v", dirSlash(pdd)+":/runner/:Z", "-v", dirSlash(pdd)+":"+dirSlash(pdd)+":Z")
	mounted := []string{pdd}
	if real, err := filepath.EvalSymlinks(pdd); err == nil && real != pdd {
		mounted = append(mounted, real)
	}
	binds := bindsOf(r.Binds, mounted, r.Planned)
	for _, p := range slices.Concat(mounted, binds, r.ReadOnly) {
		if strings.ContainsRune(p, ':') {
			// The engine would split the -v argument there.
			return nil, &SettingError{Key: "private_data_dir", Err: fmt.Errorf("cannot mount %s in a container: it has a ':'", p)}
		}
	}
	for _, b := range binds {
		argv = append(argv, "-v", b+":"+b)
	}
	for _, b := range bindsOf(r.ReadOnly, append(mounted, binds...), r.Planned) {
		argv = append(argv, "-v", b+":"+b+":ro")
	}
	for _, m := range o.VolumeMounts {
		v, err := volume(m, r.Dir)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(argv, v) {
			argv = append(argv, "-v", v)
		}
	}

	env := maps.Clone(r.HostEnv)
	if env == nil {
		env = map[string]string{}
	}
	var file strings.Builder
	var passed []string
	for _, k := range sortedKeys(r.Env) {
		v := r.Env[k]
		// An env file cannot carry a line break: such a value, and the
		// names the caller keeps off the disk, come from the engine's
		// own environment.
		if slices.Contains(r.PassThrough, k) || strings.ContainsAny(v, "\n\r\x00") {
			passed = append(passed, k)
			env[k] = v
			continue
		}
		file.WriteString(k + "=" + v + "\n")
	}
	argv = append(argv, "--env-file", r.EnvFile)
	sideBand := r.SideBand != "" && r.Env[r.SideBand] != "" && engine == "podman"
	jobEnv := maps.Clone(r.Env)
	for _, k := range passed {
		if k == r.SideBand && !sideBand {
			delete(env, k)
			delete(jobEnv, k)
			continue
		}
		argv = append(argv, "-e", k)
	}
	switch engine {
	case "podman":
		argv = append(argv, "--quiet")
		if sideBand {
			argv = append(argv, "--preserve-fds", "1")
		}
		if r.UID != 0 {
			// Files the container writes in the bind mounts stay the
			// runner's, and a 0700 private data dir stays readable.
			argv = append(argv, "--userns=keep-id")
		}
	case "docker":
		argv = append(argv, "--user="+strconv.Itoa(r.UID))
	}
	name := "ansible_runner_" + nameUnsafe.ReplaceAllString(r.Name, "_")
	argv = append(argv, "--name", name)
	argv = append(argv, o.ContainerOptions...)
	argv = append(argv, o.Image)
	argv = append(argv, r.Argv...)
	return &Plan{
		Mode: Container, Argv: argv, Dir: r.Dir, Env: env, EnvFile: []byte(file.String()), JobEnv: jobEnv,
		Engine: engine, Container: name, Image: o.Image,
	}, nil
}

// volume normalises one container_volume_mounts entry as ansible-runner
// 2.3.1 does (absolute paths, a "/" after directories, options kept),
// except that a missing source is an error rather than silently dropped
// and a file is mounted as itself rather than as its parent directory.
func volume(m, workdir string) (string, error) {
	const key = "container_volume_mounts"
	parts := strings.SplitN(m, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return "", &SettingError{Key: key, Err: fmt.Errorf("%q: want src:dst[:options]", m)}
	}
	src, err := filepath.Abs(os.ExpandEnv(expandUser(parts[0])))
	if err != nil {
		return "", &SettingError{Key: key, Err: err}
	}
	dst := os.ExpandEnv(expandUser(parts[1]))
	if !filepath.IsAbs(dst) {
		dst = filepath.Join(workdir, dst)
	}
	for _, p := range []string{src, dst} {
		if err := checkMountPath(key, p); err != nil {
			return "", err
		}
	}
	fi, err := os.Stat(src)
	if err != nil {
		return "", &SettingError{Key: key, Err: fmt.Errorf("mount source: %w", err)}
	}
	if fi.IsDir() {
		src, dst = dirSlash(src), dirSlash(filepath.Clean(dst))
	}
	v := src + ":" + dst
	if len(parts) == 3 && parts[2] != "" {
		v += ":" + parts[2]
	}
	return v, nil
}

func expandUser(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return home + p[1:]
		}
	}
	return p
}

func dirSlash(p string) string {
	if strings.HasSuffix(p, "/") {
		return p
	}
	return p + "/"
}

// bindsOf is paths that exist (or are planned) and are not inside one of
// mounted (nor inside one another), resolved, in order.
func bindsOf(paths, mounted []string, planned bool) []string {
	var out []string
	for _, b := range paths {
		if b == "" {
			continue
		}
		p, err := filepath.EvalSymlinks(b)
		if err != nil && planned {
			p, err = filepath.Clean(b), nil
		}
		if err != nil {
			continue
		}
		if within(p, mounted) || within(p, out) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// within tells whether p is one of dirs or inside one.
func within(p string, dirs []string) bool {
	for _, d := range dirs {
		if p == d || strings.HasPrefix(p, dirSlash(d)) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
