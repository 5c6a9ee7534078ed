package privdata

import "path/filepath"

// Paths names the entries of the private data dir Root: the one place
// their layout is spelled, for this package and for the runner.
type Paths struct {
	Root string
}

// Env is env/<name> (envvars, extravars, passwords, cmdline, settings,
// ssh_key).
func (p Paths) Env(name string) string { return filepath.Join(p.Root, "env", name) }

// Args is the args file, a whole command line that wins over any target.
func (p Paths) Args() string { return filepath.Join(p.Root, "args") }

// Inventory is inventory/, or the entry name in it.
func (p Paths) Inventory(name ...string) string {
	return filepath.Join(append([]string{p.Root, "inventory"}, name...)...)
}

// Project is project/.
func (p Paths) Project() string { return filepath.Join(p.Root, "project") }

// Roles is roles/, the last dir on a role run's ANSIBLE_ROLES_PATH.
func (p Paths) Roles() string { return filepath.Join(p.Root, "roles") }

// Artifacts is artifacts/, the default root of the runs' artifacts dirs.
func (p Paths) Artifacts() string { return filepath.Join(p.Root, "artifacts") }
