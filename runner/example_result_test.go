package runner_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/arunner/arunner/runner"
)

// testdata/ansible-runner-artifacts is what ansible-runner 2.3.1 left after
// `ansible-runner run pdd -p site.yml --ident ref` on two local hosts, h1
// ok and h2 failing: its job_events, status, rc, stdout, fact_cache and
// command (environment trimmed).
const referenceArtifacts = "testdata/ansible-runner-artifacts"

// ansible-runner's artifacts read as a Result; its error tells the story.
func ExampleLoadResult_ansibleRunner() {
	res, err := runner.LoadResult(referenceArtifacts)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status, res.RC, res.FinalCounter, res.Command)
	fmt.Println(res.Err)
	// Output:
	// failed 2 16 [ansible-playbook -i /tmp/h8ar/pdd/inventory site.yml]
	// ansible exited with rc 2 (status failed): one or more hosts failed; failed: h2; last failure: h2, task "fail on h2": h2 is broken
}

func ExampleResult_Stats() {
	res, err := runner.LoadResult(referenceArtifacts)
	if err != nil {
		log.Fatal(err)
	}
	s := res.Stats() // never nil; empty for a run without a recap
	fmt.Println("ok:", s.OK, "failures:", s.Failures, "processed:", s.Processed)
	// Output:
	// ok: map[h1:2 h2:1] failures: map[h2:1] processed: map[h1:1 h2:1]
}

func ExampleResult_Events() {
	res, err := runner.LoadResult(referenceArtifacts)
	if err != nil {
		log.Fatal(err)
	}
	for ev, err := range res.Events() {
		if err != nil {
			log.Fatal(err) // a *privdata.FileError names the event file
		}
		if ev.Failed() {
			fmt.Printf("%d %s %s %q\n", ev.Counter, ev.Event, ev.Host(), ev.Task())
		}
	}
	// Output:
	// 12 runner_on_failed h2 "fail on h2"
}

func ExampleResult_HostEvents() {
	res, err := runner.LoadResult(referenceArtifacts)
	if err != nil {
		log.Fatal(err)
	}
	for ev, err := range res.HostEvents("h1") {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.Counter, ev.Event, ev.Task())
	}
	// Output:
	// 4 runner_on_start say hi
	// 6 runner_on_ok say hi
	// 9 runner_on_start fail on h2
	// 11 runner_on_skipped fail on h2
	// 14 runner_on_start remember
	// 15 runner_on_ok remember
}

func ExampleResult_GetFactCache() {
	res, err := runner.LoadResult(referenceArtifacts)
	if err != nil {
		log.Fatal(err)
	}
	facts, err := res.GetFactCache("h1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(facts["color"])
	// Output:
	// blue
}

// Redact hides the run's secrets (here a prompt's answer) in ansible's
// text before it goes into a log line.
func ExampleResult_Redact() {
	pdd, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(pdd)

	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.RawCommand{Argv: []string{"sh", "-c", `printf 'Password: '; read p; echo "got $p"`}},
		Passwords:      []runner.Password{{Pattern: "Password:", Response: "s3cret"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	stdout, _ := os.ReadFile(res.StdoutPath())
	fmt.Printf("%q\n", res.Redact(string(stdout)))
	// Output:
	// "Password: got **********\r\n"
}
