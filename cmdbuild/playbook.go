package cmdbuild

// Playbook describes one ansible-playbook invocation. The zero value of every
// optional field means "not passed", leaving ansible's own default in force.
//
// Args emits, in this order: Binary, Cmdline, -i per Inventory, --limit,
// -e @file per ExtraVarsFiles, -v…, --tags, --skip-tags, --forks (all as
// ansible-runner's generate_ansible_command does), then the flags
// ansible-runner has no parameter for: --check, --diff, --become,
// --become-method, --become-user, --user, --timeout, --ask-pass,
// --ask-become-pass, --ask-vault-pass, --vault-id…, --start-at-task,
// --force-handlers; and last the playbook.
type Playbook struct {
	// Binary is argv[0]; "" means "ansible-playbook". Unlike
	// ansible-runner's binary parameter it only replaces argv[0]: the
	// playbook is still appended (ansible-runner switches to raw mode and
	// drops it).
	Binary string
	// Cmdline holds already split free-form tokens inserted right after
	// Binary, as ansible-runner does with env/cmdline (see Split).
	Cmdline []string
	// Inventory lists inventory paths (or "host1,host2," lists), one -i each.
	Inventory []string
	// ExtraVarsFiles are files passed as "-e @path". Inline variables are
	// deliberately not supported: they would put values, often secrets, in argv.
	ExtraVarsFiles []string
	// Switches are the options shared with ansible (ad hoc).
	Switches
	// Tags and SkipTags are joined with commas into --tags / --skip-tags.
	Tags, SkipTags []string
	// StartAtTask is passed as --start-at-task.
	StartAtTask string
	// ForceHandlers adds --force-handlers.
	ForceHandlers bool
	// Playbook is the playbook path; required, always the last argument.
	Playbook string
}

// Args returns the ansible-playbook argv for p, or a *SpecError naming the
// first invalid field.
func (p Playbook) Args() ([]string, error) {
	b := &builder{spec: "Playbook"}
	b.binary(p.Binary, "ansible-playbook")
	b.cmdline(p.Cmdline)
	b.common(p.Inventory, p.ExtraVarsFiles, p.Tags, p.SkipTags, p.Switches)
	b.optIf("StartAtTask", "--start-at-task", "--start-at-task", p.StartAtTask)
	b.flag(p.ForceHandlers, "--force-handlers")
	b.positional("Playbook", p.Playbook)
	return b.result()
}

// common emits the options ansible-playbook and ansible share, in one place
// and therefore in the same order.
func (b *builder) common(inventory, extraVarsFiles, tags, skipTags []string, c Switches) {
	// ansible-runner's part, in generate_ansible_command's order.
	b.each("Inventory", "-i", "--inventory", inventory, same)
	b.optIf("Limit", "--limit", "--limit", c.Limit)
	b.each("ExtraVarsFiles", "-e", "--extra-vars", extraVarsFiles, func(path string) string { return "@" + path })
	b.verbosity(c.Verbosity)
	b.tags("Tags", "--tags", tags)
	b.tags("SkipTags", "--skip-tags", skipTags)
	b.count("Forks", "--forks", c.Forks)
	// Our typed extras, in a fixed order after ansible-runner's.
	b.flag(c.Check, "--check")
	b.flag(c.Diff, "--diff")
	b.flag(c.Become, "--become")
	b.optIf("BecomeMethod", "--become-method", "--become-method", c.BecomeMethod)
	b.optIf("BecomeUser", "--become-user", "--become-user", c.BecomeUser)
	b.optIf("User", "--user", "--user", c.User)
	b.count("Timeout", "--timeout", c.Timeout)
	b.flag(c.AskPass, "--ask-pass")
	b.flag(c.AskBecomePass, "--ask-become-pass")
	b.flag(c.AskVaultPass, "--ask-vault-pass")
	b.vaultIDs(c.VaultIDs)
}

func same(s string) string { return s }
