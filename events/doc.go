// Package events owns ansible-runner 2.x job events end to end: the Event
// type with its job_events JSON form, the Filter that finds the events our
// callback plugin writes in-band into ansible's pty output (ansible-runner's
// token framing, carrying the whole event rather than a file name), and the
// embedded Python callback plugin with the environment that selects it.
//
// Usage:
//
//	f := events.NewFilter(events.FilterConfig{
//		RunnerIdent: ident,
//		Handle:      func(e *events.Event) error { log.Println(e.Counter, e.Event); return nil },
//		Text:        stdoutArtifact,
//	})
//	io.Copy(f, ptyMaster)
//	err := f.Close()
package events
