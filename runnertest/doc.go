// Package runnertest is a test kit for code that calls runner.Run, in the
// spirit of net/http/httptest: a fake ansible scripted in Go, which makes
// the runner see the events, stdout, artifacts and hooks of a real run,
// without ansible installed and in milliseconds; recorded real runs
// replayed byte for byte (Load); and helpers to find events and summarize
// a run (Events). A script describes a playbook run (ansible-core's linear
// strategy, the default stdout callback); other runs, ad hoc commands say,
// are best recorded once and replayed with Load. The fake is the test
// binary re-executed, so TestMain must call Main:
//
//	func TestMain(m *testing.M) { runnertest.Main(m) }
//
//	fake := runnertest.New(t, runnertest.Play("deploy", "web",
//		runnertest.Task("install", runnertest.Changed("web1"), runnertest.Failed("web2", "no space left"))))
//	cfg := runner.Config{PrivateDataDir: runnertest.PrivateDataDir(t), Target: runner.Playbook{Path: "site.yml"}}
//	fake.Apply(&cfg)
//	res, err := runner.Run(ctx, cfg)
package runnertest
