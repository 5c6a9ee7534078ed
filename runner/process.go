package runner

import (
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/internal/osdep"
)

// proc is ansible running in a session of its own, its output read from
// ptmx: the pty master, or a pipe in NoPTY mode. out reads ptmx.
type proc struct {
	cmd  *exec.Cmd
	ptmx *os.File
	out  *rawReader
	pgid int
}

// newProc returns the proc for a started cmd whose output f carries (the
// pty master or the pipe), read through the poller; on failure it closes f
// and kills cmd's group.
func newProc(cmd *exec.Cmd, f *os.File) (*proc, error) {
	ptmx, err := pollable(f)
	if err == nil {
		var out *rawReader
		if out, err = newRawReader(ptmx); err == nil {
			return &proc{cmd: cmd, ptmx: ptmx, out: out, pgid: cmd.Process.Pid}, nil
		}
		f = ptmx
	}
	f.Close()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
	return nil, err
}

// startProc starts argv under a new pty. The child leads a new session, so
// its process group holds the whole tree and signals to -pgid reach it all.
// The pty does not echo, so answers to prompts never reach the output, and it
// is 80x24 as pexpect's, so ansible's banners are as wide as the reference's.
//
// side, when not nil, is the write end of the events side band: the child
// gets it as descriptor 3.
func startProc(c Command, noPTY bool, stderr, side *os.File) (*proc, error) {
	if noPTY {
		return startPiped(c, stderr, side)
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, err
	}
	defer tty.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		ptmx.Close()
		return nil, err
	}
	if err := noEcho(tty); err != nil {
		ptmx.Close()
		return nil, err
	}
	cmd, err := command(c, side)
	if err != nil {
		ptmx.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr.Setctty = true
	if err := cmd.Start(); err != nil {
		ptmx.Close()
		return nil, err
	}
	return newProc(cmd, ptmx)
}

// pollable returns f's descriptor as a non-blocking *os.File that Go's
// network poller waits on, and closes f (on success only). The pty package
// leaves the master blocking (every Fd call does), so each read would park
// a thread in the kernel: the scheduler then takes the thread's P away and
// wakes another thread, and its monitor thread polls every 20 us while any
// thread sits in a syscall, which on a virtual machine cost more CPU than
// the events did. A blocking read is also not interrupted by Close.
func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	name := f.Name()
	f.Close()
	return os.NewFile(uintptr(fd), name), nil
}

// startPiped starts c with stdout on a pipe the runner reads as it would the
// pty, stderr straight into the stderr artifact and stdin from /dev/null.
func startPiped(c Command, stderr, side *os.File) (*proc, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer pw.Close()
	cmd, err := command(c, side)
	if err != nil {
		pr.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = pw, stderr
	if err := cmd.Start(); err != nil {
		pr.Close()
		return nil, err
	}
	return newProc(cmd, pr)
}

// command is the exec.Cmd both modes share: the PATH lookup in the child's
// environment, and a session of its own so that -pgid reaches its tree.
func command(c Command, side *os.File) (*exec.Cmd, error) {
	env := c.Env
	if side != nil {
		// The plugin checks that descriptor 3 is this very pipe.
		v, err := eventproto.SideBandEnvValue(side)
		if err != nil {
			return nil, err
		}
		env = maps.Clone(c.Env)
		env[eventproto.SideBandEnv] = v
	}
	cmd := exec.Command(lookPath(c.Argv[0], env), c.Argv[1:]...)
	if side != nil {
		cmd.ExtraFiles = []*os.File{side} // descriptor 3: eventproto.SideBandFD
	}
	cmd.Args[0] = c.Argv[0]
	cmd.Dir = c.Dir
	cmd.Env = envList(env)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// A runner that dies takes ansible with it instead of orphaning it,
	// where the OS can do that.
	osdep.DieWithParent(cmd.SysProcAttr)
	return cmd, nil
}

func noEcho(tty *os.File) error {
	fd := int(tty.Fd())
	t, err := osdep.GetTermios(fd)
	if err != nil {
		return err
	}
	t.Lflag &^= unix.ECHO | unix.ECHONL
	return osdep.SetTermios(fd, t)
}

// signal sends sig to the whole process group; a group already gone is not
// an error.
func (p *proc) signal(sig syscall.Signal) {
	if err := syscall.Kill(-p.pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		// Fall back to the leader alone; EPERM here would mean the group
		// is no longer ours.
		_ = p.cmd.Process.Signal(sig)
	}
}

// isNotFound tells a command that could not be executed from other start
// failures.
func isNotFound(err error) bool {
	return errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) ||
		errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.ENOEXEC) ||
		errors.Is(err, syscall.EISDIR)
}

// readPty copies the pty into w until EOF. EIO is how Linux reports that the
// last slave fd was closed: it is the pty's EOF.
func readPty(out io.Reader, w func([]byte), lastOutput *atomicTime) error {
	buf := make([]byte, 64*1024)
	for {
		n, err := out.Read(buf)
		if n > 0 {
			lastOutput.Store(time.Now())
			w(buf[:n])
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.EIO) || errors.Is(err, os.ErrClosed) {
				return nil
			}
			return err
		}
	}
}

// exitCode turns the wait status into ansible-runner's rc: the exit code, or
// 128+signal when the process was killed by a signal.
func exitCode(ps *os.ProcessState) int {
	if sig := exitSignal(ps); sig != 0 {
		return 128 + int(sig)
	}
	return ps.ExitCode()
}

// exitSignal is the signal that killed the process, 0 when it exited.
func exitSignal(ps *os.ProcessState) syscall.Signal {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal()
	}
	return 0
}
