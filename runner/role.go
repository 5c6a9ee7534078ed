package runner

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// A run that generates its playbook (a Role, a Playbook's Content) writes
// it in the project dir, so that what it names relative to itself is
// found, under a unique name that starts with playbookPrefix[kind]; a link
// in the runtime dir, playbookLinks[kind], points to it so that the next
// run removes it if this one is killed (it may hold secrets: Role.Vars).
var (
	playbookPrefix = map[string]string{"role": "arunner-role-", "playbook": "arunner-playbook-"}
	playbookLinks  = map[string]string{"role": "role-playbook", "playbook": "inline-playbook"}
	playbookWhat   = map[string]string{"role": "the role's playbook", "playbook": "inline playbook"}
)

// rolePlay is the one-play playbook that runs t, as ansible-runner's role
// mode writes it.
func rolePlay(t Role) ([]byte, error) {
	role := map[string]any{"name": t.Name}
	if len(t.Vars) > 0 {
		role["vars"] = t.Vars
	}
	play := []map[string]any{{
		"hosts":        hostsOr(t.Hosts),
		"gather_facts": !t.SkipFacts,
		"roles":        []any{role},
	}}
	data, err := json.Marshal(play)
	if err != nil {
		return nil, &ConfigError{Field: "Target", Err: err}
	}
	return data, nil
}

// planPlaybook plans a generated playbook of the given kind in cwd and
// returns its name, relative to cwd.
func (r *run) planPlaybook(cwd, kind string, data []byte) string {
	ext := ".yml"
	if kind == "role" {
		ext = ".json"
	}
	name := playbookPrefix[kind] + strings.ReplaceAll(uuid.NewString(), "-", "") + ext
	r.planned = append(r.planned, planFile{
		PlanFile: PlanFile{Path: filepath.Join(cwd, name), Mode: 0o600, What: playbookWhat[kind]},
		data:     data,
		mkdir:    cwd,
		runLink:  playbookLinks[kind],
	})
	return name
}

// rolesPath is ANSIBLE_ROLES_PATH for a role run: Role.RolesPath, then
// <private data dir>/roles. ansible splits it on ':', so a dir whose path it
// would not take as it is is named by a link in the scratch dir.
func (r *run) rolesPath(t Role) string {
	parts := append(absAll(t.RolesPath), r.paths().Roles())
	for i, p := range parts {
		parts[i] = r.ansiblePath(p, "roles-"+strconv.Itoa(i))
	}
	return strings.Join(parts, ":")
}

// absAll makes every path in ps absolute.
func absAll(ps []string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		out = append(out, p)
	}
	return out
}
