// Package privdata reads and writes ansible-runner's private data dir (PDD)
// and its artifacts dir, byte compatible with ansible-runner 2.x: Load parses
// env/{envvars,extravars,passwords,cmdline,settings,ssh_key} (JSON or YAML,
// named pipes included, each at most MaxFileSize; LoadContext bounds the
// wait for a pipe's writer) into a typed Dir, Write lays a PDD out the way AWX
// does (0700 directories, 0600 secret files), and Artifacts writes
// artifacts/<ident>/{command,status,rc,stdout,stderr,job_events/}, which
// OpenArtifacts reads back from a finished run (ReadFinished). Nothing
// else in arunner builds those paths by hand. Unlike the reference, a
// malformed env file is an error (a *FileError naming the file and line),
// and errors never quote the content of a secret file.
//
// Usage:
//
//	d, err := privdata.Load("/srv/pdd")
//	if err != nil {
//		return err // *privdata.FileError names the file and line
//	}
//	a, err := privdata.NewArtifacts(filepath.Join(d.Path, "artifacts"), "run1")
//	_ = a.WriteStatus("successful")
package privdata
