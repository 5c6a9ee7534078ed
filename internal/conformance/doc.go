// Package conformance is arunner's conformance suite toolkit: it runs the
// reference ansible-runner 2.x on a private data dir, reads the artifacts
// either implementation leaves (status, rc, stdout, command, job_events) and
// compares two runs of the same playbook the way the project promises they
// agree: same status and rc, same command line shape, same multiset of
// (event, host, task), the reference's field names present in ours, equal
// playbook_on_stats, and the same stdout text modulo timing, uuids and paths
// (Compare); and, value by value, the same event_data in each pair of
// events, modulo only uuids, timestamps, durations, pids and paths
// (CompareEventData).
// It imports testing and testify, and is meant for tests only.
//
//	pdd := conformance.CopyDir(t, "testdata/conformance/outcomes")
//	ref := conformance.RunReference(t, pdd, "ref", "-p", "site.yml")
//	mine := conformance.CopyDir(t, "testdata/conformance/outcomes")
//	res, _ := runner.Run(ctx, runner.Config{PrivateDataDir: mine, Ident: "ours", Target: runner.Playbook{Path: "site.yml"}})
//	conformance.Compare(t, conformance.ReadArtifacts(t, res.ArtifactDir), ref, conformance.Options{})
package conformance
