// Command throughput runs runner.Run once against bench/replay, a fake
// ansible-playbook replaying a recorded stream, and prints one line: events
// delivered, seconds, events per second, this process's CPU, peak RSS and
// context switches (getrusage RUSAGE_SELF: the runner's own), and the CPU
// of the child's whole process tree (RUSAGE_CHILDREN, as ansible_cpu_s:
// the replaying fake's here).
//
//	throughput -replay /tmp/replay -stream bench/testdata/loop200.pty -events 100000 -job-events
//
// With -items N it runs real ansible-playbook instead: one debug task
// looping over N items on localhost, so that the runner's share of a real
// run is measured apart from ansible's.
//
//	throughput -items 5000 -job-events
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/runner"
)

func main() {
	replay := flag.String("replay", "", "path to the built bench/replay binary")
	stream := flag.String("stream", "bench/testdata/loop200.pty", "recorded pty stream")
	n := flag.Int("events", 100000, "events to replay (rounded up to whole copies of the stream)")
	jobEvents := flag.Bool("job-events", false, "write job_events files (EventHandler returns true)")
	dir := flag.String("dir", "", "where to create the private data dir (default $TMPDIR)")
	noPTY := flag.Bool("nopty", false, "run the fake without a pty (Config.NoPTY: pipes), to measure the runner without the pty's 4 KiB reads")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run here")
	items := flag.Int("items", 0, "run real ansible-playbook looping a debug task over this many items instead of -replay")
	inBand := flag.Bool("in-band", false, "take the events side band away (as a Wrap that cannot pass descriptor 3 does): event JSON travels on the terminal")
	keep := flag.Bool("keep", false, "leave the private data dir in place (bench/run.sh removes it later: on ext4, creating files soon after removing many in the same block group costs a scan past each freed inode)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "throughput:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	b := bench{replay: *replay, stream: *stream, events: *n, items: *items, jobEvents: *jobEvents, noPTY: *noPTY, dir: *dir, keep: *keep, inBand: *inBand}
	if err := b.run(); err != nil {
		fmt.Fprintln(os.Stderr, "throughput:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

type bench struct {
	replay, stream   string
	events, items    int
	jobEvents, noPTY bool
	dir              string
	keep, inBand     bool
}

// config returns the run's Config for pdd, writing its playbook and
// inventory.
func (b *bench) config(pdd string) (runner.Config, error) {
	for _, d := range []string{"project", "inventory"} {
		if err := os.Mkdir(filepath.Join(pdd, d), 0o700); err != nil {
			return runner.Config{}, err
		}
	}
	if b.items > 0 {
		play := fmt.Sprintf("- hosts: all\n  gather_facts: false\n  tasks:\n    - name: loop over items\n"+
			"      debug:\n        msg: \"item {{ item }}\"\n      loop: \"{{ range(%d) | list }}\"\n", b.items)
		inv := "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
		if err := os.WriteFile(filepath.Join(pdd, "project", "loop.yml"), []byte(play), 0o600); err != nil {
			return runner.Config{}, err
		}
		if err := os.WriteFile(filepath.Join(pdd, "inventory", "hosts"), []byte(inv), 0o600); err != nil {
			return runner.Config{}, err
		}
		return runner.Config{PrivateDataDir: pdd, Target: runner.Playbook{Path: "loop.yml"}, NoPTY: b.noPTY}, nil
	}
	if b.replay == "" {
		return runner.Config{}, fmt.Errorf("-replay or -items is required")
	}
	stream, err := filepath.Abs(b.stream)
	if err != nil {
		return runner.Config{}, err
	}
	if err := os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte("- hosts: all\n  tasks: []\n"), 0o600); err != nil {
		return runner.Config{}, err
	}
	return runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.Playbook{Path: "site.yml"},
		Binary:         b.replay,
		NoPTY:          b.noPTY,
		EnvVars:        map[string]string{"REPLAY_STREAM": stream, "REPLAY_EVENTS": fmt.Sprint(b.events)},
	}, nil
}

func (b *bench) run() error {
	pdd, err := os.MkdirTemp(b.dir, "arunner-bench-")
	if err != nil {
		return err
	}
	if !b.keep {
		defer os.RemoveAll(pdd)
	}
	cfg, err := b.config(pdd)
	if err != nil {
		return err
	}
	if b.inBand {
		cfg.Wrap = func(c *runner.Command) error {
			delete(c.Env, eventproto.SideBandEnv)
			return nil
		}
	}
	seen := 0
	cfg.EventHandler = func(*events.Event) bool {
		seen++
		return b.jobEvents
	}
	start := time.Now()
	res, err := runner.Run(context.Background(), cfg)
	elapsed := time.Since(start)
	if err != nil {
		return err
	}
	if res.Status != runner.StatusSuccessful {
		return fmt.Errorf("run ended %s (rc %d)", res.Status, res.RC)
	}
	// Before the checks below: listing a million files costs memory of
	// its own.
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	if res.ArtifactErr != nil {
		return res.ArtifactErr
	}
	want := b.events
	if b.items > 0 {
		want = b.items
	}
	if seen != res.FinalCounter || seen < want {
		return fmt.Errorf("handler saw %d events, final counter %d, want >= %d", seen, res.FinalCounter, want)
	}
	if b.jobEvents {
		files, err := countFiles(filepath.Join(res.ArtifactDir, "job_events"))
		if err != nil {
			return err
		}
		if files != seen {
			return fmt.Errorf("%d job_events files for %d events", files, seen)
		}
	}
	mode, via := "off", "pty"
	if b.jobEvents {
		mode = "on"
	}
	if b.noPTY {
		via = "pipe"
	}
	if b.inBand {
		via += "-in-band"
	}
	// Maxrss is in KiB on Linux.
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	// Context switches are steadier than CPU time on a noisy machine, and
	// on a virtual machine they are most of what a waiting runner costs.
	line := fmt.Sprintf("via=%s job_events=%s events=%d seconds=%.3f events_per_s=%.0f runner_cpu_s=%.2f maxrss_mib=%.1f runner_csw=%d",
		via, mode, seen, elapsed.Seconds(), float64(seen)/elapsed.Seconds(), cpu.Seconds(), float64(ru.Maxrss)/1024, ru.Nvcsw+ru.Nivcsw)
	{ // the child's CPU: ansible's tree, or the replaying fake
		var ch syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ch); err != nil {
			return err
		}
		line += fmt.Sprintf(" ansible_cpu_s=%.2f", time.Duration(ch.Utime.Nano()+ch.Stime.Nano()).Seconds())
	}
	fmt.Println(line)
	return nil
}

// countFiles counts dir's entries a batch at a time.
func countFiles(dir string) (int, error) {
	f, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	for {
		names, err := f.Readdirnames(4096)
		n += len(names)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
