package runner

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// rolePlaybookPrefix starts the name of a role run's playbook, and
// rolePlaybookLink, in the runtime dir, points to it.
const (
	rolePlaybookPrefix = "arunner-role-"
	rolePlaybookLink   = "role-playbook"
)

// rolePlaybook writes the one-play playbook that runs Config.Role, as
// ansible-runner's role mode does: in the project dir (so that roles next to
// it are found), under a unique name, removed when the run ends.
func (r *run) rolePlaybook(cwd string) (string, error) {
	cfg := &r.cfg
	role := map[string]any{"name": cfg.Role}
	if len(cfg.RoleVars) > 0 {
		role["vars"] = cfg.RoleVars
	}
	hosts := cfg.HostPattern
	if hosts == "" {
		hosts = "all"
	}
	play := []map[string]any{{
		"hosts":        hosts,
		"gather_facts": !cfg.RoleSkipFacts,
		"roles":        []any{role},
	}}
	data, err := json.Marshal(play)
	if err != nil {
		return "", &ConfigError{Field: "RoleVars", Err: err}
	}
	created := false
	if _, err := os.Stat(cwd); os.IsNotExist(err) {
		created = true
	}
	if err := os.MkdirAll(cwd, 0o700); err != nil {
		return "", &ConfigError{Field: "Role", Err: err}
	}
	name := rolePlaybookPrefix + strings.ReplaceAll(uuid.NewString(), "-", "") + ".json"
	path := filepath.Join(cwd, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", &ConfigError{Field: "Role", Err: err}
	}
	if r.runtime != "" {
		// So that the next run removes it if this one is killed: it
		// holds the RoleVars.
		_ = os.Symlink(path, filepath.Join(r.runtime, rolePlaybookLink))
	}
	r.cleanup = append(r.cleanup, func() {
		os.Remove(path)
		if created {
			os.Remove(cwd)
		}
	})
	return name, nil
}

// rolesPath is ANSIBLE_ROLES_PATH for a role run: Config.RolesPath, then
// <private data dir>/roles. ansible splits it on ':', so a dir whose path it
// would not take as it is is named by a link in the scratch dir.
func (r *run) rolesPath() (string, error) {
	parts := make([]string, 0, len(r.cfg.RolesPath)+1)
	for _, p := range r.cfg.RolesPath {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		parts = append(parts, p)
	}
	parts = append(parts, filepath.Join(r.pdd, "roles"))
	for i, p := range parts {
		var err error
		if parts[i], err = r.ansiblePath(p, "roles-"+strconv.Itoa(i)); err != nil {
			return "", err
		}
	}
	return strings.Join(parts, ":"), nil
}
