// Package events owns ansible-runner 2.x job events end to end: the Event
// type with its job_events JSON form, the Filter that finds the events our
// callback plugin writes in-band into ansible's pty output (ansible-runner's
// token framing, carrying the whole event instead of a per-event file), and
// the embedded Python callback plugin with the environment that selects it.
// The plugin frames every callback hook as an event and lets the stdout
// callback the user chose (default, minimal, a collection's, or
// callback_result_format=yaml) print the human text.
//
// Usage:
//
//	dir, _ := events.InstallPlugin(filepath.Join(artifactDir, "callback"))
//	env := events.Env(events.EnvOptions{PluginDir: dir, UserStdoutCallback: callerStdoutCallback})
//	f := events.NewFilter(events.FilterConfig{
//		RunnerIdent: ident,
//		Handle:      func(e *events.Event) error { log.Println(e.Counter, e.Event); return nil },
//		Text:        stdoutArtifact,
//	})
//	io.Copy(f, ptyMaster) // ansible-playbook started with env under a pty
//	err := f.Close()
package events
