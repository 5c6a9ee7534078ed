package cmdbuild

// AdHoc describes one ansible (ad hoc) invocation. Its fields mean the same
// as Playbook's fields of the same name.
//
// Args emits, in this order: Binary, Cmdline, -i…, --limit, -e @file…, -v…,
// --forks, --check, --diff, --become, --become-method, --become-user,
// --user, --timeout, --ask-pass, --ask-become-pass, --ask-vault-pass,
// --vault-id…, then
// "-m module [-a args] host_pattern" as ansible-runner does.
type AdHoc struct {
	// Binary is argv[0]; "" means "ansible". As in Playbook, it only
	// replaces argv[0].
	Binary         string
	Cmdline        []string
	Inventory      []string
	ExtraVarsFiles []string
	Switches
	// Module is the module name passed with -m; required.
	Module string
	// ModuleArgs is passed with -a when non-empty. Unlike other values it
	// may contain line breaks: multi-line shell scripts are a normal use.
	ModuleArgs string
	// HostPattern selects the hosts to run on; required, always last.
	HostPattern string
}

// Args returns the ansible argv for a, or a *SpecError naming the first
// invalid field.
func (a AdHoc) Args() ([]string, error) {
	b := &builder{spec: "AdHoc"}
	b.binary(a.Binary, "ansible")
	b.cmdline(a.Cmdline)
	b.common(a.Inventory, a.ExtraVarsFiles, nil, nil, a.Switches)
	if a.Module == "" {
		b.fail("Module", "is required")
	}
	b.opt("Module", "-m", "--module-name", a.Module)
	if a.ModuleArgs != "" {
		b.optWith("ModuleArgs", "-a", "--args", a.ModuleArgs, b.noNUL)
	}
	b.positional("HostPattern", a.HostPattern)
	return b.result()
}
