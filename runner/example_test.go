package runner_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

// A playbook run from an ansible-runner private data dir, as `arunner run
// /srv/jobs/42 -p site.yml` does.
func ExampleRun_playbook() {
	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: "/srv/jobs/42",
		Target: runner.Playbook{
			Path:     "site.yml",
			Switches: runner.Switches{Limit: "web"},
		},
		ExtraVars: map[string]any{"release": "2.4.1"}, // written to a 0600 file, never argv
		Output:    os.Stdout,
		EventHandler: func(ev *events.Event) bool {
			if ev.Failed() {
				log.Printf("%s failed on %s", ev.Task(), ev.Host())
			}
			return true
		},
	})
	if err != nil {
		log.Fatal(err) // *runner.ExitError for a failed playbook
	}
	fmt.Println(res.Status, res.Stats().OK)
}

// Any command runs under the same lifecycle; here a shell stands in for
// ansible so that the example runs anywhere.
func ExampleRun() {
	pdd, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(pdd)

	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Ident:          "hello",
		Target:         runner.RawCommand{Argv: []string{"sh", "-c", "echo hello from the pty"}},
		StatusHandler:  func(u runner.StatusUpdate) { fmt.Println("status:", u.Status) },
	})
	if err != nil {
		log.Fatal(err)
	}
	stdout, _ := os.ReadFile(res.StdoutPath())
	fmt.Printf("rc %d, stdout %q\n", res.RC, stdout)
	// Not a playbook, so no recap: empty stats, never nil.
	fmt.Println("hosts recapped:", len(res.Stats().Processed))
	// Output:
	// status: starting
	// status: running
	// status: successful
	// rc 0, stdout "hello from the pty\r\n"
	// hosts recapped: 0
}

// Start runs in the background; Cancel sends SIGINT to the whole process
// group, then SIGKILL after CancelGrace.
func ExampleStart() {
	pdd, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(pdd)

	job, err := runner.Start(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.RawCommand{Argv: []string{"sleep", "600"}},
		CancelGrace:    time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	for job.Status() != runner.StatusRunning {
		time.Sleep(10 * time.Millisecond)
	}
	job.Cancel()
	res, err := job.Wait()
	fmt.Println(res.Status, res.RC, err)
	// Output:
	// canceled 254 run canceled
}

// Stream yields events as they happen; lines outside any callback event
// become "verbose" events, as in ansible-runner. Once the loop has ended,
// result gives the run's Result.
func ExampleStream() {
	pdd, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(pdd)

	cfg := runner.Config{PrivateDataDir: pdd, Target: runner.RawCommand{Argv: []string{"sh", "-c", "echo one; echo two; exit 3"}}}
	evs, result := runner.Stream(context.Background(), cfg)
	for ev, err := range evs {
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(ev.Counter, ev.Event, strings.TrimSpace(ev.Stdout))
	}
	res := result()
	fmt.Println(res.Status, res.RC, res.FinalCounter)
	// Output:
	// 1 verbose one
	// 2 verbose two
	// error: ansible exited with rc 3 (status failed)
	// failed 3 2
}

// LoadResult reads a finished run back from its artifacts dir, one that
// arunner or ansible-runner wrote: status, rc, stats, events, facts, and
// the error the run ended with.
func ExampleLoadResult() {
	pdd, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(pdd)
	runner.Run(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Ident:          "job42",
		Target:         runner.RawCommand{Argv: []string{"sh", "-c", "echo deploying; exit 3"}},
	})

	res, err := runner.LoadResult(filepath.Join(pdd, "artifacts", "job42"))
	if err != nil {
		log.Fatal(err) // a *privdata.FileError names the file at fault
	}
	fmt.Println(res.Ident, res.Status, res.RC, res.Command)
	for ev, err := range res.Events() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.Counter, ev.Event, strings.TrimSpace(ev.Stdout))
	}
	fmt.Println("hosts recapped:", len(res.Stats().Processed))
	fmt.Println(res.Err)
	// Output:
	// job42 failed 3 [sh -c echo deploying; exit 3]
	// 1 verbose deploying
	// hosts recapped: 0
	// ansible exited with rc 3 (status failed)
}

// A failed run's error is an *ExitError: ansible's rc, and the signal when
// something outside the runner killed ansible (rc is then 128+signal, as
// ansible-runner reports it).
func ExampleExitError() {
	pdd, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(pdd)

	for _, script := range []string{"exit 2", "kill -TERM $$"} {
		_, err := runner.Run(context.Background(), runner.Config{PrivateDataDir: pdd, Target: runner.RawCommand{Argv: []string{"sh", "-c", script}}})
		var exit *runner.ExitError
		if errors.As(err, &exit) {
			fmt.Printf("rc %d, signal %d: %v\n", exit.RC, exit.Signal, err)
		}
	}
	// Output:
	// rc 2, signal 0: ansible exited with rc 2 (status failed)
	// rc 143, signal 15: ansible was killed by signal 15 (terminated), rc 143 (status failed)
}

// A failed playbook's *ExitError says what its rc means, which hosts failed
// or could not be reached, and the last failure, e.g.
//
//	ansible exited with rc 2 (status failed): one or more hosts failed; failed: web2; last failure: web2, task "install nginx": No package matching 'ngix' is available
func ExampleExitError_hosts() {
	_, err := runner.Run(context.Background(), runner.Config{PrivateDataDir: "/srv/jobs/42", Target: runner.Playbook{Path: "site.yml"}})
	var exit *runner.ExitError
	if errors.As(err, &exit) {
		log.Print(err) // the whole story on one line
		for _, h := range exit.Unreachable {
			log.Printf("check the network to %s", h)
		}
		if f := exit.LastFailure; f != nil {
			log.Printf("%s failed at %q: %s", f.Host, f.Task, f.Msg)
		}
	}
}

// A hook that panics does not leave ansible running or credentials on
// disk: the run is stopped and cleaned up first, then the panic comes out
// of Run on the caller's goroutine as a *HookPanic, which a caller may
// recover.
func ExampleHookPanic() {
	pdd, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(pdd)

	defer func() {
		p := recover().(*runner.HookPanic)
		fmt.Printf("%s panicked with %q\n", p.Hook, p.Value)
	}()
	runner.Run(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.RawCommand{Argv: []string{"sh", "-c", "echo one; sleep 600"}},
		EventHandler:   func(*events.Event) bool { panic("a bug in the handler") },
	})
	// Output:
	// EventHandler panicked with "a bug in the handler"
}

// Events that come within 20 ms of each other reach the EventHandler
// together, which spares ansible and the runner a write and a wake-up per
// event in long loops. A caller that wants each event the moment ansible
// has it turns the window off (or sets another).
func ExampleConfig_eventWindow() {
	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: "/srv/jobs/42",
		Target:         runner.Playbook{Path: "site.yml"},
		EventWindow:    -1, // each event at once
		EventHandler: func(ev *events.Event) bool {
			fmt.Println(time.Now().Format(time.StampMilli), ev.Event, ev.Host())
			return true
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status)
}

// A run whose artifacts could not all be written (here the disk filled up)
// ends with status error, whatever ansible did: its error names the file
// and the errno, and Result.RC is still ansible's.
func ExampleArtifactError() {
	res, err := runner.Run(context.Background(), runner.Config{PrivateDataDir: "/srv/jobs/42", Target: runner.Playbook{Path: "site.yml"}})
	var lost *runner.ArtifactError
	if errors.As(err, &lost) {
		log.Printf("ansible's rc %d, but %s was not kept: %v", res.RC, lost.Path, lost.Err)
		if errors.Is(err, syscall.ENOSPC) {
			log.Print("the disk is full")
		}
	}
}

// brokenWriter is an Output that fails, as a closed connection does.
type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("connection reset") }

// An Output that fails, or blocks, does not hold up or fail the run: it
// gets nothing more, the run and its artifacts go on, and Result.OutputErr
// tells what Output missed.
func ExampleOutputError() {
	pdd, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(pdd)

	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.RawCommand{Argv: []string{"sh", "-c", "echo hello; echo world"}},
		Output:         brokenWriter{},
	})
	stdout, _ := os.ReadFile(res.StdoutPath())
	fmt.Printf("%s, err %v, stdout %q\n", res.Status, err, stdout)
	var oe *runner.OutputError
	if errors.As(res.OutputErr, &oe) {
		fmt.Printf("Output missed %d bytes: %v\n", oe.Lost, oe.Err)
	}
	// Output:
	// successful, err <nil>, stdout "hello\r\nworld\r\n"
	// Output missed 14 bytes: connection reset
}
