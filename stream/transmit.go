package stream

import (
	"fmt"
	"io"

	"github.com/arunner/arunner/runner"
)

// Transmit writes cfg as ansible-runner's transmit does: its kwargs line,
// the private data dir as a zip payload, and eof. What runs (Config.Target),
// its options and the private data dir's files (env/ included, with what
// secrets it holds, and nothing else) are what a worker gets; what
// ansible-runner's transmit would first write into the private data dir (a
// Role's one-play playbook, a Playbook's Content, an Inventory's Text) is
// added to the zip only. Fields that only this process can hold or that a
// worker cannot take (Credentials, SSHKeys, FactCache, Wrap, ProjectFS,
// Inventory.Model and .None, NoPTY, a RawCommand; a Role's RolesPath, and
// ProjectDir with a Role) are refused with ErrNotTransmittable; the hooks
// and Output are left out: they are Process's.
func Transmit(w io.Writer, cfg runner.Config) error {
	if cfg.PrivateDataDir == "" {
		return fmt.Errorf("stream: Config.PrivateDataDir is required")
	}
	k, extra, err := configKwargs(cfg)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	sw := newWriter(w)
	if err := sw.json(map[string]any{"kwargs": k}); err != nil {
		return err
	}
	f, err := packDir(cfg.PrivateDataDir, extra)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	defer f.Close()
	if err := sw.zip(f); err != nil {
		return err
	}
	return sw.line([]byte(eofJSON))
}
