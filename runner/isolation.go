package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/isolation"
	"github.com/arunner/arunner/privdata"
)

// ErrIsolationUnsupported is matched by the error of a run whose process
// isolation settings ask for what arunner does not do
// (directory_isolation_base_path, container_auth_data): such a run is
// refused before anything starts, with status error, rather than run
// without what it asked for.
var ErrIsolationUnsupported = isolation.ErrUnsupported

// ErrIsolationUnavailable is matched by the error of an isolated run whose
// isolation cannot work here: the engine or bubblewrap binary is missing,
// the image cannot be found or pulled, bubblewrap cannot create its
// namespaces. The run ends with status error before ansible starts; it is
// never run on the host instead.
var ErrIsolationUnavailable = errors.New("process isolation unavailable")

// The isolation package is pure (settings and the host command in, the
// engine's argv, env and env file out), so that a plan can be printed and
// golden-tested; the runner, the only package that starts processes,
// checks that the isolation can work, writes the env file and stops the
// container. Config.Wrap runs after it, on the isolated command.

// isolationOptions are Config.Isolation with env/settings over it, as
// ansible-runner lets env/settings win over its arguments.
func (r *run) isolationOptions(d *privdata.Dir) error {
	var base isolation.Options
	if r.cfg.Isolation != nil {
		base = *r.cfg.Isolation
	}
	o, err := isolation.FromSettings(d.Settings.Raw, base)
	if err != nil {
		var se *isolation.SettingError
		if errors.As(err, &se) {
			return &ConfigError{Field: r.paths().Env(privdata.SettingsFile) + ": " + se.Key, Err: se.Err}
		}
		return &ConfigError{Field: "Isolation", Err: err}
	}
	r.iso = o
	return nil
}

// isolationField names a setting in an error: the env/settings key when
// that file set it, Config.Isolation otherwise.
func (r *run) isolationField(key string) string {
	if _, ok := r.dir.Settings.Raw[key]; ok {
		return r.paths().Env(privdata.SettingsFile) + ": " + key
	}
	return "Isolation: " + key
}

// isolate puts r.cmd inside the sandbox or container the options ask for.
// binds are the host paths the run writes besides the private data dir,
// readOnly those it reads.
func (r *run) isolate(binds, readOnly []string) error {
	mode := r.iso.Mode()
	if mode == isolation.None {
		return nil
	}
	hostEnv := environ()
	engine := r.iso.Engine()
	if p := lookPath(engine, hostEnv); !isExecutable(p) {
		return &ConfigError{Field: r.isolationField("process_isolation_executable"),
			Err: fmt.Errorf("%w: %s not found or not executable", ErrIsolationUnavailable, engine)}
	}
	run := r.isolationRun(hostEnv, binds, readOnly, false)
	plan, err := r.iso.Wrap(run)
	if err != nil {
		return r.isolationError(err)
	}
	switch mode {
	case isolation.Container:
		if err := os.WriteFile(run.EnvFile, plan.EnvFile, 0o600); err != nil {
			return &ConfigError{Field: "ArtifactDir", Err: err}
		}
		if err := r.checkImage(plan); err != nil {
			return err
		}
		r.container = plan
	case isolation.Sandbox:
		if err := r.checkSandbox(plan); err != nil {
			return err
		}
	}
	r.cmd = Command{Argv: plan.Argv, Dir: plan.Dir, Env: plan.Env}
	return nil
}

// isolationRun is what the isolation package needs to know of the run.
func (r *run) isolationRun(hostEnv map[string]string, binds, readOnly []string, planned bool) isolation.Run {
	return isolation.Run{
		Argv: r.cmd.Argv, Dir: r.cmd.Dir, Env: r.cmd.Env, HostEnv: hostEnv,
		PassThrough:    []string{eventproto.SideBandEnv, eventproto.KeyEnv},
		SideBand:       eventproto.SideBandEnv,
		Name:           r.ident,
		PrivateDataDir: r.pdd,
		Binds:          binds,
		ReadOnly:       readOnly,
		EnvFile:        filepath.Join(r.runtime, "env.list"),
		TTY:            !r.cfg.NoPTY,
		UID:            os.Getuid(),
		Planned:        planned,
	}
}

func (r *run) isolationError(err error) error {
	var se *isolation.SettingError
	if errors.As(err, &se) {
		return &ConfigError{Field: r.isolationField(se.Key), Err: se.Err}
	}
	return &ConfigError{Field: "Isolation", Err: err}
}

// plannedIsolation is the isolated command of a run decided and not
// started (Prepare), redacted; nil without isolation. Nothing is checked
// (engine, image, namespaces) and the run's dirs are bound as planned.
func (r *run) plannedIsolation() (*Command, error) {
	if r.iso.Mode() == isolation.None {
		return nil, nil
	}
	p, err := r.iso.Wrap(r.isolationRun(environ(), r.isolationBinds(r.cmd.Dir, r.cmd.Env), isolationReadOnly(r.cmd.Argv, r.cmd.Env), true))
	if err != nil {
		return nil, r.isolationError(err)
	}
	env := p.Env
	if p.JobEnv != nil {
		env = p.JobEnv
	}
	env = credentials.SafeEnv(env, r.secrets)
	delete(env, eventproto.KeyEnv)
	return &Command{Argv: credentials.NewRedactor(r.secrets...).Strings(p.Argv), Dir: p.Dir, Env: env}, nil
}

// engineTimeout bounds the engine commands the runner runs itself (image
// check, kill, rm); a pull gets pullTimeout.
const (
	engineTimeout = 30 * time.Second
	pullTimeout   = 10 * time.Minute
)

// engine runs one engine command with the engine's environment and returns
// its combined output.
func (r *run) engine(ctx context.Context, limit time.Duration, argv []string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = r.pdd
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// checkImage makes sure the image is there before the run starts: a
// missing image is an error of the run's setup, not a failed playbook. An
// image that is not local is pulled, as the engine would have.
func (r *run) checkImage(p *isolation.Plan) error {
	// A pull can take long: Job.Cancel stops it as the context does.
	ctx, stop := context.WithCancel(r.ctx)
	defer stop()
	go func() {
		select {
		case <-r.job.cancel:
			stop()
		case <-ctx.Done():
		}
	}()
	if _, err := r.engine(ctx, engineTimeout, p.ImageCheck()); err == nil {
		return nil
	}
	out, err := r.engine(ctx, pullTimeout, p.Pull())
	if err == nil {
		return nil
	}
	if err := r.canceledEarly(); err != nil {
		return err
	}
	return &ConfigError{Field: r.isolationField("container_image"),
		Err: fmt.Errorf("%w: image %s is not there and could not be pulled: %s", ErrIsolationUnavailable, p.Image, lastLine(out, err))}
}

// checkSandbox runs bubblewrap once on nothing: one that cannot create its
// namespaces here says so before the run, not as a failed run.
func (r *run) checkSandbox(p *isolation.Plan) error {
	out, err := r.engine(r.ctx, engineTimeout, []string{p.Engine, "--die-with-parent", "--unshare-pid", "--ro-bind", "/", "/", "true"})
	if err == nil {
		return nil
	}
	if r.ctx.Err() != nil {
		return &cancelError{cause: r.ctx.Err()}
	}
	return &ConfigError{Field: r.isolationField("process_isolation_executable"),
		Err: fmt.Errorf("%w: %s cannot make a sandbox here: %s", ErrIsolationUnavailable, p.Engine, lastLine(out, err))}
}

// lastLine is the last line of a command's output, bounded, or its error.
func lastLine(out []byte, err error) string {
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	if s == "" {
		return err.Error()
	}
	return s
}

// signalContainer sends sig through the engine, for a run stopped while its
// container runs: the engine's client does not pass every signal on.
func (r *run) signalContainer(sig string) {
	if r.container == nil {
		return
	}
	_, _ = r.engine(context.Background(), engineTimeout, r.container.Kill(sig))
}

// removeContainer removes the run's container, whatever state it is in: a
// container left behind is a bug. The engine's error for one that is
// already gone is expected and ignored.
func (r *run) removeContainer() {
	if r.container == nil {
		return
	}
	_, _ = r.engine(context.Background(), engineTimeout, r.container.Remove())
}

func environ() map[string]string {
	env := make(map[string]string, 64)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// isolationBinds are the host paths a run needs besides the private data
// dir, bound at their own path in the sandbox or container: the working
// dir, the artifacts and the run's runtime and scratch dirs (plugin,
// extra vars, credential files, links to paths ansible would misread),
// the fact cache, the ssh-agent socket and control path dirs. Paths named on the command line (inventories, a playbook, vault
// password files outside the private data dir) are bound read-only by
// isolationReadOnly.
func (r *run) isolationBinds(cwd string, env map[string]string) []string {
	binds := []string{cwd, r.art.Dir, r.runtime, r.scratch, env["ANSIBLE_SSH_CONTROL_PATH_DIR"], env["ANSIBLE_CACHE_PLUGIN_CONNECTION"]}
	if s := env["SSH_AUTH_SOCK"]; s != "" {
		binds = append(binds, filepath.Dir(s))
	}
	return binds
}

// isolationReadOnly are the absolute paths argv and the roles path name
// ("/x", "@/x", "--opt=/x"), the program's own included, for the sandbox
// or container to show.
func isolationReadOnly(argv []string, env map[string]string) []string {
	var out []string
	add := func(p string) {
		if filepath.IsAbs(p) {
			if _, err := os.Stat(p); err == nil {
				out = append(out, p)
			}
		}
	}
	for _, a := range argv {
		a = strings.TrimPrefix(a, "@")
		if _, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			a = strings.TrimPrefix(v, "@")
		}
		add(a)
	}
	for _, p := range filepath.SplitList(env["ANSIBLE_ROLES_PATH"]) {
		add(p)
	}
	return out
}
