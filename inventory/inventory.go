package inventory

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Reserved group names. Ansible creates both implicitly; the model keeps them
// out of Inventory.Groups: `all` is the inventory itself (its vars are
// Inventory.Vars) and `ungrouped` is every host that is in no group.
const (
	All       = "all"
	Ungrouped = "ungrouped"
)

// Inventory is a set of hosts and groups with their variables.
//
// Group.Hosts and Group.Children are the source of truth for membership;
// Host.Groups is a convenience kept up to date by Parse and AddHost.
type Inventory struct {
	// Groups maps a group name to the group; it never holds `all` or `ungrouped`.
	Groups map[string]*Group
	// Hosts maps a host name to the host.
	Hosts map[string]*Host
	// Vars are the variables of the `all` group.
	Vars map[string]any
}

// Group is a named set of hosts and child groups.
type Group struct {
	Name string
	// Hosts are the direct members, in inventory order.
	Hosts []string
	// Children are the direct child groups, in inventory order.
	Children []string
	// Vars are the group variables (the --export form, not merged into hosts).
	Vars map[string]any
}

// Host is one inventory host.
type Host struct {
	Name string
	// Vars are the host's own variables, including ansible_port when the
	// inventory named the host as host:port.
	Vars map[string]any
	// Groups are the groups that list the host directly, sorted.
	Groups []string
}

// New returns an empty inventory.
func New() *Inventory {
	return &Inventory{Groups: map[string]*Group{}, Hosts: map[string]*Host{}, Vars: map[string]any{}}
}

// AddHost returns the host called name, creating it if needed, and makes it a
// direct member of each of groups, creating missing groups at the top level.
// The names `all` and `ungrouped` add no membership.
func (inv *Inventory) AddHost(name string, groups ...string) *Host {
	inv.init()
	h := inv.host(name)
	for _, g := range groups {
		if g == All || g == Ungrouped {
			continue
		}
		inv.link(inv.group(g), h)
	}
	return h
}

// AddGroup returns the group called name, creating it if needed, and makes it
// a child of parent unless parent is "" or `all`; a missing parent is created.
// Reserved names and cycles are reported when the inventory is written.
func (inv *Inventory) AddGroup(name, parent string) *Group {
	inv.init()
	g := inv.group(name)
	if parent != "" && parent != All {
		p := inv.group(parent)
		if !slices.Contains(p.Children, name) {
			p.Children = append(p.Children, name)
		}
	}
	return g
}

// AllGroups returns every group the host belongs to, directly or through
// child groups, sorted; `all` is implied and not listed. It returns nil for an
// unknown host.
func (inv *Inventory) AllGroups(host string) []string {
	if _, ok := inv.Hosts[host]; !ok {
		return nil
	}
	parents := map[string][]string{}
	for _, name := range slices.Sorted(maps.Keys(inv.Groups)) {
		for _, c := range inv.Groups[name].Children {
			parents[c] = append(parents[c], name)
		}
	}
	seen := map[string]bool{}
	var visit func(string)
	visit = func(g string) {
		if seen[g] {
			return
		}
		seen[g] = true
		for _, p := range parents[g] {
			visit(p)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(inv.Groups)) {
		if slices.Contains(inv.Groups[name].Hosts, host) {
			visit(name)
		}
	}
	return sortedNonNil(seen)
}

// GroupHosts returns the hosts in group and in all its descendants, sorted.
// `all` yields every host and `ungrouped` the hosts in no group; an unknown
// group yields nil.
func (inv *Inventory) GroupHosts(group string) []string {
	switch group {
	case All:
		return sortedNonNil(inv.Hosts)
	case Ungrouped:
		return inv.ungrouped()
	}
	if _, ok := inv.Groups[group]; !ok {
		return nil
	}
	hosts := map[string]bool{}
	seen := map[string]bool{}
	var visit func(string)
	visit = func(name string) {
		g, ok := inv.Groups[name]
		if !ok || seen[name] { // seen also guards hand-built cycles
			return
		}
		seen[name] = true
		for _, h := range g.Hosts {
			hosts[h] = true
		}
		for _, c := range g.Children {
			visit(c)
		}
	}
	visit(group)
	return sortedNonNil(hosts)
}

// ungrouped returns the hosts no group lists, sorted.
func (inv *Inventory) ungrouped() []string {
	member := map[string]bool{}
	for _, g := range inv.Groups {
		for _, h := range g.Hosts {
			member[h] = true
		}
	}
	var out []string
	for _, h := range slices.Sorted(maps.Keys(inv.Hosts)) {
		if !member[h] {
			out = append(out, h)
		}
	}
	return out
}

// topLevel returns the groups that are no other group's child, sorted: the
// children of `all`.
func (inv *Inventory) topLevel() []string {
	child := map[string]bool{}
	for _, g := range inv.Groups {
		for _, c := range g.Children {
			child[c] = true
		}
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(inv.Groups)) {
		if !child[name] {
			out = append(out, name)
		}
	}
	return out
}

func (inv *Inventory) init() {
	if inv.Groups == nil {
		inv.Groups = map[string]*Group{}
	}
	if inv.Hosts == nil {
		inv.Hosts = map[string]*Host{}
	}
	if inv.Vars == nil {
		inv.Vars = map[string]any{}
	}
}

func (inv *Inventory) host(name string) *Host {
	h, ok := inv.Hosts[name]
	if !ok {
		h = &Host{Name: name, Vars: map[string]any{}}
		inv.Hosts[name] = h
	}
	return h
}

func (inv *Inventory) group(name string) *Group {
	g, ok := inv.Groups[name]
	if !ok {
		g = &Group{Name: name, Vars: map[string]any{}}
		inv.Groups[name] = g
	}
	return g
}

// link makes h a direct member of g, keeping both sides in step.
func (inv *Inventory) link(g *Group, h *Host) {
	if !slices.Contains(g.Hosts, h.Name) {
		g.Hosts = append(g.Hosts, h.Name)
	}
	if i, found := slices.BinarySearch(h.Groups, g.Name); !found {
		h.Groups = slices.Insert(h.Groups, i, g.Name)
	}
}

// validate checks what the writers rely on: consistent names, no reserved
// group names, references that resolve, and no cycles.
func (inv *Inventory) validate() error {
	for _, name := range slices.Sorted(maps.Keys(inv.Hosts)) {
		h := inv.Hosts[name]
		if name == "" {
			return shapeErr("hosts", "empty host name")
		}
		if h == nil || h.Name != name {
			return shapeErr(fmt.Sprintf("host %q", name), "Host.Name does not match its key")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(inv.Groups)) {
		g := inv.Groups[name]
		where := fmt.Sprintf("group %q", name)
		switch {
		case name == "":
			return shapeErr("groups", "empty group name")
		case name == meta:
			return shapeErr(where, "reserved name: it holds hostvars in ansible's JSON")
		case name == All || name == Ungrouped:
			return shapeErr(where, "reserved group name: use Inventory.Vars and hosts without groups")
		case g == nil || g.Name != name:
			return shapeErr(where, "Group.Name does not match its key")
		}
		for _, h := range g.Hosts {
			if _, ok := inv.Hosts[h]; !ok {
				return refErr(where+": hosts", "host %q is not in Inventory.Hosts", h)
			}
		}
		for _, c := range g.Children {
			if _, ok := inv.Groups[c]; !ok {
				return refErr(where+": children", "group %q is not in Inventory.Groups", c)
			}
		}
	}
	return findCycle(inv.Groups)
}

// findCycle reports the first child-group cycle found, naming its path.
func findCycle(groups map[string]*Group) error {
	const (
		unvisited = iota
		active
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(string) error
	visit = func(name string) error {
		switch state[name] {
		case active:
			i := slices.Index(stack, name)
			path := append(slices.Clone(stack[i:]), name)
			return &Error{Where: fmt.Sprintf("group %q", name), Kind: ErrCycle,
				Err: fmt.Errorf("children form a cycle: %s", strings.Join(path, " -> "))}
		case done:
			return nil
		}
		state[name] = active
		stack = append(stack, name)
		if g := groups[name]; g != nil {
			for _, c := range g.Children {
				if err := visit(c); err != nil {
					return err
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(groups)) {
		if err := visit(name); err != nil {
			return err
		}
	}
	return nil
}

// sortedNonNil is m's keys in order, an empty slice (never nil) for none:
// what AllGroups and GroupHosts have always returned.
func sortedNonNil[V any](m map[string]V) []string {
	return append([]string{}, slices.Sorted(maps.Keys(m))...)
}
