package report_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/arunner/arunner/report"
	"github.com/arunner/arunner/runner"
)

// The report of a run that just ended, written next to its artifacts.
func ExampleWrite() {
	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: "/srv/jobs/42",
		Target:         runner.Playbook{Path: "site.yml"},
	})
	if res == nil {
		log.Fatal(err) // the run did not start
	}
	f, err := os.Create("/srv/jobs/42/run.html")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := report.Write(f, res); err != nil {
		log.Fatal(err)
	}
}

// The report of a finished run's artifacts dir, here one that the
// reference ansible-runner left. Every bar of the timeline carries its
// host, task and outcome as data attributes.
func ExampleWriteDir() {
	var page strings.Builder
	if err := report.WriteDir(&page, "testdata/ansible-runner"); err != nil {
		log.Fatal(err)
	}
	html := page.String()
	fmt.Println("bars:", strings.Count(html, `<div class="bar `))
	fmt.Println(strings.Contains(html, `data-host="h2" data-task="fail on h2" data-outcome="failed"`))
	// Output:
	// bars: 5
	// true
}
