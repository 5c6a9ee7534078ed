package runner

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/arunner/arunner/cmdbuild"
	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/credentials/sshagent"
	"github.com/arunner/arunner/factcache"
	"github.com/arunner/arunner/isolation"
	"github.com/arunner/arunner/privdata"
	"github.com/arunner/arunner/prompt"
)

const (
	defaultCancelGrace   = 5 * time.Second
	defaultPromptTimeout = 120 * time.Second
)

// run is one run's state from preparation to the end.
type run struct {
	ctx context.Context
	cfg Config
	job *Job
	pdd string
	art *privdata.Artifacts
	dir *privdata.Dir // nil when Load failed

	ident   string
	runtime string // per-run private dir, removed at the end
	cleanup []func()
	sink    *asyncSink
	facts   *factcache.Snapshot
	jsonOut io.Writer    // JSONOutput's destination: the stdout artifact and Output
	out     *asyncOutput // Config.Output, written from its own goroutine
	cmd     Command
	iso     isolation.Options
	// container is the run's container, to stop and remove; nil when the
	// run is not in one.
	container *isolation.Plan
	secrets   []string
	start     time.Time
	passwds   []Password
	rules     []prompt.Rule
	jobLimit  time.Duration
	idle      time.Duration
	// ansible: the command is one of ansible-core's CLIs (Binary stands in
	// for ansible-playbook or ansible), whose rc tells what went wrong.
	ansible bool

	// hookPanic is the first panic recovered from a hook (call); abort is
	// closed when it is set.
	hookPanic atomic.Pointer[HookPanic]
	abort     chan struct{}

	// runtime.go: the scratch dir (made when scratchMade), the runtime
	// dir's lock held for the run's life (the runtime dir was made when it
	// is set), and the files ansible reads at its start, removed at the
	// first event (only the reader goroutine uses them once ansible runs).
	scratch     string
	scratchMade bool
	lock        *os.File
	readAtStart []string

	// What decide planned for apply (plan.go): files, dirs and links, the
	// copy of Config.ProjectFS, the ssh control path dir, the agent.
	planned     []planFile
	projectCopy string
	controlPath string
	agentDir    string
	agentKeys   []sshagent.Key
}

// newRun validates what must be right before any artifact can be written,
// and creates the artifacts dir. Everything else is checked in prepare, so
// that its failures are recorded in the artifacts.
func newRun(ctx context.Context, cfg Config) (*run, error) {
	if cfg.PrivateDataDir == "" {
		return nil, &ConfigError{Field: "PrivateDataDir", Err: errors.New("required")}
	}
	pdd, err := filepath.Abs(cfg.PrivateDataDir)
	if err != nil {
		return nil, &ConfigError{Field: "PrivateDataDir", Err: err}
	}
	fi, err := os.Stat(pdd)
	if errors.Is(err, fs.ErrNotExist) {
		// As ansible-runner: a run needs nothing from the private data dir
		// (an ad hoc command, an args-less helper), so a missing one is
		// made, 0700 as every dir the runner makes.
		if err = os.MkdirAll(pdd, 0o700); err == nil {
			fi, err = os.Stat(pdd)
		}
	}
	if err != nil {
		return nil, &ConfigError{Field: "PrivateDataDir", Err: err}
	} else if !fi.IsDir() {
		return nil, &ConfigError{Field: "PrivateDataDir", Err: fmt.Errorf("%s is not a directory", pdd)}
	}
	ident := cfg.Ident
	if ident == "" {
		ident = uuid.NewString()
	}
	if err := privdata.ValidateIdent(ident); err != nil {
		return nil, &ConfigError{Field: "Ident", Err: err}
	}
	root := cfg.ArtifactDir
	if root == "" {
		root = privdata.Paths{Root: pdd}.Artifacts()
	}
	// What runs killed hard left (runtime.go), before this run's dir is
	// made: rotation keeps the newest dirs.
	cleanAbandoned(root)
	art, err := privdata.NewArtifacts(root, ident)
	if err != nil {
		return nil, &ConfigError{Field: "ArtifactDir", Err: err}
	}
	if cfg.RotateArtifacts > 0 {
		if err := privdata.Rotate(root, cfg.RotateArtifacts); err != nil {
			return nil, &ConfigError{Field: "RotateArtifacts", Err: err}
		}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return &run{ctx: ctx, cfg: cfg, pdd: pdd, art: art, ident: ident, abort: make(chan struct{})}, nil
}

// prepare decides the run (decide) and then does what the plan says
// before ansible can start (apply). A returned error is a *ConfigError;
// missing is set when the playbook is missing, which ansible-runner reports
// as a failed run rather than an error (r.cmd then holds the command that
// would have run, unwrapped).
func (r *run) prepare() (missing bool, err error) {
	if missing, err := r.decide(); err != nil {
		return missing, err
	}
	return false, r.apply()
}

// decide reads the private data dir and works out everything the run will
// do, r.plan, without writing anything or starting anything: the paths of
// the runtime and scratch dirs are chosen, not made.
func (r *run) decide() (missing bool, err error) {
	cfg := &r.cfg
	if err := checkTarget(cfg); err != nil {
		return false, err
	}
	if cfg.ProjectDir != "" && cfg.ProjectFS != nil {
		return false, &ConfigError{Field: "ProjectFS", Err: errors.New("set at most one of ProjectDir and ProjectFS")}
	}
	d, err := r.load()
	if err != nil {
		return false, err
	}
	r.dir = d
	if err := r.isolationOptions(d); err != nil {
		return false, err
	}

	r.jobLimit, r.idle = cfg.JobTimeout, cfg.IdleTimeout
	if r.jobLimit == 0 {
		r.jobLimit = d.Settings.JobTimeout
	}
	if r.idle == 0 {
		r.idle = d.Settings.IdleTimeout
	}

	if err := r.planRuntime(); err != nil {
		return false, err
	}
	inj, err := r.injectCredentials()
	if err != nil {
		return false, err
	}

	r.passwds = append(r.passwds, d.Passwords...)
	r.passwds = append(r.passwds, cfg.Passwords...)
	r.passwds = append(r.passwds, inj.Prompts...)
	for _, p := range r.passwds {
		r.addSecret(p.Response)
	}
	if r.rules, err = prompt.Compile(r.passwds); err != nil {
		return false, &ConfigError{Field: "Passwords", Err: err}
	}

	env, err := r.buildEnv(d, inj.Env)
	if err != nil {
		return false, err
	}
	cwd, err := r.workDir(d, env)
	if err != nil {
		return false, err
	}
	argv, err := r.buildArgv(d, cwd, inj.Flags)
	if err != nil {
		var missingErr *missingPlaybookError
		if errors.As(err, &missingErr) {
			r.cmd = Command{Argv: argv, Dir: cwd, Env: env}
			return true, err
		}
		return false, err
	}
	// Every run gets its own ssh control masters, stopped at its end: a
	// master left in ~/.ansible/cp would let the next run in without keys.
	r.isolateControlMasters(env)
	if err := r.planAgent(d, inj.SSHKeys, env); err != nil {
		return false, err
	}
	if err := r.factsEnv(env); err != nil {
		return false, err
	}
	r.cmd = Command{Argv: argv, Dir: cwd, Env: env}
	_, raw := cfg.Target.(RawCommand)
	r.ansible = !raw && d.Args == "" || isAnsibleRC(argv[0])
	return false, nil
}

// apply does what decide planned, in the order ansible needs it: the
// runtime and scratch dirs, the files and links, the callback plugin, the
// ssh control path dir, the agent, the restored facts; then the isolation,
// then Wrap.
func (r *run) apply() error {
	cfg := &r.cfg
	if err := r.makeRuntime(); err != nil {
		return err
	}
	if err := r.writePlanned(); err != nil {
		return err
	}
	if r.controlPath != "" {
		if err := os.Mkdir(r.controlPath, 0o700); err != nil {
			return &ConfigError{Field: "EnvVars", Err: err}
		}
		dir := r.controlPath
		r.cleanup = append(r.cleanup, func() {
			stopControlMasters(dir)
			os.RemoveAll(dir)
		})
	}
	if err := r.startAgent(); err != nil {
		return err
	}
	if err := r.restoreFacts(); err != nil {
		return err
	}
	// In a sandbox or container (isolation.go) once everything it binds
	// exists; a caller's Wrap goes round that.
	if err := r.isolate(r.isolationBinds(r.cmd.Dir, r.cmd.Env), isolationReadOnly(r.cmd.Argv, r.cmd.Env)); err != nil {
		return err
	}
	if cfg.Wrap != nil {
		var err error
		if !r.call("Wrap", func() { err = cfg.Wrap(&r.cmd) }) {
			err = errors.New("panicked")
		}
		if err != nil {
			return &ConfigError{Field: "Wrap", Err: err}
		}
	}
	if len(r.cmd.Argv) == 0 || r.cmd.Argv[0] == "" {
		field := "Target"
		if cfg.Wrap != nil {
			field = "Wrap"
		}
		return &ConfigError{Field: field, Err: errors.New("no program to run: the command line is empty or starts with an empty name")}
	}
	return nil
}

// load reads the private data dir until the run is canceled (its context,
// Job.Cancel, CancelCallback) or its job timeout, counted from now, runs out: a named pipe
// in env/ may have no writer yet. Config.JobTimeout applies from the start,
// env/settings' job_timeout as soon as that file is read. A run stopped
// here ends with a *privdata.FileError naming the file, whose cause is the
// run's *cancelError or *TimeoutError; any other error is a *ConfigError.
func (r *run) load() (*privdata.Dir, error) {
	begin := time.Now()
	ctx, stop := context.WithCancelCause(context.WithoutCancel(r.ctx))
	defer stop(nil)
	defer context.AfterFunc(r.ctx, func() { stop(&cancelError{cause: r.ctx.Err()}) })()
	// The watcher ends before load returns, so that CancelCallback is never
	// called from two goroutines at once (the monitor polls it later).
	watched := make(chan struct{})
	defer func() { stop(nil); <-watched }()
	go func() {
		defer close(watched)
		var poll <-chan time.Time
		if r.cfg.CancelCallback != nil {
			t := time.NewTicker(cancelPoll)
			defer t.Stop()
			poll = t.C
		}
		for {
			select {
			case <-r.job.cancel:
				stop(&cancelError{})
				return
			case <-ctx.Done():
				return
			case <-poll:
				canceled := false
				if !r.call("CancelCallback", func() { canceled = r.cfg.CancelCallback() }) || canceled {
					stop(&cancelError{})
					return
				}
			}
		}
	}()
	var timer *time.Timer
	arm := func(limit time.Duration) {
		if limit > 0 && timer == nil {
			timer = time.AfterFunc(limit-time.Since(begin), func() {
				stop(&TimeoutError{Kind: JobTimeout, Limit: limit.String()})
			})
		}
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	arm(r.cfg.JobTimeout)
	d, err := privdata.LoadContext(ctx, r.pdd, privdata.LoadOptions{
		OnSettings: func(s privdata.Settings) { arm(s.JobTimeout) },
	})
	if err != nil && ctx.Err() != nil && errors.Is(err, context.Cause(ctx)) {
		return nil, err
	}
	if err != nil {
		return nil, &ConfigError{Field: "PrivateDataDir", Err: err}
	}
	return d, nil
}

// workDir is where the command runs, chosen as ansible-runner chooses it:
// the private data dir for an ad hoc run (an AdHoc target, or
// AD_HOC_COMMAND_ID in the run's environment, which ansible-runner sets for
// ad hoc runs and reads back), else ProjectFS's copy, else ProjectDir, else
// <PrivateDataDir>/project, else the private data dir. RawCommand runs,
// like ansible-runner's run_command, are not ad hoc whatever the
// environment says.
func (r *run) workDir(d *privdata.Dir, env map[string]string) (string, error) {
	cfg := &r.cfg
	_, adhocID := env["AD_HOC_COMMAND_ID"]
	if _, raw := cfg.Target.(RawCommand); !raw && (isAdHoc(cfg.Target) || adhocID) {
		return r.pdd, nil
	}
	switch {
	case cfg.ProjectFS != nil:
		r.projectCopy = filepath.Join(r.runtime, "project")
		return r.projectCopy, nil
	case cfg.ProjectDir != "":
		cwd, err := filepath.Abs(cfg.ProjectDir)
		if err != nil {
			return "", &ConfigError{Field: "ProjectDir", Err: err}
		}
		if err := checkDir(cwd); err != nil {
			return "", &ConfigError{Field: "ProjectDir", Err: err}
		}
		return cwd, nil
	case d.ProjectDir != "":
		if err := checkDir(d.ProjectDir); err != nil {
			return "", &ConfigError{Field: "ProjectDir", Err: err}
		}
		return d.ProjectDir, nil
	}
	return r.pdd, nil // as ansible-runner: no project/ means the private data dir
}

func checkDir(dir string) error {
	// Stat first: opening a named pipe would wait for a writer.
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	// Reading one entry proves the directory is readable, not only present.
	if _, err := f.ReadDir(1); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s is not readable: %w", dir, err)
	}
	return nil
}

type missingPlaybookError struct{ playbook string }

func (e *missingPlaybookError) Error() string {
	return fmt.Sprintf("the playbook %s could not be found", e.playbook)
}
func (e *missingPlaybookError) Unwrap() error { return fs.ErrNotExist }

// buildArgv builds the command line the way ansible-runner does: a top-level
// args file replaces everything, the Target and Binary included (a
// RawCommand alone goes before it); otherwise ansible-playbook or ansible
// with env/cmdline (or Config.Cmdline), inventory, limit, extra vars files,
// verbosity, tags and forks, and the switches the credentials call for.
func (r *run) buildArgv(d *privdata.Dir, cwd string, cred credentials.Flags) ([]string, error) {
	cfg := &r.cfg
	if raw, ok := cfg.Target.(RawCommand); ok {
		return slices.Clone(raw.Argv), nil
	}
	if d.Args != "" {
		argv, err := cmdbuild.Split(d.Args)
		if err != nil {
			return nil, &ConfigError{Field: r.paths().Args(), Err: err}
		}
		if len(argv) == 0 {
			return nil, &ConfigError{Field: r.paths().Args(), Err: errors.New("empty command")}
		}
		return argv, nil
	}
	if cfg.Target == nil {
		return nil, &ConfigError{Field: "Target", Err: errors.New("required: a Playbook, AdHoc, Role or RawCommand, or an args file in the private data dir")}
	}
	cmdline := d.Cmdline
	if cfg.Cmdline != "" {
		cmdline = cfg.Cmdline
	}
	tokens, err := cmdbuild.Split(cmdline)
	if err != nil {
		field := "Cmdline"
		if cfg.Cmdline == "" {
			field = r.paths().Env("cmdline")
		}
		return nil, &ConfigError{Field: field, Err: err}
	}
	inv, err := r.inventory(d)
	if err != nil {
		return nil, err
	}

	var extra []string
	switch {
	case d.ExtraVarsPath != "":
		extra = append(extra, d.ExtraVarsPath)
	case d.ExtraVars != nil:
		// env/extravars was a named pipe, read once: its values go to a
		// private file for this run (ansible-runner drops them).
		p, err := r.writeExtraVars("env-extravars.json", d.ExtraVars)
		if err != nil {
			return nil, err
		}
		extra = append(extra, p)
	}
	if len(cfg.ExtraVars) > 0 {
		p, err := r.writeExtraVars("extravars.json", cfg.ExtraVars)
		if err != nil {
			return nil, err
		}
		extra = append(extra, p)
	}
	extra = append(extra, cred.ExtraVarsFiles...)

	if t, ok := cfg.Target.(AdHoc); ok {
		a := cmdbuild.AdHoc{
			Binary: cfg.Binary, Cmdline: tokens, Inventory: inv, ExtraVarsFiles: extra,
			Switches: withCredentials(t.Switches, cred),
			Module:   t.Module, ModuleArgs: t.Args, HostPattern: hostsOr(t.Hosts),
		}
		argv, err := a.Args()
		if err != nil {
			return nil, &ConfigError{Field: "Target", Err: err}
		}
		return argv, nil
	}
	p := cmdbuild.Playbook{Binary: cfg.Binary, Cmdline: tokens, Inventory: inv, ExtraVarsFiles: extra}
	switch t := cfg.Target.(type) {
	case Playbook:
		p.Switches, p.Tags, p.SkipTags = t.Switches, t.Tags, t.SkipTags
		p.StartAtTask, p.ForceHandlers = t.StartAtTask, t.ForceHandlers
		p.Playbook = t.Path
		if len(t.Content) > 0 {
			p.Playbook = r.planPlaybook(cwd, "playbook", t.Content)
		}
	case Role:
		p.Switches, p.Tags, p.SkipTags = t.Switches, t.Tags, t.SkipTags
		data, err := rolePlay(t)
		if err != nil {
			return nil, err
		}
		p.Playbook = r.planPlaybook(cwd, "role", data)
	}
	p.Switches = withCredentials(p.Switches, cred)
	argv, err := p.Args()
	if err != nil {
		return nil, &ConfigError{Field: "Target", Err: err}
	}
	if t, ok := cfg.Target.(Playbook); ok && t.Path != "" {
		pb := t.Path
		if !filepath.IsAbs(pb) {
			pb = filepath.Join(cwd, pb)
		}
		var err error
		if r.projectCopy != "" && !filepath.IsAbs(t.Path) {
			_, err = fs.Stat(cfg.ProjectFS, filepath.ToSlash(filepath.Clean(t.Path)))
		} else {
			_, err = os.Stat(pb)
		}
		if err != nil {
			// The command line goes with the error: the command artifact
			// records it, as ansible-runner's does.
			return argv, &ConfigError{Field: "Target", Err: &missingPlaybookError{playbook: t.Path}}
		}
	}
	return argv, nil
}

// withCredentials adds to sw the switches the credentials call for. As in
// AWX, a credential says how to become, not whether: --become comes from
// the target or the playbook; and a value the target sets wins.
func withCredentials(sw Switches, cf credentials.Flags) Switches {
	sw.User = cmp.Or(sw.User, cf.User)
	sw.BecomeMethod = cmp.Or(sw.BecomeMethod, cf.BecomeMethod)
	sw.BecomeUser = cmp.Or(sw.BecomeUser, cf.BecomeUser)
	sw.AskPass = sw.AskPass || cf.AskPass
	sw.AskBecomePass = sw.AskBecomePass || cf.AskBecomePass
	sw.AskVaultPass = sw.AskVaultPass || cf.AskVaultPass
	sw.VaultIDs = append(slices.Clip(sw.VaultIDs), cf.VaultIDs...)
	return sw
}

// inventory is the run's -i list: Config.Inventory's sources resolved by
// privdata, its inline inventory written for this run, or the private data
// dir's inventory.
func (r *run) inventory(d *privdata.Dir) ([]string, error) {
	inv := r.cfg.Inventory
	switch {
	case inv.None:
		return nil, nil
	case inv.Sources != nil:
		out, err := privdata.ResolveInventory(r.pdd, inv.Sources)
		if err != nil {
			return nil, &ConfigError{Field: "Inventory", Err: err}
		}
		return out, nil
	case inv.Text != "":
		return []string{r.planFile("inventory", []byte(inv.Text), "inline inventory", false)}, nil
	case inv.Model != nil:
		data, err := inv.Model.YAML()
		if err != nil {
			return nil, &ConfigError{Field: "Inventory", Err: err}
		}
		return []string{r.planFile("inventory.yml", data, "inline inventory", false)}, nil
	case d.Inventory != "":
		return []string{d.Inventory}, nil
	}
	return nil, nil
}

// writeExtraVars gives ansible vars as a JSON file for -e @file, so that no
// value reaches argv; the file is removed as soon as ansible has read it.
func (r *run) writeExtraVars(name string, vars map[string]any) (string, error) {
	data, err := json.Marshal(vars)
	if err != nil {
		return "", &ConfigError{Field: "ExtraVars", Err: err}
	}
	return r.planFile(name, data, "extra vars", true), nil
}

// paths names the entries of the run's private data dir.
func (r *run) paths() privdata.Paths { return privdata.Paths{Root: r.pdd} }

func (r *run) addSecret(s string) {
	if s != "" && !slices.Contains(r.secrets, s) {
		r.secrets = append(r.secrets, s)
	}
}
