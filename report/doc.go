// Package report turns a finished run's artifacts into one self-contained
// HTML page people look at: a timeline of tasks per host (a bar per task on
// a host, placed by its start and end, coloured by its outcome), the
// slowest tasks, the failures with their messages, the recap table and
// ansible's output with its colours. It reads only the artifacts dir
// (job_events, stdout, status, rc), so ansible-runner 2.x's runs render as
// arunner's do. The page loads nothing from the network and runs no script;
// every text from the run is escaped. A run of thousands of tasks, items or
// hosts still gives a page of a few megabytes: loop items are counted on
// their task's bar, and the timeline's hosts, its bars per host, the
// failures listed and the output shown are bounded (the page says so when
// it leaves something out).
//
// Usage:
//
//	f, err := os.Create("run.html")
//	...
//	err = report.WriteDir(f, "/srv/jobs/42/artifacts/deploy")
//	// or, after runner.Run: report.Write(f, res)
package report
