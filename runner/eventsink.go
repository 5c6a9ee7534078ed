package runner

import "github.com/arunner/arunner/privdata"

// eventSink persists job_events files. The reader goroutine hands it each
// kept event in order; close returns once everything handed over is on disk
// (or failed), and the first error. close is called before the final status,
// so FinishedCallback sees every file.
type eventSink interface {
	write(counter int, uuid string, data []byte)
	close() error
}

// syncSink writes each event as it comes.
type syncSink struct {
	art *privdata.Artifacts
	err error
}

func newEventSink(art *privdata.Artifacts) eventSink { return &syncSink{art: art} }

func (s *syncSink) write(counter int, uuid string, data []byte) {
	if err := s.art.WriteEvent(counter, uuid, data); err != nil && s.err == nil {
		s.err = err
	}
}

func (s *syncSink) close() error { return s.err }
