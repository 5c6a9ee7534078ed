package runner

import (
	"fmt"
	"path/filepath"

	"github.com/arunner/arunner/privdata"
)

// LoadResult rebuilds the Result of a finished run from its artifacts dir,
// <private data dir>/artifacts/<ident>, written by arunner or by
// ansible-runner 2.x: Status, RC, Ident, Command and Cwd, FinalCounter
// (the last event's counter), Stats, and Err, the error Run returned as far
// as the artifacts tell it (an *ExitError naming the failed and unreachable
// hosts for a failed run; ErrCanceled, ErrTimeout). Events, HostEvents,
// StdoutPath and GetFactCache read the dir as for a run that just ended.
// What only the live run knew stays zero: Started, Ended, Timeout's kind,
// FrameErrors, OutputErr, Facts; Redact hides nothing.
//
// Every event is read once here, so that a file that cannot be read or
// decoded is reported now, by name, not in the middle of a later loop. A
// dir without a status file (a run still going, or not an artifacts dir)
// gives an error matching privdata.ErrNotFinished; a status, rc, command or
// event file holding garbage gives a *privdata.FileError naming it.
func LoadResult(artifactDir string) (*Result, error) {
	art, err := privdata.OpenArtifacts(artifactDir)
	if err != nil {
		return nil, err
	}
	fin, err := art.ReadFinished()
	if err != nil {
		return nil, err
	}
	res := &Result{
		Ident:       filepath.Base(art.Dir),
		Status:      Status(fin.Status),
		RC:          fin.RC,
		ArtifactDir: art.Dir,
		Command:     fin.Command,
		Cwd:         fin.Cwd,
	}
	for ev, err := range res.Events() {
		if err != nil {
			return nil, err
		}
		res.FinalCounter = ev.Counter
		res.fails.see(ev)
	}
	switch res.Status {
	case StatusFailed:
		ansible := len(res.Command) > 0 && isAnsibleRC(res.Command[0])
		res.Err = res.fails.exitError(res.RC, 0, ansible, nil)
	case StatusCanceled:
		res.Err = &cancelError{}
	case StatusTimeout:
		res.Err = ErrTimeout
	case StatusError:
		res.Err = fmt.Errorf("the run ended with status error (rc %d)", res.RC)
	}
	return res, nil
}
