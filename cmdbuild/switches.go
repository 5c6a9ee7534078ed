package cmdbuild

// Switches are the options ansible-playbook and ansible share: their one
// home, embedded in Playbook and AdHoc (and, through them, in the runner's
// targets). The zero value of each means "not passed".
type Switches struct {
	// Limit is a host pattern passed as --limit.
	Limit string
	// Verbosity 1..5 adds "-v".."-vvvvv"; 0 adds nothing.
	Verbosity int
	// Forks is passed as --forks when > 0; 0 keeps ansible's default.
	Forks int
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
}
