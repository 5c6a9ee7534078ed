package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/arunner/arunner/inventory"
	"github.com/arunner/arunner/runner"
)

// inventoryCommand is `arunner inventory -i SRC`: it reads the sources
// with ansible-inventory (under the runner, as runner.GetInventory does)
// and prints the typed model as JSON. A source ansible cannot parse is an
// error, not an empty inventory.
func (a *app) inventoryCommand() *cobra.Command {
	var sources []string
	var binary string
	cmd := &cobra.Command{
		Use:   "inventory -i SOURCE [-i SOURCE ...]",
		Short: "print an inventory's groups, hosts and variables as JSON",
		Long: `Reads the inventory sources (INI or YAML files, dirs, scripts, plugin
configurations such as constructed, "host1,host2," lists) with
ansible-inventory and prints them as JSON:

  {"groups": {NAME: {"hosts": [...], "children": [...], "vars": {...}}},
   "hosts": {NAME: {"vars": {...}}}}

where the group "all" holds the top-level groups and the hosts in no group.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(sources) == 0 {
				return usagef(2, "-i SOURCE is required")
			}
			a.code = a.inventoryMain(sources, binary)
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&sources, "inventory", "i", nil, "an inventory `SOURCE`; repeatable")
	cmd.Flags().StringVarP(&binary, "binary", "b", "", "the ansible-inventory `PATH` to run")
	cmd.MarkFlagFilename("inventory")
	return cmd
}

func (a *app) inventoryMain(sources []string, binary string) int {
	pdd, err := os.MkdirTemp("", "arunner-inventory-")
	if err != nil {
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	defer os.RemoveAll(pdd)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	inv, _, err := runner.GetInventory(ctx, runner.Config{
		PrivateDataDir: pdd,
		Binary:         binary,
		// A source ansible cannot read is a failure, not a warning
		// beside an empty inventory.
		EnvVars: map[string]string{"ANSIBLE_INVENTORY_UNPARSED_FAILED": "True", "ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED": "True"},
	}, sources...)
	if err != nil {
		var ce *runner.CommandError
		if errors.As(err, &ce) && ce.Message != "" {
			fmt.Fprintf(a.stderr, "arunner: inventory %q: %s\n", sources, ce.Message)
		} else {
			fmt.Fprintf(a.stderr, "arunner: inventory %q: %v\n", sources, err)
		}
		return 1
	}
	out, err := json.MarshalIndent(inventoryJSON(inv), "", "  ")
	if err != nil {
		fmt.Fprintf(a.stderr, "arunner: %v\n", err)
		return 1
	}
	fmt.Fprintf(a.stdout, "%s\n", out)
	return 0
}

type groupJSON struct {
	Hosts    []string       `json:"hosts"`
	Children []string       `json:"children"`
	Vars     map[string]any `json:"vars"`
}

type hostJSON struct {
	Vars map[string]any `json:"vars"`
}

type modelJSON struct {
	Groups map[string]groupJSON `json:"groups"`
	Hosts  map[string]hostJSON  `json:"hosts"`
}

// inventoryJSON is inv in `arunner inventory`'s shape: every group,
// `all` with the top-level groups and the hosts no group lists; lists are
// never null, vars never absent.
func inventoryJSON(inv *inventory.Inventory) modelJSON {
	m := modelJSON{Groups: map[string]groupJSON{}, Hosts: map[string]hostJSON{}}
	vars := func(v map[string]any) map[string]any {
		if v == nil {
			return map[string]any{}
		}
		return v
	}
	list := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	isChild := map[string]bool{}
	grouped := map[string]bool{}
	for _, g := range inv.Groups {
		m.Groups[g.Name] = groupJSON{Hosts: list(g.Hosts), Children: list(g.Children), Vars: vars(g.Vars)}
		for _, c := range g.Children {
			isChild[c] = true
		}
		for _, h := range g.Hosts {
			grouped[h] = true
		}
	}
	all := groupJSON{Hosts: []string{}, Children: []string{}, Vars: vars(inv.Vars)}
	for name := range inv.Groups {
		if !isChild[name] {
			all.Children = append(all.Children, name)
		}
	}
	for name, h := range inv.Hosts {
		m.Hosts[name] = hostJSON{Vars: vars(h.Vars)}
		if !grouped[name] {
			all.Hosts = append(all.Hosts, name)
		}
	}
	slices.Sort(all.Children)
	slices.Sort(all.Hosts)
	m.Groups[inventory.All] = all
	return m
}
