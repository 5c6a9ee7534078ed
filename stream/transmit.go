package stream

import (
	"fmt"
	"io"

	"github.com/arunner/arunner/runner"
)

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
	if cfg.PrivateDataDir == "" {
		return fmt.Errorf("stream: Config.PrivateDataDir is required")
	}
	k, ov, err := configKwargs(cfg)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	sw := newWriter(w)
	if err := sw.json(map[string]any{"kwargs": k}); err != nil {
		return err
	}
	f, err := packDir(cfg.PrivateDataDir, ov)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	defer f.Close()
	if err := sw.zip(f); err != nil {
		return err
	}
	return sw.line([]byte(eofJSON))
}
