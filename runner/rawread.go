package runner

import (
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// rawReader reads a non-blocking descriptor that Go's poller watches (a
// pipe, or the pty master after pollable) without entering the scheduler's
// syscall state. An os.File read does: each one, after the runner sat idle
// between two of ansible's events, wakes the runtime's monitor thread, which
// then polls every 20 us until all is idle again. A read that would block
// returns EAGAIN at once, so it is safe to make as a raw syscall; the wait
// for data is the poller's, as with os.File.
type rawReader struct {
	f      *os.File
	rc     syscall.RawConn
	closed atomic.Bool
}

func newRawReader(f *os.File) (*rawReader, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &rawReader{f: f, rc: rc}, nil
}

func (r *rawReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var (
		n     int
		errno syscall.Errno
	)
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			r1, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait in the poller
			}
			n, errno = int(r1), e
			return true
		}
	})
	switch {
	case err != nil && r.closed.Load():
		// As os.File says it: the RawConn's own error is internal.
		return 0, &os.PathError{Op: "read", Path: r.f.Name(), Err: os.ErrClosed}
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, &os.PathError{Op: "read", Path: r.f.Name(), Err: errno}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// Close closes the file, waking a Read that waits for data.
func (r *rawReader) Close() error {
	r.closed.Store(true)
	return r.f.Close()
}
