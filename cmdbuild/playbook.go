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
	// Limit is a host pattern passed as --limit.
	Limit string
	// ExtraVarsFiles are files passed as "-e @path". Inline variables are
	// deliberately not supported: they would put values, often secrets, in argv.
	ExtraVarsFiles []string
	// Verbosity 1..5 adds "-v".."-vvvvv"; 0 adds nothing.
	Verbosity int
	// Tags and SkipTags are joined with commas into --tags / --skip-tags.
	Tags, SkipTags []string
	// Forks is passed as --forks when > 0; 0 keeps ansible's default.
	Forks int
	// StartAtTask is passed as --start-at-task.
	StartAtTask string
	// Check and Diff add --check and --diff.
	Check, Diff bool
	// Become adds --become; BecomeMethod and BecomeUser add
	// --become-method and --become-user when non-empty.
	Become                   bool
	BecomeMethod, BecomeUser string
	// User is the remote user, passed as --user.
	User string
	// Timeout is the connection timeout in seconds, passed as --timeout
	// when > 0.
	Timeout int
	// AskPass, AskBecomePass and AskVaultPass make ansible prompt for the
	// corresponding password on its terminal, where the runner answers it.
	AskPass, AskBecomePass, AskVaultPass bool
	// VaultIDs are vault identity labels, each passed as
	// "--vault-id label@prompt".
	VaultIDs []string
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
	b.common(commonSpec{
		inventory: p.Inventory, limit: p.Limit, extraVarsFiles: p.ExtraVarsFiles,
		verbosity: p.Verbosity, tags: p.Tags, skipTags: p.SkipTags, forks: p.Forks,
		check: p.Check, diff: p.Diff, become: p.Become,
		becomeMethod: p.BecomeMethod, becomeUser: p.BecomeUser, user: p.User,
		timeout: p.Timeout, askPass: p.AskPass, askBecomePass: p.AskBecomePass,
	})
	b.flag(p.AskVaultPass, "--ask-vault-pass")
	b.vaultIDs(p.VaultIDs)
	b.optIf("StartAtTask", "--start-at-task", "--start-at-task", p.StartAtTask)
	b.flag(p.ForceHandlers, "--force-handlers")
	b.positional("Playbook", p.Playbook)
	return b.result()
}

// commonSpec gathers the options ansible-playbook and ansible share, so both
// emit them in one place and therefore in the same order.
type commonSpec struct {
	inventory                []string
	limit                    string
	extraVarsFiles           []string
	verbosity                int
	tags, skipTags           []string
	forks                    int
	check, diff, become      bool
	becomeMethod, becomeUser string
	user                     string
	timeout                  int
	askPass, askBecomePass   bool
}

func (b *builder) common(c commonSpec) {
	// ansible-runner's part, in generate_ansible_command's order.
	b.each("Inventory", "-i", "--inventory", c.inventory, same)
	b.optIf("Limit", "--limit", "--limit", c.limit)
	b.each("ExtraVarsFiles", "-e", "--extra-vars", c.extraVarsFiles, func(path string) string { return "@" + path })
	b.verbosity(c.verbosity)
	b.tags("Tags", "--tags", c.tags)
	b.tags("SkipTags", "--skip-tags", c.skipTags)
	b.count("Forks", "--forks", c.forks)
	// Our typed extras, in a fixed order after ansible-runner's.
	b.flag(c.check, "--check")
	b.flag(c.diff, "--diff")
	b.flag(c.become, "--become")
	b.optIf("BecomeMethod", "--become-method", "--become-method", c.becomeMethod)
	b.optIf("BecomeUser", "--become-user", "--become-user", c.becomeUser)
	b.optIf("User", "--user", "--user", c.user)
	b.count("Timeout", "--timeout", c.timeout)
	b.flag(c.askPass, "--ask-pass")
	b.flag(c.askBecomePass, "--ask-become-pass")
}

func same(s string) string { return s }
