// Package isolation builds the command line that runs ansible inside a
// sandbox: bubblewrap for a local run, or a podman or docker container from
// an execution environment image, as ansible-runner's process_isolation
// settings ask. It is pure: settings and the run's command in, the engine's
// argv, environment and env file out; it starts nothing (package runner
// does, and stops the container through the argv Plan.Kill and Plan.Remove
// give). It reads the file system only to resolve the paths it binds.
//
//	opts := isolation.Options{Enabled: true, Image: "localhost/ee:1"}
//	plan, err := opts.Wrap(isolation.Run{Argv: argv, Dir: cwd, Env: jobEnv,
//		HostEnv: hostEnv, Name: ident, PrivateDataDir: pdd, TTY: true})
//	// plan.Argv is "podman run --rm --tty --interactive ... localhost/ee:1 ansible-playbook ..."
package isolation
