// Package eventproto is the protocol between the runner and its callback
// plugin, which changes as it is optimised and so is no API: the embedded
// Python callback plugin with the environment that selects it, and the
// Filter that finds the events the plugin frames in ansible's pty output
// (ansible-runner's token framing, with the run's key) and turns them into
// events.Event values. No file is written per event: the event JSON travels
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
//	dir, _ := eventproto.InstallPlugin(filepath.Join(artifactDir, "callback"))
//	key, _ := eventproto.NewKey() // never record it with the environment
//	env := eventproto.Env(eventproto.EnvOptions{PluginDir: dir, UserStdoutCallback: callerStdoutCallback, SideBand: true, Key: key})
//	pr, pw, _ := os.Pipe() // pw becomes descriptor 3 (eventproto.SideBandFD) of ansible: exec.Cmd.ExtraFiles
//	side := eventproto.NewSideBand(pr, 0)
//	defer side.Close()
//	f := eventproto.NewFilter(eventproto.FilterConfig{
//		RunnerIdent:      ident,
//		Handle:           func(e *events.Event) error { log.Println(e.Counter, e.Event); return nil },
//		Text:             stdoutArtifact,
//		SideBand:         side,
//		Key:              key,
//		TerminalNewlines: true, // a pty: records' text gets the "\r\n" the terminal gives the rest
//	})
//	io.Copy(f, ptyMaster) // ansible-playbook started with env under a pty
//	err := f.Close()
package eventproto
