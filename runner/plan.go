package runner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/privdata"
)

// Plan is a run decided and not started: the command, its working dir and
// environment, the files the run writes for ansible and the prompts it
// answers. Prepare returns one without starting or writing anything; Run
// decides the same way and then carries the plan out. Printed (String), a
// Plan shows no secret.
type Plan struct {
	// Command is what would start, before Config.Wrap: argv, working dir
	// and the whole environment, secrets redacted and without the event
	// key.
	Command Command
	// Files are what the run writes before ansible starts, in order. Each
	// is removed when the run ends, or earlier (PlanFile.What says).
	Files []PlanFile
	// Prompts are the patterns of the prompts the run answers, in order.
	Prompts []string
	// ArtifactDir is where the run's artifacts would go.
	ArtifactDir string
	// Isolated is Command as the sandbox or container runs it (the
	// engine's argv; for a container, Env is what the container gets);
	// nil when the run is not isolated. The engine, the image and the
	// sandbox's namespaces are checked only when the run starts.
	Isolated *Command

	scratch string // the planned scratch dir, for tests
}

// PlanFile is one file (or dir, or link) a run makes for ansible.
type PlanFile struct {
	Path string
	// Mode is the file's permissions; 0 for a link or a dir made 0700.
	Mode fs.FileMode
	// What says what the file is for.
	What string
}

// planFile is a PlanFile with what apply needs to make it.
type planFile struct {
	PlanFile
	data        []byte
	link        string // make a symlink to link instead of a file
	dir         bool   // make a dir (0700) if missing
	plugin      bool   // install the callback plugin there
	mkdir       string // make this dir first if missing; removed at the end if made
	runLink     string // name of a link to the file in the runtime dir
	readAtStart bool   // removed as soon as ansible has read it
}

// Prepare decides what Run would do with cfg, and returns it as a Plan: it
// reads the private data dir but starts nothing and writes nothing (the
// artifacts dir is not even created). It reports the errors Run would
// report before starting ansible, a missing playbook included.
func Prepare(ctx context.Context, cfg Config) (*Plan, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if cfg.PrivateDataDir == "" {
		return nil, &ConfigError{Field: "PrivateDataDir", Err: errors.New("required")}
	}
	pdd, err := filepath.Abs(cfg.PrivateDataDir)
	if err != nil {
		return nil, &ConfigError{Field: "PrivateDataDir", Err: err}
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
	if root, err = filepath.Abs(root); err != nil {
		return nil, &ConfigError{Field: "ArtifactDir", Err: err}
	}
	r := &run{
		ctx: ctx, cfg: cfg, pdd: pdd, ident: ident, abort: make(chan struct{}),
		art: &privdata.Artifacts{Dir: filepath.Join(root, ident)},
		job: &Job{cancel: make(chan struct{})},
	}
	if _, err := r.decide(); err != nil {
		return nil, err
	}
	p := r.plan()
	iso, err := r.plannedIsolation()
	if err != nil {
		return nil, err
	}
	p.Isolated = iso
	return p, nil
}

// plan is the run's Plan, redacted.
func (r *run) plan() *Plan {
	red := credentials.NewRedactor(r.secrets...)
	p := &Plan{
		Command:     Command{Argv: red.Strings(r.cmd.Argv), Dir: r.cmd.Dir, Env: r.safeEnv()},
		ArtifactDir: r.art.Dir,
		scratch:     r.scratch,
	}
	for _, f := range r.planned {
		p.Files = append(p.Files, f.PlanFile)
	}
	for _, pw := range r.passwds {
		p.Prompts = append(p.Prompts, pw.Pattern)
	}
	return p
}

// String prints the plan for a person: the command line (shell-quoted),
// the working dir, the environment the run adds to or changes from this
// process's own, the files and the prompts.
func (p *Plan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "command: %s\n", quoteArgv(p.Command.Argv))
	fmt.Fprintf(&b, "dir: %s\n", p.Command.Dir)
	if p.Isolated != nil {
		fmt.Fprintf(&b, "isolated: %s\n", quoteArgv(p.Isolated.Argv))
	}
	fmt.Fprintf(&b, "artifacts: %s\n", p.ArtifactDir)
	b.WriteString("env (beyond this process's own):\n")
	for _, k := range slices.Sorted(maps.Keys(p.Command.Env)) {
		if v, ok := os.LookupEnv(k); ok && v == p.Command.Env[k] {
			continue
		}
		fmt.Fprintf(&b, "  %s=%s\n", k, p.Command.Env[k])
	}
	if len(p.Files) > 0 {
		b.WriteString("files:\n")
		for _, f := range p.Files {
			if f.Mode != 0 {
				fmt.Fprintf(&b, "  %s %04o (%s)\n", f.Path, f.Mode, f.What)
			} else {
				fmt.Fprintf(&b, "  %s (%s)\n", f.Path, f.What)
			}
		}
	}
	if len(p.Prompts) > 0 {
		b.WriteString("prompts answered:\n")
		for _, pat := range p.Prompts {
			fmt.Fprintf(&b, "  %s\n", pat)
		}
	}
	return b.String()
}

// quoteArgv is argv as a shell would read it back.
func quoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./_-") == "" {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'"'"'`) + "'"
		}
	}
	return strings.Join(q, " ")
}

// planFile plans a 0600 file named name in ansibleDir and returns its path.
// readAtStart files are removed as soon as ansible has read them, the
// others with the runtime dir.
func (r *run) planFile(name string, data []byte, what string, readAtStart bool) string {
	p := filepath.Join(r.ansibleDir(), name)
	if readAtStart {
		what += ", removed once ansible has read it"
	}
	r.planned = append(r.planned, planFile{PlanFile: PlanFile{Path: p, Mode: 0o600, What: what}, data: data, readAtStart: readAtStart})
	return p
}

// writePlanned makes the planned files, dirs and links, and copies
// Config.ProjectFS. An error is a *ConfigError.
func (r *run) writePlanned() error {
	if r.projectCopy != "" {
		if err := os.CopyFS(r.projectCopy, r.cfg.ProjectFS); err != nil {
			return &ConfigError{Field: "ProjectFS", Err: err}
		}
	}
	for _, f := range r.planned {
		if err := r.make(f); err != nil {
			return &ConfigError{Field: f.field(), Err: err}
		}
	}
	return nil
}

func (f *planFile) field() string {
	switch {
	case f.plugin:
		return "ArtifactDir"
	case strings.HasPrefix(f.What, "credential"):
		return "Credentials"
	case strings.HasPrefix(f.What, "extra vars"):
		return "ExtraVars"
	case strings.HasPrefix(f.What, "inline inventory"):
		return "Inventory"
	}
	return "Target"
}

func (r *run) make(f planFile) error {
	switch {
	case f.plugin:
		_, err := eventproto.InstallPlugin(f.Path)
		return err
	case f.dir:
		if err := os.Mkdir(f.Path, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		return nil
	case f.link != "":
		return os.Symlink(f.link, f.Path)
	}
	created := false
	if f.mkdir != "" {
		_, err := os.Stat(f.mkdir)
		created = errors.Is(err, fs.ErrNotExist)
		if err := os.MkdirAll(f.mkdir, 0o700); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(f.Path, f.data, f.Mode); err != nil {
		return err
	}
	path := f.Path
	if f.mkdir != "" {
		// Outside the runtime dir: removed on its own, with the dir
		// made for it.
		dir := f.mkdir
		r.cleanup = append(r.cleanup, func() {
			os.Remove(path)
			if created {
				os.Remove(dir)
			}
		})
	}
	if f.runLink != "" {
		_ = os.Symlink(path, filepath.Join(r.runtime, f.runLink))
	}
	if f.readAtStart {
		r.readAtStart = append(r.readAtStart, path)
	}
	return nil
}
