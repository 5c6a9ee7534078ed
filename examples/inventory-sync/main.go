// Command inventory-sync is an inventory update: it runs ansible-inventory
// through runner.GetInventory on an inventory directory mixing an INI and a
// YAML file (bundled with the program, or given with -i) and prints the hosts
// and groups ansible found.
//
//	go run ./examples/inventory-sync [-i SOURCE]...
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/arunner/arunner/privdata"
	"github.com/arunner/arunner/runner"
)

//go:embed inventory
var bundled embed.FS

type sources []string

func (s *sources) String() string     { return strings.Join(*s, ",") }
func (s *sources) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var src sources
	flag.Var(&src, "i", "inventory source (repeatable; default: the bundled INI+YAML directory)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, src); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer, src []string) error {
	if len(src) == 0 {
		// The bundled files become the inventory/ of a private data dir.
		ents, err := bundled.ReadDir("inventory")
		if err != nil {
			return err
		}
		files := map[string][]byte{}
		for _, e := range ents {
			if files[e.Name()], err = bundled.ReadFile("inventory/" + e.Name()); err != nil {
				return err
			}
		}
		pdd, err := os.MkdirTemp("", "inventory-sync-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(pdd)
		d, err := privdata.Write(pdd, privdata.Layout{Inventory: privdata.Inventory{Files: files}})
		if err != nil {
			return err
		}
		src = []string{d.Inventory}
	}
	// No PrivateDataDir: the helper uses a temporary one.
	inv, _, err := runner.GetInventory(ctx, runner.Config{}, src...)
	if err != nil {
		return err // a *runner.CommandError with ansible-inventory's message
	}

	fmt.Fprintln(w, "hosts:")
	for _, name := range slices.Sorted(maps.Keys(inv.Hosts)) {
		h := inv.Hosts[name]
		addr, _ := h.Vars["ansible_host"].(string)
		port := ""
		if p, ok := h.Vars["ansible_port"]; ok {
			port = fmt.Sprintf(":%v", p)
		}
		fmt.Fprintf(w, "  %-6s %s%s groups=%v\n", name, addr, port, inv.AllGroups(name))
	}
	fmt.Fprintln(w, "groups:")
	for _, name := range slices.Sorted(maps.Keys(inv.Groups)) {
		g := inv.Groups[name]
		fmt.Fprintf(w, "  %-10s hosts=%v", name, inv.GroupHosts(name))
		if len(g.Children) > 0 {
			fmt.Fprintf(w, " children=%v", g.Children)
		}
		if len(g.Vars) > 0 {
			fmt.Fprintf(w, " vars=%v", g.Vars)
		}
		fmt.Fprintln(w)
	}
	if len(inv.Vars) > 0 {
		fmt.Fprintf(w, "vars on all: %v\n", inv.Vars)
	}
	return nil
}
