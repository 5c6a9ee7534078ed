package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"

	"github.com/arunner/arunner/cmdbuild"
	"github.com/arunner/arunner/inventory"
	"github.com/arunner/arunner/privdata"
)

// maxMessage bounds the ansible text a CommandError carries: the end of it,
// where ansible puts its ERROR! line.
const maxMessage = 8 << 10

// CommandError is returned by the helpers (GetInventory, GetPluginDocs, ...)
// when the ansible command failed or printed something that cannot be
// parsed. It wraps the run's error, so errors.As finds an *ExitError and
// errors.Is matches ErrCanceled or ErrTimeout as for Run.
type CommandError struct {
	// Command is the command line, as recorded in the artifacts.
	Command string
	// Message is what ansible said: its stderr (at most the last 8 KiB),
	// or its stdout when stderr was empty.
	Message string
	// Err is the run's error, or the parse error for output that is not
	// what the command should print.
	Err error
}

// Error names the command, the failure and what ansible said.
func (e *CommandError) Error() string {
	msg := e.Command + ": " + e.Err.Error()
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Unwrap returns Err.
func (e *CommandError) Unwrap() error { return e.Err }

// ErrNotJSON is matched by the CommandError of a helper whose command did not
// print a JSON object.
var ErrNotJSON = errors.New("output is not a JSON object")

// RunCommand runs any ansible CLI (argv[0] found on the run's PATH) under the
// runner's lifecycle: hooks, cancel, timeouts, credentials and artifacts, like
// ansible-runner's run_command. It returns the text of the stdout and stderr
// artifacts with the Result; under a pty (the default, except for
// ansible-config, ansible-doc and ansible-galaxy, which run as with
// Config.NoPTY as in ansible-runner) stderr is part of stdout.
//
// cfg.Target is replaced by RawCommand{argv}, and the fields that build a
// command line (Binary, Cmdline, Inventory, ExtraVars) are ignored. When cfg.PrivateDataDir is empty a private
// temporary one is used and removed before RunCommand returns; the Result's
// ArtifactDir is then empty. A non-zero exit gives Run's *ExitError.
func RunCommand(ctx context.Context, cfg Config, argv ...string) (stdout, stderr string, res *Result, err error) {
	if len(argv) == 0 {
		return "", "", nil, &ConfigError{Field: "argv", Err: errors.New("empty command")}
	}
	switch filepath.Base(argv[0]) {
	case "ansible-config", "ansible-doc", "ansible-galaxy":
		cfg.NoPTY = true
	}
	out, errOut, res, err := runHelper(ctx, cfg, fixed(argv), nil)
	return string(out), string(errOut), res, err
}

// GetInventory runs `ansible-inventory --list --export` against sources
// (inventory files, directories, plugin configuration files such as
// constructed or auto, scripts, or "host1,host2," lists) under the runner, so
// that the private data dir's env, Config.EnvVars and credentials apply, and
// parses what it printed. ansible-inventory writes to an inventory.json file
// in the run's artifacts, not to stdout. With no sources, cfg.Inventory's
// sources or the private data dir's inventory are used; the vault ids and
// verbosity of a Playbook target in cfg apply.
//
// A failing ansible-inventory gives a *CommandError whose Message holds its
// warnings and error; an unparsable result gives one wrapping the
// *inventory.Error.
func GetInventory(ctx context.Context, cfg Config, sources ...string) (*inventory.Inventory, *Result, error) {
	if cfg.Inventory.Text != "" || cfg.Inventory.Model != nil {
		return nil, nil, &ConfigError{Field: "Inventory", Err: errors.New("GetInventory reads inventory sources, not an inventory given as data")}
	}
	if len(sources) == 0 {
		sources = cfg.Inventory.Sources
	}
	none := cfg.Inventory.None
	var sw Switches
	if t, ok := cfg.Target.(Playbook); ok {
		sw = t.Switches
	}
	cfg.NoPTY = true
	var data []byte
	build := func(pdd, artifacts string) ([]string, error) {
		inv, err := inventorySources(pdd, sources, none)
		if err != nil {
			return nil, err
		}
		spec := cmdbuild.Inventory{
			Binary:    cfg.Binary,
			Action:    "list",
			Inventory: inv,
			Export:    true,
			Output:    filepath.Join(artifacts, "inventory.json"),
			VaultIDs:  sw.VaultIDs,
			Verbosity: sw.Verbosity,
		}
		argv, err := spec.Args()
		if err != nil {
			return nil, &ConfigError{Field: "sources", Err: err}
		}
		return argv, nil
	}
	out, errOut, res, err := runHelper(ctx, cfg, build, func(res *Result) {
		data, _ = os.ReadFile(filepath.Join(res.ArtifactDir, "inventory.json"))
	})
	if err != nil {
		return nil, res, commandError(&cfg, res, err, out, errOut)
	}
	inv, err := inventory.Parse(data)
	if err != nil {
		return nil, res, &CommandError{Command: strings.Join(res.Command, " "), Message: res.Redact(tail(errOut)), Err: err}
	}
	return inv, res, nil
}

// inventorySources resolves sources as a run's Inventory.Sources are
// (privdata.ResolveInventory), with <pdd>/inventory for none. A missing
// file is refused there because ansible-inventory only warns about it and
// prints an empty inventory.
func inventorySources(pdd string, sources []string, none bool) ([]string, error) {
	if none {
		return nil, nil
	}
	if len(sources) == 0 {
		if p := (privdata.Paths{Root: pdd}).Inventory(); exists(p) {
			return []string{p}, nil
		}
		return nil, nil
	}
	out, err := privdata.ResolveInventory(pdd, sources)
	if err != nil {
		return nil, &ConfigError{Field: "sources", Err: err}
	}
	return out, nil
}

// GetPluginDocs returns `ansible-doc -j [-t pluginType] names...`: for each
// plugin, its doc, examples and return values, as ansible-runner's
// get_plugin_docs with response_format json does. An empty pluginType means
// modules.
func GetPluginDocs(ctx context.Context, cfg Config, pluginType string, names ...string) (map[string]any, *Result, error) {
	if len(names) == 0 {
		return nil, nil, &ConfigError{Field: "names", Err: errors.New("at least one plugin name is required")}
	}
	argv := []string{"ansible-doc", "-j"}
	if pluginType != "" {
		argv = append(argv, "-t", pluginType)
	}
	return jsonHelper[map[string]any](ctx, cfg, append(argv, names...))
}

// GetPluginList returns `ansible-doc -j -l [-t pluginType] [collection]`:
// plugin name to short description. collection (for example
// "ansible.builtin") limits the list, which is much faster than listing
// every installed collection.
func GetPluginList(ctx context.Context, cfg Config, pluginType, collection string) (map[string]string, *Result, error) {
	argv := []string{"ansible-doc", "-j", "-l"}
	if pluginType != "" {
		argv = append(argv, "-t", pluginType)
	}
	if collection != "" {
		argv = append(argv, collection)
	}
	raw, res, err := jsonHelper[map[string]any](ctx, cfg, argv)
	if err != nil {
		return nil, res, err
	}
	out := make(map[string]string, len(raw))
	for name, v := range raw {
		// Descriptions are strings; a plugin with a malformed doc may give
		// something else, kept as its JSON text rather than refused.
		if s, ok := v.(string); ok {
			out[name] = s
		} else {
			b, _ := json.Marshal(v)
			out[name] = string(b)
		}
	}
	return out, res, nil
}

// GetAnsibleConfig returns the text of `ansible-config ACTION`, action being
// "list", "dump" or "view"; onlyChanged (dump only) adds --only-changed.
// ANSIBLE_CONFIG in the env or Config.EnvVars selects the file.
func GetAnsibleConfig(ctx context.Context, cfg Config, action string, onlyChanged bool) (string, *Result, error) {
	switch action {
	case "list", "dump", "view":
	default:
		return "", nil, &ConfigError{Field: "action", Err: fmt.Errorf("%q is not one of list, dump, view", action)}
	}
	if onlyChanged && action != "dump" {
		return "", nil, &ConfigError{Field: "onlyChanged", Err: errors.New("only valid with action dump")}
	}
	argv := []string{"ansible-config", action}
	if onlyChanged {
		argv = append(argv, "--only-changed")
	}
	cfg.NoPTY = true
	out, errOut, res, err := runHelper(ctx, cfg, fixed(argv), nil)
	if err != nil {
		return "", res, commandError(&cfg, res, err, out, errOut)
	}
	return string(out), res, nil
}

// GetRoleList returns `ansible-doc -t role -l -j`: for each role, its
// collection and entry points with their short descriptions. collection
// limits the list to one collection; playbookDir adds the roles/ next to a
// playbook (--playbook-dir).
func GetRoleList(ctx context.Context, cfg Config, collection, playbookDir string) (map[string]any, *Result, error) {
	argv := []string{"ansible-doc", "-t", "role", "-l", "-j"}
	if playbookDir != "" {
		argv = append(argv, "--playbook-dir", playbookDir)
	}
	if collection != "" {
		argv = append(argv, collection)
	}
	return jsonHelper[map[string]any](ctx, cfg, argv)
}

// GetRoleArgspec returns `ansible-doc -t role -j [collection.]role`: the
// role's argument specs (meta/argument_specs.yml) per entry point.
func GetRoleArgspec(ctx context.Context, cfg Config, role, collection, playbookDir string) (map[string]any, *Result, error) {
	if role == "" {
		return nil, nil, &ConfigError{Field: "role", Err: errors.New("required")}
	}
	argv := []string{"ansible-doc", "-t", "role", "-j"}
	if playbookDir != "" {
		argv = append(argv, "--playbook-dir", playbookDir)
	}
	if collection != "" {
		role = collection + "." + role
	}
	return jsonHelper[map[string]any](ctx, cfg, append(argv, role))
}

// jsonHelper runs argv without a pty and decodes its stdout.
func jsonHelper[T any](ctx context.Context, cfg Config, argv []string) (T, *Result, error) {
	var zero T
	cfg.NoPTY = true
	out, errOut, res, err := runHelper(ctx, cfg, fixed(argv), nil)
	if err != nil {
		return zero, res, commandError(&cfg, res, err, out, errOut)
	}
	v, err := decodeJSON[T](out)
	if err != nil {
		return zero, res, &CommandError{Command: strings.Join(res.Command, " "), Err: err, Message: res.Redact(tail(errOut))}
	}
	return v, res, nil
}

// decodeJSON parses a command's JSON output as ansible-runner does: anything
// before the first '{' (a warning printed to stdout) is dropped.
func decodeJSON[T any](out []byte) (T, error) {
	var v T
	i := bytes.IndexByte(out, '{')
	if i < 0 {
		return v, ErrNotJSON
	}
	if err := json.Unmarshal(out[i:], &v); err != nil {
		return v, fmt.Errorf("%w: %w", ErrNotJSON, err)
	}
	return v, nil
}

// argvFunc builds a helper's command line once the absolute private data
// dir and the run's artifacts dir are known.
type argvFunc func(pdd, artifacts string) ([]string, error)

// fixed is the argvFunc of a command that needs neither.
func fixed(argv []string) argvFunc {
	return func(string, string) ([]string, error) { return argv, nil }
}

// runHelper runs cfg with the command build returns and reads back the stdout
// and stderr artifacts. An empty PrivateDataDir becomes a private temporary
// dir (0700) removed before returning; collect reads whatever else is needed
// from the artifacts before that.
func runHelper(ctx context.Context, cfg Config, build argvFunc, collect func(*Result)) (stdout, stderr []byte, res *Result, err error) {
	if cfg.PrivateDataDir == "" {
		tmp, err := os.MkdirTemp("", ".arunner-")
		if err != nil {
			return nil, nil, nil, &ConfigError{Field: "PrivateDataDir", Err: err}
		}
		defer os.RemoveAll(tmp)
		cfg.PrivateDataDir = tmp
		defer func() {
			if res != nil {
				res.ArtifactDir = "" // removed with the dir
			}
		}()
	}
	pdd, err := filepath.Abs(cfg.PrivateDataDir)
	if err != nil {
		return nil, nil, nil, &ConfigError{Field: "PrivateDataDir", Err: err}
	}
	cfg.PrivateDataDir = pdd
	// The artifacts dir is fixed before the run starts so that the command
	// can be told to write into it.
	if cfg.Ident == "" {
		cfg.Ident = uuid.NewString()
	}
	root := cfg.ArtifactDir
	if root == "" {
		root = privdata.Paths{Root: pdd}.Artifacts()
	}
	if root, err = filepath.Abs(root); err != nil {
		return nil, nil, nil, &ConfigError{Field: "ArtifactDir", Err: err}
	}
	argv, err := build(pdd, filepath.Join(root, cfg.Ident))
	if err != nil {
		return nil, nil, nil, err
	}
	// The helper's command line is whole: what would build one does not
	// apply (GetInventory has taken what it needs).
	cfg.Target = RawCommand{Argv: argv}
	cfg.Binary, cfg.Cmdline, cfg.Inventory, cfg.ExtraVars = "", "", Inventory{}, nil
	res, err = Run(ctx, cfg)
	if res == nil {
		return nil, nil, nil, err
	}
	stdout, _ = os.ReadFile(filepath.Join(res.ArtifactDir, "stdout"))
	stderr, _ = os.ReadFile(filepath.Join(res.ArtifactDir, "stderr"))
	if collect != nil {
		collect(res)
	}
	return stdout, stderr, res, err
}

// commandError wraps a failed run's error with what ansible said.
func commandError(cfg *Config, res *Result, err error, stdout, stderr []byte) error {
	var ce *CommandError
	var cfgErr *ConfigError
	if errors.As(err, &ce) || errors.As(err, &cfgErr) {
		return err // nothing ran, or already wrapped
	}
	msg := tail(stderr)
	if msg == "" {
		msg = tail(stdout)
	}
	msg = res.Redact(msg)
	cmd := ""
	if res != nil {
		cmd = strings.Join(res.Command, " ")
	}
	return &CommandError{Command: cmd, Message: msg, Err: err}
}

// tail is the end of b, trimmed, at most maxMessage bytes.
func tail(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > maxMessage {
		b = b[len(b)-maxMessage:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
