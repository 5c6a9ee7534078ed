// Package runner runs ansible-playbook, ansible and ansible-inventory the way
// ansible-runner 2.x does, for Go programs: it reads or lays out the private
// data dir, builds the command line, runs it under a pseudo-terminal in its
// own session, answers prompts, decodes the events of arunner's callback
// plugin, writes ansible-runner's artifacts and calls the caller's hooks.
//
// A run is decided before it starts: Prepare returns the Plan (command,
// environment, files, prompts) without starting or writing anything, and
// Run carries out the same plan.
//
// Runner is the only arunner package that starts processes. It holds no
// global state: any number of runs may go on in one process at once.
//
//	res, err := runner.Run(ctx, runner.Config{
//		PrivateDataDir: "/srv/jobs/42",
//		Target:         runner.Playbook{Path: "site.yml"},
//	})
//	if err != nil {
//		log.Fatal(err) // *runner.ExitError: what the rc means, the failed hosts
//	}
//	fmt.Println(res.Status, res.RC)
//
// LoadResult reads a finished run's Result back from its artifacts dir,
// arunner's or ansible-runner's.
package runner
