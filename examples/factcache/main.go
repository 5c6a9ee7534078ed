// Command factcache persists ansible facts between two arunner runs with a
// factcache.DirStore: run 1 gathers facts and sets a cacheable fact, run 2
// skips fact gathering and still sees both, restored from the store.
//
//	go run ./examples/factcache [-store DIR]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"

	"github.com/arunner/arunner/factcache"
	"github.com/arunner/arunner/privdata"
	"github.com/arunner/arunner/runner"
)

const inventory = `web1 ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"
`

const gather = `- hosts: all
  gather_facts: true
  gather_subset: [min]
  tasks:
    - set_fact:
        deployed_by: factcache-example
        cacheable: true
`

const use = `- hosts: all
  gather_facts: false
  tasks:
    - debug:
        msg: "{{ inventory_hostname }} runs {{ ansible_facts.system }}, deployed by {{ deployed_by }}"
`

func main() {
	storeDir := flag.String("store", "", "fact store directory (default: a temporary one)")
	flag.Parse()
	if err := run(context.Background(), *storeDir); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, storeDir string) error {
	pdd, err := os.MkdirTemp("", "factcache-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(pdd)
	if storeDir == "" {
		storeDir = filepath.Join(pdd, "store")
	}
	store, err := factcache.NewDirStore(storeDir)
	if err != nil {
		return err
	}
	if _, err := privdata.Write(pdd, privdata.Layout{
		Inventory:    privdata.Inventory{Content: inventory},
		ProjectFiles: map[string][]byte{"gather.yml": []byte(gather), "use.yml": []byte(use)},
	}); err != nil {
		return err
	}
	for i, playbook := range []string{"gather.yml", "use.yml"} {
		// Each run gets a fresh artifacts dir: the facts come from the store.
		res, err := runner.Run(ctx, runner.Config{
			PrivateDataDir: pdd,
			Target:         runner.Playbook{Path: playbook},
			Output:         os.Stdout,
			FactCache:      &runner.FactCache{Store: store},
		})
		if err != nil {
			return fmt.Errorf("run %d (%s): %w", i+1, playbook, err)
		}
		if res.FactsErr != nil {
			return res.FactsErr
		}
		hosts := make([]string, 0, len(res.Facts.Hosts))
		for h := range res.Facts.Hosts {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		for _, h := range hosts {
			fmt.Printf("run %d: %s facts %s\n", i+1, h, res.Facts.Hosts[h])
		}
	}
	return nil
}
