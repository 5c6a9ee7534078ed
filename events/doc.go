// Package events owns ansible-runner 2.x job events end to end: the Event
// type with its job_events JSON form, the Filter that finds the events our
// callback plugin frames in ansible's pty output (ansible-runner's token
// framing), and the embedded Python callback plugin with the environment
// that selects it. No file is written per event: the event JSON travels
// either in-band, inside the tokens, or on a side band (SideBand), a pipe
// beside the terminal, with only a small marker token on the terminal (and
// usually the event's text in the record too).
// The plugin frames every callback hook as an event and lets the stdout
// callback the user chose (default, minimal, a collection's, or
// callback_result_format=yaml) print the human text.
//
// Every token carries the run's key (NewKey) in front of its base64: the
// plugin gets it through the environment and removes it from there before
// any task runs, so framing a task prints is text to the Filter, not an
// event.
//
// Usage, with the side band:
//
//	dir, _ := events.InstallPlugin(filepath.Join(artifactDir, "callback"))
//	key, _ := events.NewKey() // never record it with the environment
//	env := events.Env(events.EnvOptions{PluginDir: dir, UserStdoutCallback: callerStdoutCallback, SideBand: true, Key: key})
//	pr, pw, _ := os.Pipe() // pw becomes descriptor 3 (events.SideBandFD) of ansible: exec.Cmd.ExtraFiles
//	side := events.NewSideBand(pr, 0)
//	defer side.Close()
//	f := events.NewFilter(events.FilterConfig{
//		RunnerIdent:      ident,
//		Handle:           func(e *events.Event) error { log.Println(e.Counter, e.Event); return nil },
//		Text:             stdoutArtifact,
//		SideBand:         side,
//		Key:              key,
//		TerminalNewlines: true, // a pty: records' text gets the "\r\n" the terminal gives the rest
//	})
//	io.Copy(f, ptyMaster) // ansible-playbook started with env under a pty
//	err := f.Close()
package events
