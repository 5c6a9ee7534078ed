package cmdbuild

// Inventory describes one ansible-inventory invocation.
//
// Args emits, in this order: Binary, Cmdline, --list|--graph|--host HOST,
// -i…, --yaml|--toml, --playbook-dir, --vault-id…, --output, --export (the
// order of ansible-runner's prepare_inventory_command), then --limit,
// --ask-vault-pass and -v….
type Inventory struct {
	// Binary is argv[0]; "" means "ansible-inventory".
	Binary  string
	Cmdline []string
	// Action is "list" (the default when empty), "graph" or "host".
	Action string
	// Host is the host to show; required with Action "host", refused
	// otherwise.
	Host      string
	Inventory []string
	// Limit is passed as --limit. The ansible-inventory of ansible-core
	// 2.14 has no such option and exits with a usage error (later releases
	// accept it); leave it empty for those versions.
	Limit string
	// Export adds --export.
	Export bool
	// Output is a file ansible-inventory writes to, passed as --output.
	Output string
	// PlaybookDir is passed as --playbook-dir.
	PlaybookDir string
	// Yaml and Toml select the output format; at most one may be set.
	Yaml, Toml bool
	// VaultIDs and AskVaultPass mean the same as in Playbook.
	VaultIDs     []string
	AskVaultPass bool
	Verbosity    int
}

// Args returns the ansible-inventory argv for i, or a *SpecError naming the
// first invalid field.
func (i Inventory) Args() ([]string, error) {
	b := &builder{spec: "Inventory"}
	b.binary(i.Binary, "ansible-inventory")
	b.cmdline(i.Cmdline)
	switch i.Action {
	case "", "list", "graph":
		if i.Host != "" {
			b.fail("Host", `is only used with Action "host"`)
		}
		action := i.Action
		if action == "" {
			action = "list"
		}
		b.flag(true, "--"+action)
	case "host":
		if i.Host == "" {
			b.fail("Host", `is required with Action "host"`)
		}
		b.opt("Host", "--host", "--host", i.Host)
	default:
		b.fail("Action", `must be "list", "graph" or "host"`)
	}
	b.each("Inventory", "-i", "--inventory", i.Inventory, same)
	if i.Yaml && i.Toml {
		b.fail("Toml", "cannot be combined with Yaml")
	}
	b.flag(i.Yaml, "--yaml")
	b.flag(i.Toml, "--toml")
	b.optIf("PlaybookDir", "--playbook-dir", "--playbook-dir", i.PlaybookDir)
	b.vaultIDs(i.VaultIDs)
	b.optIf("Output", "--output", "--output", i.Output)
	b.flag(i.Export, "--export")
	b.optIf("Limit", "--limit", "--limit", i.Limit)
	b.flag(i.AskVaultPass, "--ask-vault-pass")
	b.verbosity(i.Verbosity)
	return b.result()
}
