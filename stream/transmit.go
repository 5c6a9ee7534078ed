package stream

import (
	"errors"
	"fmt"
	"io"

	"github.com/arunner/arunner/runner"
)

// TransmitOptions configure TransmitWith.
type TransmitOptions struct {
	// OnlyKwargs sends the kwargs line and eof without the private data
	// dir's zip, as ansible-runner's run(streamer="transmit",
	// only_transmit_kwargs=True) does: for a worker whose private data dir
	// already holds the job's files (a volume it shares with the
	// controller, a pod's /runner). A Config that needs files written into
	// the zip (a Role, a Playbook's Content, an Inventory's Text or Model,
	// ProjectFS, RolesPath, a RawCommand) is refused.
	OnlyKwargs bool
}

// Transmit writes cfg as ansible-runner's transmit does: its kwargs line,
// the private data dir as a zip payload, and eof. What runs (Config.Target),
// its options and the private data dir's files (env/ included, with what
// secrets it holds, and nothing else) are what a worker gets. What the job
// needs beyond those files goes into the zip only, the controller's dir
// left as it is: a Role's one-play playbook and the roles of its RolesPath
// (under roles/), a Playbook's Content, an Inventory's Text or Model (under
// inventory/), ProjectFS's files (as project/), a RawCommand's command line
// (as the args file, which both workers run as it is). Fields that only
// this process can hold or that no worker can take (Credentials, SSHKeys,
// FactCache, Wrap, Inventory.None, NoPTY, ProjectDir with a Role) are
// refused with a *KwargsError naming the field, which matches
// ErrNotTransmittable; the hooks and Output are left out: they are
// Process's.
func Transmit(w io.Writer, cfg runner.Config) error {
	return TransmitWith(w, cfg, TransmitOptions{})
}

// TransmitWith is Transmit with options.
func TransmitWith(w io.Writer, cfg runner.Config, opts TransmitOptions) error {
	if cfg.PrivateDataDir == "" {
		return fmt.Errorf("stream: Config.PrivateDataDir is required")
	}
	k, ov, err := configKwargs(cfg)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	if opts.OnlyKwargs && len(ov) > 0 {
		return fmt.Errorf("stream: %w", &KwargsError{Key: "Config." + ov[0].field, Err: errors.New("needs files in the zip, which OnlyKwargs leaves out")})
	}
	sw := newWriter(w)
	if err := sw.json(map[string]any{"kwargs": k}); err != nil {
		return err
	}
	if !opts.OnlyKwargs {
		f, err := packDir(cfg.PrivateDataDir, ov)
		if err != nil {
			return fmt.Errorf("stream: %w", err)
		}
		defer f.Close()
		if err := sw.zip(f); err != nil {
			return err
		}
	}
	return sw.line([]byte(eofJSON))
}
