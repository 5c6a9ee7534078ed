package runner

import (
	"cmp"
	"path/filepath"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/internal/lazyio"
)

// failEarly ends a run that failed before ansible started with what
// ansible-runner leaves when ansible-playbook itself reports such an error:
// the message as the stdout artifact and as one verbose event (handed to
// the EventHandler, written to job_events/, printed to Output, or printed
// as JSON with JSONOutput), the command artifact when withCommand (a
// missing playbook: prepare built the command), then status and rc 1. A
// consumer that shows a job from its events thus shows why it failed.
func (r *run) failEarly(res *Result, stdout *lazyio.Writer, status Status, msg string, err error, withCommand bool) (*Result, error) {
	res.redactor = credentials.NewRedactor(r.secrets...)
	if withCommand && r.cmd.Argv != nil {
		res.Command, res.Cwd = res.redactor.Strings(r.cmd.Argv), r.cmd.Dir
		if werr := r.art.WriteCommand(res.Command, r.cmd.Dir, r.safeEnv()); werr != nil {
			res.ArtifactErr = artifactError(filepath.Join(r.art.Dir, "command"), werr)
		}
	}
	r.sink = newEventSink(r.art)
	filter := eventproto.NewFilter(eventproto.FilterConfig{
		RunnerIdent: r.ident,
		Text:        r.textWriter(stdout),
		Handle:      func(ev *events.Event) error { r.onEvent(res, ev); return nil },
	})
	// One line, so one event: the message never holds a newline of its own
	// (ansible-runner's splitlines would make several).
	filter.Write([]byte(res.redactor.String(oneLine(msg)) + "\n"))
	filter.Close()
	res.FinalCounter = filter.Counter()
	flushErr := stdout.Flush()
	res.ArtifactErr = cmp.Or(res.ArtifactErr,
		artifactError(filepath.Join(r.art.Dir, "stdout"), flushErr),
		artifactError(r.art.JobEventsDir(), r.sink.close()))
	if p := r.hookPanic.Load(); p != nil {
		status, err = StatusError, p // the EventHandler panicked on the message
	}
	return r.finish(res, status, 1, err)
}

// oneLine puts msg on one line.
func oneLine(msg string) string {
	b := []byte(msg)
	for i, c := range b {
		switch c {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e:
			b[i] = ' '
		}
	}
	return string(b)
}
