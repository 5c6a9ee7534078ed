// Command record runs a real ansible-playbook with arunner's callback plugin
// under a pty and saves the raw bytes the pty master read, so that
// bench/replay can play them back without ansible. It was run once, by hand:
//
//	go run ./bench/record -items 200 -o bench/testdata/loop200.pty
//
// bench/run.sh also times it with -o /dev/null, with and without -plugin,
// to split arunner's cost between the callback plugin, the pty and the Go
// side.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/arunner/arunner/internal/eventproto"
)

func main() {
	items := flag.Int("items", 200, "items in the looped debug task")
	out := flag.String("o", "bench/testdata/loop.pty", "file to write the raw pty bytes to")
	plugin := flag.Bool("plugin", true, "load arunner's callback plugin (false: ansible's default callback)")
	pluginDir := flag.String("plugin-dir", "", "load the callback plugin from this directory instead of the embedded one (to compare variants of it)")
	sideBand := flag.Bool("side-band", false, "give the plugin the events side band, as the runner does, and throw its records away (the recording then holds markers, which bench/replay cannot use)")
	flag.Parse()
	if err := record(*items, *out, *plugin, *pluginDir, *sideBand); err != nil {
		fmt.Fprintln(os.Stderr, "record:", err)
		os.Exit(1)
	}
}

func record(items int, out string, plugin bool, pluginDir string, sideBand bool) error {
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
	cmd := exec.Command("ansible-playbook", "-i", "localhost,", "-c", "local", pb)
	cmd.Env = os.Environ()
	if plugin {
		plugins, err := eventproto.InstallPlugin(filepath.Join(dir, "plugin"))
		if err != nil {
			return err
		}
		if pluginDir != "" {
			plugins = pluginDir
		}
		for k, v := range eventproto.Env(eventproto.EnvOptions{PluginDir: plugins}) {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		if sideBand {
			pr, pw, err := os.Pipe()
			if err != nil {
				return err
			}
			defer pr.Close()
			defer pw.Close()
			v, err := eventproto.SideBandEnvValue(pw)
			if err != nil {
				return err
			}
			cmd.Env = append(cmd.Env, eventproto.SideBandEnv+"="+v)
			cmd.ExtraFiles = []*os.File{pw} // eventproto.SideBandFD
			go io.Copy(io.Discard, pr)
		}
	}
	ptmx, err := pty.Start(cmd)
	if err != nil {
		return err
	}
	// Read the master through Go's poller, as the runner does (pty.Start
	// leaves it blocking), so that the pty rows of bench/run.sh do not pay
	// for blocking reads the runner no longer makes.
	fd, err := unix.FcntlInt(ptmx.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return err
	}
	ptmx.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		return err
	}
	ptmx = os.NewFile(uintptr(fd), "/dev/ptmx")
	defer ptmx.Close()
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
