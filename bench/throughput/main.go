// Command throughput runs runner.Run once against bench/replay, a fake
// ansible-playbook replaying a recorded stream, and prints one line: events
// delivered, seconds, events per second and this process's peak RSS
// (getrusage RUSAGE_SELF maxrss, the runner's own memory, not the child's).
//
//	throughput -replay /tmp/replay -stream bench/testdata/loop200.pty -events 100000 -job-events
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
	"github.com/arunner/arunner/runner"
)

func main() {
	replay := flag.String("replay", "", "path to the built bench/replay binary")
	stream := flag.String("stream", "bench/testdata/loop200.pty", "recorded pty stream")
	n := flag.Int("events", 100000, "events to replay (rounded up to whole copies of the stream)")
	jobEvents := flag.Bool("job-events", false, "write job_events files (EventHandler returns true)")
	dir := flag.String("dir", "", "where to create the private data dir (default $TMPDIR)")
	noPTY := flag.Bool("nopty", false, "run the fake without a pty (Config.NoPTY: a pipe), to measure the decoder without the pty's 4 KiB reads")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the run here")
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
	if err := run(*replay, *stream, *n, *jobEvents, *noPTY, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "throughput:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(replay, stream string, n int, jobEvents, noPTY bool, dir string) error {
	if replay == "" {
		return fmt.Errorf("-replay is required")
	}
	stream, err := filepath.Abs(stream)
	if err != nil {
		return err
	}
	pdd, err := os.MkdirTemp(dir, "arunner-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(pdd)
	for _, d := range []string{"project", "inventory"} {
		if err := os.Mkdir(filepath.Join(pdd, d), 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(pdd, "project", "site.yml"), []byte("- hosts: all\n  tasks: []\n"), 0o600); err != nil {
		return err
	}
	seen := 0
	start := time.Now()
	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Playbook:       "site.yml",
		Binary:         replay,
		NoPTY:          noPTY,
		EnvVars:        map[string]string{"REPLAY_STREAM": stream, "REPLAY_EVENTS": fmt.Sprint(n)},
		EventHandler: func(*events.Event) bool {
			seen++
			return jobEvents
		},
	})
	elapsed := time.Since(start)
	if err != nil {
		return err
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
	if seen != res.FinalCounter || seen < n {
		return fmt.Errorf("handler saw %d events, final counter %d, want >= %d", seen, res.FinalCounter, n)
	}
	if jobEvents {
		files, err := countFiles(filepath.Join(res.ArtifactDir, "job_events"))
		if err != nil {
			return err
		}
		if files != seen {
			return fmt.Errorf("%d job_events files for %d events", files, seen)
		}
	}
	mode, via := "off", "pty"
	if jobEvents {
		mode = "on"
	}
	if noPTY {
		via = "pipe"
	}
	// Maxrss is in KiB on Linux.
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("via=%s job_events=%s events=%d seconds=%.3f events_per_s=%.0f runner_cpu_s=%.2f maxrss_mib=%.1f\n",
		via, mode, seen, elapsed.Seconds(), float64(seen)/elapsed.Seconds(), cpu.Seconds(), float64(ru.Maxrss)/1024)
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
