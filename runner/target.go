package runner

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/arunner/arunner/cmdbuild"
	"github.com/arunner/arunner/inventory"
)

// Target is what a run runs: a Playbook, an AdHoc module, a Role or a
// RawCommand, and nothing else (the set is closed, as go/ast's Expr is).
// Config.Target holds one; a nil Target runs the private data dir's args
// file. As in ansible-runner, an args file wins over any Target.
type Target interface {
	target()
}

// Switches are the ansible switches a Playbook, an AdHoc command and a Role
// share; cmdbuild holds their one definition.
type Switches = cmdbuild.Switches

// Playbook runs ansible-playbook on a playbook given by Path or, inline, by
// Content: exactly one of the two.
type Playbook struct {
	// Path is the playbook, relative to the project dir or absolute.
	Path string
	// Content is the playbook itself, YAML or JSON (a JSON-encoded
	// []map[string]any of plays is YAML too). It is written, 0600, to a
	// file of its own in the project dir, so that what the plays name
	// relative to it (roles/, files, templates) is found, and removed
	// when the run ends.
	Content []byte
	Switches
	// Tags and SkipTags become --tags and --skip-tags.
	Tags, SkipTags []string
	// StartAtTask is --start-at-task.
	StartAtTask string
	// ForceHandlers is --force-handlers.
	ForceHandlers bool
}

// AdHoc runs one module with `ansible`, as ansible-runner's ad hoc mode
// does: in the private data dir, whatever Config.ProjectDir says.
type AdHoc struct {
	// Module is the module to run (-m); required.
	Module string
	// Args are the module's arguments (-a).
	Args string
	// Hosts is the host pattern; default "all".
	Hosts string
	Switches
}

// Role runs one role through a generated one-play playbook against Hosts
// (default "all"), as ansible-runner's role mode does. RolesPath goes
// before <PrivateDataDir>/roles on ANSIBLE_ROLES_PATH.
type Role struct {
	// Name is the role; required.
	Name      string
	Vars      map[string]any
	Hosts     string
	SkipFacts bool
	RolesPath []string
	Switches
	Tags, SkipTags []string
}

// RawCommand runs a whole command line: any ansible CLI (ansible-doc,
// ansible-config, ansible-galaxy, ansible-inventory...), like
// ansible-runner's run_command. argv[0] is found on the run's PATH. The
// Config fields that build a command line (Binary, Cmdline, Inventory,
// ExtraVars) do not apply to it, and setting one is a *ConfigError.
type RawCommand struct {
	Argv []string
}

func (Playbook) target()   {}
func (AdHoc) target()      {}
func (Role) target()       {}
func (RawCommand) target() {}

// Inventory says where a run's hosts come from. The zero value means
// <PrivateDataDir>/inventory when it exists, as in ansible-runner. Set at
// most one of Sources, Text, Model and None.
type Inventory struct {
	// Sources are -i sources: files, dirs or scripts (a relative one is
	// looked up in <PrivateDataDir>/inventory, then from the caller's
	// working dir), or "host1,host2," host lists.
	Sources []string
	// Text is an inventory given as data (INI or YAML), and Model one
	// given as the inventory package models it: written, 0600, for this
	// run only (the private data dir's inventory/ is left as it is), and
	// removed when it ends.
	Text  string
	Model *inventory.Inventory
	// None passes no -i at all.
	None bool
}

func (inv Inventory) isZero() bool {
	return inv.Sources == nil && inv.Text == "" && inv.Model == nil && !inv.None
}

// check refuses an Inventory that says two things at once.
func (inv Inventory) check() error {
	n := 0
	for _, set := range []bool{inv.Sources != nil, inv.Text != "", inv.Model != nil, inv.None} {
		if set {
			n++
		}
	}
	if n > 1 {
		return &ConfigError{Field: "Inventory", Err: errors.New("set at most one of Sources, Text, Model and None")}
	}
	return nil
}

// checkTarget refuses a Config whose target is incomplete or contradicts
// the fields beside it, before anything starts. A nil Target is checked in
// buildArgv, where it is known whether an args file stands in for it.
func checkTarget(cfg *Config) error {
	if err := cfg.Inventory.check(); err != nil {
		return err
	}
	switch t := cfg.Target.(type) {
	case nil:
	case Playbook:
		switch {
		case t.Path == "" && len(t.Content) == 0:
			return &ConfigError{Field: "Target", Err: errors.New("Playbook needs Path or Content")}
		case t.Path != "" && len(t.Content) > 0:
			return &ConfigError{Field: "Target", Err: errors.New("Playbook takes Path or Content, not both")}
		}
	case *Playbook, *AdHoc, *Role, *RawCommand:
		return &ConfigError{Field: "Target", Err: fmt.Errorf("%T: give the target as a value, not a pointer", t)}
	case AdHoc:
		if t.Module == "" {
			return &ConfigError{Field: "Target", Err: errors.New("AdHoc needs a Module")}
		}
	case Role:
		if t.Name == "" {
			return &ConfigError{Field: "Target", Err: errors.New("Role needs a Name")}
		}
	case RawCommand:
		if len(t.Argv) == 0 || t.Argv[0] == "" {
			return &ConfigError{Field: "Target", Err: errors.New("RawCommand needs a command line")}
		}
		var set []string
		for name, on := range map[string]bool{
			"Binary": cfg.Binary != "", "Cmdline": cfg.Cmdline != "",
			"Inventory": !cfg.Inventory.isZero(), "ExtraVars": cfg.ExtraVars != nil,
		} {
			if on {
				set = append(set, name)
			}
		}
		if len(set) > 0 {
			slices.Sort(set)
			return &ConfigError{Field: set[0], Err: fmt.Errorf("does not apply to a RawCommand, whose command line is whole (set: %s)", strings.Join(set, ", "))}
		}
	default:
		return &ConfigError{Field: "Target", Err: fmt.Errorf("%T is not a target", t)}
	}
	return nil
}

// isAdHoc reports whether cfg runs an ad hoc command.
func isAdHoc(t Target) bool {
	_, ok := t.(AdHoc)
	return ok
}

// hostsOr is pattern, or "all".
func hostsOr(pattern string) string {
	if pattern == "" {
		return "all"
	}
	return pattern
}
