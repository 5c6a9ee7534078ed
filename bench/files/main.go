// Command files measures what the job_events rows of bench/run.sh are up
// against: how fast this machine creates job_events files when nothing
// else runs. It writes -n files of -size bytes through a
// privdata.EventWriter (the runner's own write: open relative to the held
// job_events directory, one write, close), from as many goroutines as the
// runner's event sink uses, and prints files/s and the CPU it took:
//
//	go run ./bench/files -dir /mnt/j -n 100000
//
// The default size is the mean of the job_events files that a replay of
// bench/testdata/loop200.pty leaves (1,286 bytes). Any size up to a page
// costs the same: each file takes a page of page cache.
package main

import (
	"flag"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/arunner/arunner/privdata"
)

func main() {
	dir := flag.String("dir", "", "where to create the artifacts dir (default $TMPDIR)")
	n := flag.Int("n", 100000, "files to create")
	size := flag.Int("size", 1286, "bytes per file")
	writers := flag.Int("writers", 2, "goroutines creating files (the runner's sink uses 2)")
	keep := flag.Bool("keep", false, "leave the files in place (see bench/run.sh: removing many files slows creating files on ext4 for a while)")
	flag.Parse()
	if err := run(*dir, *n, *size, *writers, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "files:", err)
		os.Exit(1)
	}
}

func run(dir string, n, size, writers int, keep bool) error {
	root, err := os.MkdirTemp(dir, "arunner-files-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(root)
	}
	art, err := privdata.NewArtifacts(root, uuid.NewString())
	if err != nil {
		return err
	}
	ew, err := art.OpenEventWriter()
	if err != nil {
		return err
	}
	defer ew.Close()
	data := make([]byte, size)
	for i := range data {
		data[i] = 'x'
	}
	// Names as the runner's: counter-uuid.json. Made before the clock
	// starts, as the runner gets them from the event.
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}

	var before, after syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &before); err != nil {
		return err
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				if err := ew.Write(i+1, ids[i], data); err != nil && errs[w] == nil {
					errs[w] = err
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &after); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	fmt.Printf("files=%d size=%d writers=%d seconds=%.3f files_per_s=%.0f cpu_s=%.2f cpu_us_per_file=%.1f\n",
		n, size, writers, elapsed.Seconds(), float64(n)/elapsed.Seconds(), cpu.Seconds(), float64(cpu.Microseconds())/float64(n))
	return nil
}
