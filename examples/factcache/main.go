// Command factcache persists ansible facts between two ansible-playbook runs
// with a factcache.DirStore: run 1 gathers facts and sets a cacheable fact, run 2
// skips fact gathering and still sees both, read back from the store.
//
//	go run ./examples/factcache [-store DIR]
//
// It execs ansible-playbook directly with factcache.Env; inside arunner,
// runner.Run does the Restore, Env and Collect steps itself.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"github.com/arunner/arunner/factcache"
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
	work, err := os.MkdirTemp("", "factcache-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if storeDir == "" {
		storeDir = filepath.Join(work, "store")
	}
	store, err := factcache.NewDirStore(storeDir)
	if err != nil {
		return err
	}
	for name, content := range map[string]string{"hosts": inventory, "gather.yml": gather, "use.yml": use} {
		if err := os.WriteFile(filepath.Join(work, name), []byte(content), 0o600); err != nil {
			return err
		}
	}
	for i, playbook := range []string{"gather.yml", "use.yml"} {
		// A fresh artifacts directory per run, as a new ident would get.
		dir := filepath.Join(work, "pdd", "artifacts", fmt.Sprint(i+1), "fact_cache")
		snap, err := factcache.Restore(ctx, store, dir, factcache.Options{})
		if err != nil {
			return err
		}
		cmd := exec.CommandContext(ctx, "ansible-playbook", "-i", filepath.Join(work, "hosts"), filepath.Join(work, playbook))
		cmd.Env = os.Environ()
		for k, v := range factcache.Env(dir, factcache.Options{}) {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("run %d (%s): %w", i+1, playbook, err)
		}
		report, err := snap.Collect(ctx, store)
		if err != nil {
			return err
		}
		hosts := make([]string, 0, len(report.Hosts))
		for h := range report.Hosts {
			hosts = append(hosts, h)
		}
		sort.Strings(hosts)
		for _, h := range hosts {
			fmt.Printf("run %d: %s facts %s\n", i+1, h, report.Hosts[h])
		}
	}
	return nil
}
