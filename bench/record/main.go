// Command record runs a real ansible-playbook with arunner's callback plugin
// under a pty and saves the raw bytes the pty master read, so that
// bench/replay can play them back without ansible. It is run once, by hand:
//
//	go run ./bench/record -items 200 -o bench/testdata/loop200.pty
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/creack/pty"

	"github.com/arunner/arunner/events"
)

func main() {
	items := flag.Int("items", 200, "items in the looped debug task")
	out := flag.String("o", "bench/testdata/loop.pty", "file to write the raw pty bytes to")
	flag.Parse()
	if err := record(*items, *out); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func record(items int, out string) error {
	dir, err := os.MkdirTemp("", "arunner-record-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	play := fmt.Sprintf(`- hosts: localhost
  gather_facts: false
  tasks:
    - name: say hello
      debug:
        msg: "hello {{ item }}"
      loop: "{{ range(%d) | list }}"
`, items)
	pb := filepath.Join(dir, "loop.yml")
	if err := os.WriteFile(pb, []byte(play), 0o600); err != nil {
		return err
	}
	plugins, err := events.InstallPlugin(filepath.Join(dir, "plugin"))
	if err != nil {
		return err
	}
	cmd := exec.Command("ansible-playbook", "-i", "localhost,", "-c", "local", pb)
	cmd.Env = os.Environ()
	for k, v := range events.Env(events.EnvOptions{PluginDir: plugins}) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	ptmx, err := pty.Start(cmd)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	// EIO on the master is the pty's EOF.
	_, _ = io.Copy(f, ptmx)
	werr := cmd.Wait()
	if err := f.Close(); err != nil {
		return err
	}
	return werr
}
