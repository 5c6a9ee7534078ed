package stream

// This file is the one place that maps between ansible-runner's run()
// keyword arguments (the stream's {"kwargs": {...}} line) and
// runner.Config, both ways.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/arunner/arunner/cmdbuild"
	"github.com/arunner/arunner/isolation"
	"github.com/arunner/arunner/privdata"
	"github.com/arunner/arunner/runner"
)

// ErrNotTransmittable is matched by Transmit's error for a Config field that
// the stream cannot carry (a hook, credentials only this process holds); the
// error is then a *KwargsError whose Key names the field ("Config.Wrap").
var ErrNotTransmittable = errors.New("cannot be sent to a worker")

// KwargsError is a kwargs line the worker cannot run: an argument it does
// not know, or one whose value has the wrong type. From Transmit, it is a
// Config field that no kwargs line can carry, and Key names the field
// ("Config.Wrap").
type KwargsError struct {
	Key string
	Err error
}

func (e *KwargsError) Error() string { return "kwargs: " + e.Key + ": " + e.Err.Error() }
func (e *KwargsError) Unwrap() error { return e.Err }

// configKwargs builds the kwargs line for cfg: what ansible-runner's
// transmit sends for the same job. Paths under the private data dir go
// relative to it (the playbook to the project dir), as ansible-runner makes
// them, since the worker's private data dir is elsewhere.
//
// What the job needs beyond the private data dir's own files (a role's
// one-play playbook, an inline playbook or inventory, RolesPath's roles,
// ProjectFS, a RawCommand's args file) is returned in ov, for the zip
// only: the controller's dir is left as it is.
func configKwargs(cfg runner.Config) (k map[string]any, ov overlay, err error) {
	refuse := func(field string) error { return &KwargsError{Key: "Config." + field, Err: ErrNotTransmittable} }
	switch {
	case len(cfg.Credentials) > 0:
		return nil, nil, refuse("Credentials") // AWX writes them into env/ first
	case len(cfg.SSHKeys) > 0:
		return nil, nil, refuse("SSHKeys") // env/ssh_key travels in the zip
	case cfg.FactCache != nil:
		return nil, nil, refuse("FactCache")
	case cfg.Wrap != nil:
		return nil, nil, refuse("Wrap")
	case cfg.Inventory.None:
		return nil, nil, refuse("Inventory.None")
	case cfg.NoPTY:
		return nil, nil, refuse("NoPTY")
	case cfg.ProjectFS != nil && cfg.ProjectDir != "":
		return nil, nil, &KwargsError{Key: "Config.ProjectFS", Err: errors.New("set at most one of ProjectDir and ProjectFS")}
	}
	pdd, err := filepath.Abs(cfg.PrivateDataDir)
	if err != nil {
		return nil, nil, err
	}
	k = map[string]any{"ident": cfg.Ident}
	if cfg.Ident == "" {
		k["ident"] = nil
	}
	set := func(key, v string) {
		if v != "" {
			k[key] = v
		}
	}
	addExtra := func(field, path string, data []byte) {
		ov = append(ov, overlayEntry{field: field, path: path, data: data})
	}
	if cfg.ProjectFS != nil {
		// The worker's project dir is <its pdd>/project, as the
		// controller's copy of ProjectFS would be its project dir.
		ov = append(ov, overlayEntry{field: "ProjectFS", path: pddRel.Project(), fsys: cfg.ProjectFS})
	}
	env := maps.Clone(cfg.EnvVars)
	var sw runner.Switches
	var cmdline []string
	var tags, skipTags []string
	switch t := cfg.Target.(type) {
	case nil:
		// The private data dir's args file runs.
	case runner.Playbook:
		playbook := t.Path
		if t.Content != nil {
			playbook = uniqueName("arunner-playbook-", ".yml")
			addExtra("Target", filepath.Join(pddRel.Project(), playbook), t.Content)
		} else if filepath.IsAbs(playbook) {
			project := cmpOr(cfg.ProjectDir, privdata.Paths{Root: pdd}.Project())
			if rel, ok := under(project, playbook); ok {
				playbook = rel
			}
		}
		set("playbook", playbook)
		sw, tags, skipTags = t.Switches, t.Tags, t.SkipTags
		if t.StartAtTask != "" {
			cmdline = append(cmdline, "--start-at-task", t.StartAtTask)
		}
		if t.ForceHandlers {
			cmdline = append(cmdline, "--force-handlers")
		}
	case runner.AdHoc:
		set("module", t.Module)
		set("module_args", t.Args)
		set("host_pattern", t.Hosts)
		sw = t.Switches
	case runner.Role:
		if cfg.ProjectDir != "" {
			// The role's playbook would go there, a dir of the
			// controller's; the worker runs it from its own project/.
			return nil, nil, refuse("ProjectDir")
		}
		name, data, err := rolePlay(t)
		if err != nil {
			return nil, nil, err
		}
		addExtra("Target", filepath.Join(pddRel.Project(), name), data)
		set("playbook", name)
		// The worker finds roles in <its pdd>/roles: a relative
		// ANSIBLE_ROLES_PATH is joined to it, by ansible-runner's too.
		// RolesPath's roles go there, each before the private data dir's
		// own of the same name, as ansible looks RolesPath up first.
		if env == nil {
			env = map[string]string{}
		}
		if _, ok := env["ANSIBLE_ROLES_PATH"]; !ok {
			env["ANSIBLE_ROLES_PATH"] = ""
		} else if len(t.RolesPath) > 0 {
			return nil, nil, &KwargsError{Key: "Config.Target.RolesPath", Err: errors.New("cannot be sent with ANSIBLE_ROLES_PATH in EnvVars")}
		}
		roles, err := rolesOverlay(pdd, t.RolesPath)
		if err != nil {
			return nil, nil, err
		}
		ov = append(ov, roles...)
		sw, tags, skipTags = t.Switches, t.Tags, t.SkipTags
	case runner.RawCommand:
		// ansible-runner's worker runs an args file in the private data
		// dir as it is, as arunner's does: the command line goes there.
		if len(t.Argv) == 0 || t.Argv[0] == "" {
			return nil, nil, &KwargsError{Key: "Config.Target", Err: errors.New("RawCommand needs a command line")}
		}
		for field, on := range map[string]bool{
			"Binary": cfg.Binary != "", "Cmdline": cfg.Cmdline != "",
			"Inventory": !inventoryZero(cfg.Inventory), "ExtraVars": cfg.ExtraVars != nil,
		} {
			if on {
				return nil, nil, &KwargsError{Key: "Config." + field, Err: errors.New("does not apply to a RawCommand, whose command line is whole")}
			}
		}
		addExtra("Target", pddRel.Args(), []byte(cmdbuild.Quote(t.Argv)))
	default:
		return nil, nil, refuse("Target")
	}
	set("binary", cfg.Binary)
	set("limit", sw.Limit)
	set("project_dir", cfg.ProjectDir)
	if sw.Verbosity > 0 {
		k["verbosity"] = sw.Verbosity
	}
	if sw.Forks > 0 {
		k["forks"] = sw.Forks
	}
	if cfg.RotateArtifacts > 0 {
		k["rotate_artifacts"] = cfg.RotateArtifacts
	}
	if cfg.OmitEventData {
		k["omit_event_data"] = true
	}
	if cfg.OnlyFailedEventData {
		k["only_failed_event_data"] = true
	}
	var inv []string
	for _, p := range cfg.Inventory.Sources {
		inv = append(inv, inventoryKwarg(pdd, p))
	}
	if cfg.Inventory.Text != "" {
		name := pddRel.Inventory(uniqueName("arunner-inventory-", ""))
		addExtra("Inventory.Text", name, []byte(cfg.Inventory.Text))
		inv = append(inv, name)
	}
	if cfg.Inventory.Model != nil {
		data, err := cfg.Inventory.Model.YAML()
		if err != nil {
			return nil, nil, &KwargsError{Key: "Config.Inventory.Model", Err: err}
		}
		name := pddRel.Inventory(uniqueName("arunner-inventory-", ".yml"))
		addExtra("Inventory.Model", name, data)
		inv = append(inv, name)
	}
	switch len(inv) {
	case 0:
	case 1:
		k["inventory"] = inv[0]
	default:
		k["inventory"] = inv
	}
	if len(tags) > 0 {
		k["tags"] = strings.Join(tags, ",")
	}
	if len(skipTags) > 0 {
		k["skip_tags"] = strings.Join(skipTags, ",")
	}
	c := cfg.Cmdline
	if extra := append(switchArgs(sw), cmdline...); len(extra) > 0 {
		c = strings.TrimSpace(c + " " + cmdbuild.Quote(extra))
	}
	set("cmdline", c)
	if len(env) > 0 {
		k["envvars"] = env
	}
	if len(cfg.ExtraVars) > 0 {
		k["extravars"] = cfg.ExtraVars
	}
	if len(cfg.Passwords) > 0 {
		pw := make(map[string]string, len(cfg.Passwords))
		for _, p := range cfg.Passwords {
			pw[p.Pattern] = p.Response
		}
		k["passwords"] = pw
	}
	if cfg.JobTimeout > 0 {
		k["timeout"] = int((cfg.JobTimeout + time.Second - 1) / time.Second)
	}
	if cfg.IdleTimeout > 0 {
		k["settings"] = map[string]any{"idle_timeout": int((cfg.IdleTimeout + time.Second - 1) / time.Second)}
	}
	if o := cfg.Isolation; o != nil && o.Enabled {
		if o.DirectoryIsolationBasePath != "" {
			return nil, nil, fmt.Errorf("Config.Isolation.DirectoryIsolationBasePath: %w", runner.ErrIsolationUnsupported)
		}
		k["process_isolation"] = true
		set("process_isolation_executable", o.Executable)
		set("process_isolation_path", o.Path)
		set("container_image", o.Image)
		for key, l := range map[string][]string{
			"process_isolation_hide_paths": o.HidePaths, "process_isolation_ro_paths": o.ROPaths,
			"process_isolation_show_paths": o.ShowPaths, "container_volume_mounts": o.VolumeMounts,
			"container_options": o.ContainerOptions,
		} {
			if len(l) > 0 {
				k[key] = l
			}
		}
	}
	return k, ov, nil
}

// pddRel names the private data dir's entries relative to it.
var pddRel = privdata.Paths{}

// rolesOverlay puts the roles found in rolesPath into the zip's roles/:
// each role dir under its name, the first of a name winning, as ansible's
// search does. A local run whose private data dir has no project/ runs the
// role's playbook from the private data dir itself, where ansible looks in
// roles/ before ANSIBLE_ROLES_PATH: the private data dir's own roles then
// win, as they would there (the worker's playbook is in project/).
func rolesOverlay(pdd string, rolesPath []string) (overlay, error) {
	var ov overlay
	seen := map[string]bool{}
	if st, err := os.Stat(privdata.Paths{Root: pdd}.Project()); err != nil || !st.IsDir() {
		entries, _ := os.ReadDir(privdata.Paths{Root: pdd}.Roles())
		for _, e := range entries {
			seen[e.Name()] = true
		}
	}
	for _, dir := range rolesPath {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, &KwargsError{Key: "Config.Target.RolesPath", Err: err}
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			if seen[e.Name()] {
				continue
			}
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				continue // a dangling link: no role ansible could find
			}
			if st, err := os.Stat(real); err != nil || !st.IsDir() {
				continue
			}
			seen[e.Name()] = true
			ov = append(ov, overlayEntry{field: "Target.RolesPath", path: filepath.Join(pddRel.Roles(), e.Name()), dir: real})
		}
	}
	return ov, nil
}

func inventoryZero(inv runner.Inventory) bool {
	return inv.Sources == nil && inv.Text == "" && inv.Model == nil && !inv.None
}

// uniqueName is prefix, 32 random hex digits and suffix.
func uniqueName(prefix, suffix string) string {
	return prefix + strings.ReplaceAll(uuid.NewString(), "-", "") + suffix
}

// rolePlay is the one-play playbook that runs the role r, as runner and
// ansible-runner's CLI make it, and a name for it.
func rolePlay(r runner.Role) (string, []byte, error) {
	role := map[string]any{"name": r.Name}
	if len(r.Vars) > 0 {
		role["vars"] = r.Vars
	}
	hosts := r.Hosts
	if hosts == "" {
		hosts = "all"
	}
	data, err := json.Marshal([]map[string]any{{"hosts": hosts, "gather_facts": !r.SkipFacts, "roles": []any{role}}})
	if err != nil {
		return "", nil, fmt.Errorf("Config.Target.Vars: %w", err)
	}
	return uniqueName("arunner-role-", ".json"), data, nil
}

// inventoryKwarg is an inventory source as the worker must find it: a path
// in the private data dir relative to it (runner looks a relative source up
// in <pdd>/inventory first, as here), anything else as it is.
func inventoryKwarg(pdd, p string) string {
	if strings.Contains(p, ",") {
		return p // an inline host list
	}
	if !filepath.IsAbs(p) {
		if _, err := os.Stat(filepath.Join(pdd, "inventory", p)); err == nil {
			return filepath.Join("inventory", p)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		p = abs
	}
	if rel, ok := under(pdd, p); ok {
		return rel
	}
	return p
}

// switchArgs is the switches of sw that ansible-runner's kwargs carry only
// inside cmdline (limit, verbosity and forks have kwargs of their own).
func switchArgs(sw runner.Switches) []string {
	var a []string
	on := func(b bool, flag string) {
		if b {
			a = append(a, flag)
		}
	}
	val := func(v, flag string) {
		if v != "" {
			a = append(a, flag, v)
		}
	}
	on(sw.Check, "--check")
	on(sw.Diff, "--diff")
	on(sw.Become, "--become")
	val(sw.BecomeMethod, "--become-method")
	val(sw.BecomeUser, "--become-user")
	val(sw.User, "--user")
	if sw.Timeout > 0 {
		a = append(a, "--timeout", strconv.Itoa(sw.Timeout))
	}
	on(sw.AskPass, "--ask-pass")
	on(sw.AskBecomePass, "--ask-become-pass")
	on(sw.AskVaultPass, "--ask-vault-pass")
	for _, v := range sw.VaultIDs {
		a = append(a, "--vault-id", v+"@prompt") // as cmdbuild passes them
	}
	return a
}

// ignoredKwargs are run() arguments that a worker takes and that change
// nothing here: output switches (a worker is always quiet and streams
// events), the container's working dir, and where the controller keeps
// its own artifacts.
var ignoredKwargs = map[string]bool{
	"quiet": true, "json_mode": true, "suppress_env_files": true, "ignore_logging": true,
	"debug": true, "logfile": true, "suppress_ansible_output": true, "suppress_output_file": true,
	"container_workdir": true, "artifact_dir": true, "host_cwd": true,
	"fact_cache_type": true, "check_job_event_data": true, "streamer": true,
}

// kwargsConfig turns a kwargs line into the Config a worker runs in pdd,
// as ansible-runner's worker does: a relative inventory is joined to the
// private data dir, a relative ANSIBLE_ROLES_PATH to its roles/.
func kwargsConfig(raw json.RawMessage, pdd string) (runner.Config, error) {
	cfg := runner.Config{PrivateDataDir: pdd}
	var k map[string]json.RawMessage
	if err := json.Unmarshal(raw, &k); err != nil || k == nil {
		return cfg, &KwargsError{Key: "kwargs", Err: errors.New("not an object")}
	}
	// What runs, gathered first and made a Target at the end.
	var (
		playbook, module, moduleArgs, hosts, role string
		roleVars                                  map[string]any
		roleSkipFacts                             bool
		rolesPath, tags, skipTags                 []string
		sw                                        runner.Switches
	)
	// iso is the isolation options the kwargs set, made on first use:
	// ansible-runner's CLI transmit sends its container_image default
	// whether or not isolation is on, which isolates nothing.
	iso := func() *isolation.Options {
		if cfg.Isolation == nil {
			cfg.Isolation = &isolation.Options{}
		}
		return cfg.Isolation
	}
	for key, v := range k {
		if isNull(v) {
			continue
		}
		var err error
		switch key {
		case "ident":
			cfg.Ident, err = str(v)
		case "binary":
			cfg.Binary, err = str(v)
		case "playbook":
			playbook, err = str(v)
		case "module":
			module, err = str(v)
		case "module_args":
			moduleArgs, err = str(v)
		case "host_pattern", "hosts":
			hosts, err = str(v)
		case "limit":
			sw.Limit, err = str(v)
		case "cmdline":
			cfg.Cmdline, err = str(v)
		case "project_dir":
			cfg.ProjectDir, err = str(v)
		case "role":
			role, err = str(v)
		case "role_vars":
			err = json.Unmarshal(v, &roleVars)
		case "role_skip_facts":
			roleSkipFacts, err = boolean(v)
		case "verbosity":
			sw.Verbosity, err = integer(v)
		case "forks":
			sw.Forks, err = integer(v)
		case "rotate_artifacts":
			cfg.RotateArtifacts, err = integer(v)
		case "timeout":
			var n int
			n, err = integer(v)
			cfg.JobTimeout = time.Duration(n) * time.Second
		case "omit_event_data":
			cfg.OmitEventData, err = boolean(v)
		case "only_failed_event_data":
			cfg.OnlyFailedEventData, err = boolean(v)
		case "inventory":
			cfg.Inventory.Sources, err = strList(v)
			for i, p := range cfg.Inventory.Sources {
				if !filepath.IsAbs(p) && !strings.Contains(p, ",") { // not an inline host list
					cfg.Inventory.Sources[i] = filepath.Join(pdd, p)
				}
			}
		case "tags", "skip_tags":
			var s string
			if s, err = str(v); err == nil && s != "" {
				if key == "tags" {
					tags = strings.Split(s, ",")
				} else {
					skipTags = strings.Split(s, ",")
				}
			}
		case "roles_path":
			rolesPath, err = strList(v)
		case "envvars":
			cfg.EnvVars, err = stringMap(v)
		case "extravars":
			err = json.Unmarshal(v, &cfg.ExtraVars)
		case "passwords":
			var pw map[string]string
			if pw, err = stringMap(v); err == nil {
				for _, pat := range sortedKeys(pw) {
					cfg.Passwords = append(cfg.Passwords, runner.Password{Pattern: pat, Response: pw[pat]})
				}
			}
		case "settings":
			var s map[string]json.RawMessage
			if err = json.Unmarshal(v, &s); err == nil {
				for name, d := range map[string]*time.Duration{"idle_timeout": &cfg.IdleTimeout, "job_timeout": &cfg.JobTimeout} {
					if raw, ok := s[name]; ok && !isNull(raw) {
						n, ierr := integer(raw)
						if ierr != nil {
							err = fmt.Errorf("%s: %w", name, ierr)
						}
						if *d == 0 {
							*d = time.Duration(n) * time.Second
						}
					}
				}
			}
		case "ssh_key":
			var key string
			if key, err = str(v); err == nil && key != "" {
				cfg.SSHKeys = append(cfg.SSHKeys, runner.SSHKey{PEM: []byte(key), Comment: "kwargs ssh_key"})
			}
		case "process_isolation":
			iso().Enabled, err = boolean(v)
		case "process_isolation_executable":
			iso().Executable, err = str(v)
		case "process_isolation_path":
			iso().Path, err = str(v)
		case "process_isolation_hide_paths":
			iso().HidePaths, err = strList(v)
		case "process_isolation_ro_paths":
			iso().ROPaths, err = strList(v)
		case "process_isolation_show_paths":
			iso().ShowPaths, err = strList(v)
		case "container_image":
			iso().Image, err = str(v)
		case "container_volume_mounts":
			iso().VolumeMounts, err = strList(v)
		case "container_options":
			iso().ContainerOptions, err = strList(v)
		case "container_auth_data", "directory_isolation_base_path":
			if truthy(v) {
				err = runner.ErrIsolationUnsupported
			}
		default:
			if !ignoredKwargs[key] {
				err = errors.New("not an ansible-runner run() argument that arunner knows")
			}
		}
		if err != nil {
			return cfg, &KwargsError{Key: key, Err: err}
		}
	}
	if cfg.Isolation != nil && !cfg.Isolation.Enabled {
		cfg.Isolation = nil // settings without process_isolation isolate nothing
	}
	if role == "" && len(rolesPath) > 0 {
		// ansible-runner puts roles_path on ANSIBLE_ROLES_PATH.
		if cfg.EnvVars == nil {
			cfg.EnvVars = map[string]string{}
		}
		cfg.EnvVars["ANSIBLE_ROLES_PATH"] = strings.Join(rolesPath, ":")
	}
	if p, ok := cfg.EnvVars["ANSIBLE_ROLES_PATH"]; ok && !filepath.IsAbs(p) {
		cfg.EnvVars["ANSIBLE_ROLES_PATH"] = filepath.Join(pdd, "roles", p)
	}
	// As ansible-runner decides: a module wins over a playbook.
	switch {
	case module != "":
		cfg.Target = runner.AdHoc{Module: module, Args: moduleArgs, Hosts: hosts, Switches: sw}
	case role != "":
		cfg.Target = runner.Role{Name: role, Vars: roleVars, Hosts: hosts, SkipFacts: roleSkipFacts, RolesPath: rolesPath, Switches: sw, Tags: tags, SkipTags: skipTags}
	case playbook != "":
		cfg.Target = runner.Playbook{Path: playbook, Switches: sw, Tags: tags, SkipTags: skipTags}
	}
	return cfg, nil
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func truthy(v json.RawMessage) bool {
	switch string(bytes.TrimSpace(v)) {
	case "null", "false", "0", `""`, "[]", "{}":
		return false
	}
	return true
}

func str(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", errors.New("not a string")
	}
	return s, nil
}

func boolean(v json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, errors.New("not a boolean")
	}
	return b, nil
}

// integer reads a number or a string of digits: ansible-runner's CLI sends
// forks as text.
func integer(v json.RawMessage) (int, error) {
	var n int
	if err := json.Unmarshal(v, &n); err == nil && n >= 0 {
		return n, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 {
			return n, nil
		}
	}
	return 0, errors.New("not a whole number")
}

func strList(v json.RawMessage) ([]string, error) {
	var l []string
	if err := json.Unmarshal(v, &l); err == nil {
		return l, nil
	}
	s, err := str(v)
	if err != nil {
		return nil, errors.New("not a string or a list of strings")
	}
	return []string{s}, nil
}

// stringMap reads a JSON object whose values become text as Python's str()
// would make them of the simple types.
func stringMap(v json.RawMessage) (map[string]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, errors.New("not an object")
	}
	out := make(map[string]string, len(m))
	for k, raw := range m {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out[k] = s
			continue
		}
		switch t := string(bytes.TrimSpace(raw)); t {
		case "true":
			out[k] = "True"
		case "false":
			out[k] = "False"
		default:
			out[k] = t
		}
	}
	return out, nil
}

func under(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || !filepath.IsLocal(rel) {
		return "", false
	}
	return rel, true
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
