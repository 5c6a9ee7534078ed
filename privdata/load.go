package privdata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/arunner/arunner/prompt"
)

// Dir is what Load read from an ansible-runner private data dir.
type Dir struct {
	// Path is the absolute path of the private data dir.
	Path string
	// EnvVars is env/envvars with every value passed through Python's str(),
	// as ansible-runner does: true -> "True", 1 -> "1", null -> "None",
	// 1.0 -> "1.0", 0777 -> "511" (YAML is typed as PyYAML's YAML 1.1
	// safe_load types it); lists and maps become their Python repr
	// ("['a', 1]", "{'k': 'v'}", keys in file order). Not reproduced: a YAML
	// timestamp with a time part keeps its source text, where Python prints
	// a datetime. Nil if the file is absent.
	EnvVars map[string]string
	// ExtraVars is env/extravars parsed (nil if absent). Informational: the
	// runner passes the file itself with -e @ExtraVarsPath.
	ExtraVars map[string]any
	// ExtraVarsPath is the absolute path of env/extravars when it is a
	// regular file, else "". As in the reference (os.path.isfile), an
	// extravars named pipe is not passed to ansible: its content is read
	// into ExtraVars instead.
	ExtraVarsPath string
	// Passwords is env/passwords in file order, which is the order prompt
	// patterns are tried in.
	Passwords []Password
	// Cmdline is the raw text of env/cmdline ("" if absent); the caller
	// shlex-splits it.
	Cmdline string
	// Settings is env/settings, typed.
	Settings Settings
	// SSHKey is the content of env/ssh_key (secret; nil if absent).
	SSHKey []byte
	// Inventory is the absolute path of <pdd>/inventory if it exists, else "".
	Inventory string
	// ProjectDir is the absolute path of <pdd>/project if it exists, else "".
	ProjectDir string
	// Args is the raw text of <pdd>/args ("" if absent): a full command line
	// that replaces the generated one.
	Args string
}

// Password is one env/passwords entry: when output matches the regular
// expression Pattern (Python re, multiline), Response is sent. Printed with
// fmt, it shows the pattern and hides the response.
type Password = prompt.Pair

// Settings is env/settings. Timeouts of 0 mean "off".
type Settings struct {
	IdleTimeout time.Duration
	JobTimeout  time.Duration
	// PexpectTimeout is read for completeness (default 5s); arunner does not poll.
	PexpectTimeout        time.Duration
	SuppressOutputFile    bool
	SuppressAnsibleOutput bool
	// FactCache is the fact cache subdirectory of artifacts/<ident>,
	// default "fact_cache". It must be a single path element.
	FactCache string
	// Raw holds every key of the file, including the ones not interpreted
	// here (process_isolation, container_*, ...). Nil if the file is absent.
	Raw map[string]any
}

// Names of the files under <pdd>/env.
const (
	EnvVarsFile   = "envvars"
	ExtraVarsFile = "extravars"
	PasswordsFile = "passwords"
	CmdlineFile   = "cmdline"
	SettingsFile  = "settings"
	SSHKeyFile    = "ssh_key"
)

const (
	defaultPexpectTimeout = 5 * time.Second
	defaultFactCache      = "fact_cache"
)

// MaxFileSize bounds each file Load reads from a private data dir (the env
// files and args): a larger one, or a named pipe whose writer sends more, is
// a *FileError with ErrTooLarge, so that a runaway writer cannot exhaust
// memory. Real env files are many orders of magnitude smaller.
const MaxFileSize = 16 << 20

// LoadOptions adjusts LoadContext; the zero value is Load's behaviour.
type LoadOptions struct {
	// OnSettings, when not nil, is called with env/settings (defaults when
	// absent) as soon as it is read, before any other file is opened: a
	// runner arms the settings' job_timeout there, so that it bounds the
	// wait for the named pipes that follow.
	OnSettings func(Settings)
}

// Load reads the private data dir at dir. Absent files leave their fields
// zero; a file that exists but cannot be read or parsed is a *FileError.
// Files may be named pipes: each is opened and read to EOF, in the order the
// reference reads them (settings, passwords, envvars, ssh_key, args,
// cmdline, then extravars), so a writer feeding them in that order never
// deadlocks. A named pipe without a writer is waited for; LoadContext bounds
// that wait. A file that is neither a regular file nor a named pipe (a
// character or block device, a socket, a directory) is refused with
// ErrNotRegular, and one larger than MaxFileSize with ErrTooLarge.
func Load(dir string) (*Dir, error) {
	return LoadContext(context.Background(), dir, LoadOptions{})
}

// LoadContext is Load, stopped by ctx: once ctx is done, waiting for a named
// pipe's writer or reading from it ends with a *FileError naming the pipe,
// whose Err is context.Cause(ctx), and no further file is read.
func LoadContext(ctx context.Context, dir string, opts LoadOptions) (*Dir, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("privdata: %s: %w", dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("privdata: %w", err)
	}
	if !st.IsDir() {
		return nil, &FileError{Path: abs, Err: errors.New("not a directory")}
	}
	d := &Dir{Path: abs, Settings: Settings{PexpectTimeout: defaultPexpectTimeout, FactCache: defaultFactCache}}
	env := Paths{Root: abs}.Env

	if err := d.loadSettings(ctx, env(SettingsFile)); err != nil {
		return nil, err
	}
	if opts.OnSettings != nil {
		opts.OnSettings(d.Settings)
	}
	if err := d.loadPasswords(ctx, env(PasswordsFile)); err != nil {
		return nil, err
	}
	if err := d.loadEnvVars(ctx, env(EnvVarsFile)); err != nil {
		return nil, err
	}
	if d.SSHKey, err = readOptional(ctx, env(SSHKeyFile)); err != nil {
		return nil, err
	}
	args, err := readOptional(ctx, Paths{Root: abs}.Args())
	if err != nil {
		return nil, err
	}
	d.Args = string(args)
	cmdline, err := readOptional(ctx, env(CmdlineFile))
	if err != nil {
		return nil, err
	}
	d.Cmdline = string(cmdline)
	if err := d.loadExtraVars(ctx, env(ExtraVarsFile)); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"inventory", &d.Inventory}, {"project", &d.ProjectDir}} {
		path := filepath.Join(abs, p.name)
		if _, err := os.Stat(path); err == nil {
			*p.dst = path
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, &FileError{Path: path, Err: err}
		}
	}
	return d, nil
}

// readOptional reads path to EOF, returning nil, nil if it does not exist.
// It never trusts the size from stat, so named pipes work. A named pipe is
// opened without blocking and its writer waited for through Go's poller, so
// that ctx can end the wait (a blocking open could not be interrupted).
func readOptional(ctx context.Context, path string) ([]byte, error) {
	if ctx.Err() != nil {
		return nil, &FileError{Path: path, Err: context.Cause(ctx)}
	}
	// Stat before open: opening a device can have effects of its own.
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &FileError{Path: path, Err: unwrapPathError(err)}
	}
	if err := checkReadable(st.Mode()); err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, &FileError{Path: path, Err: unwrapPathError(err)}
	}
	defer f.Close()
	// What was opened, in case path changed since the Stat.
	if st, err = f.Stat(); err != nil {
		return nil, &FileError{Path: path, Err: unwrapPathError(err)}
	}
	if err := checkReadable(st.Mode()); err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	if st.Mode()&fs.ModeNamedPipe != 0 {
		// A deadline in the past wakes a read waiting in the poller.
		stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
		defer stop()
		if err := waitWriter(f); err != nil {
			return nil, readError(ctx, path, err)
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, readError(ctx, path, err)
	}
	if len(data) > MaxFileSize {
		clear(data) // it may hold a secret
		return nil, &FileError{Path: path, Err: fmt.Errorf("%w: more than %d bytes (privdata.MaxFileSize)", ErrTooLarge, MaxFileSize)}
	}
	return data, nil
}

// readError is the *FileError for err met while reading path: the cause of
// ctx's end when that is what stopped the read.
func readError(ctx context.Context, path string, err error) error {
	if ctx.Err() != nil {
		err = context.Cause(ctx)
	}
	return &FileError{Path: path, Err: unwrapPathError(err)}
}

// waitWriter waits, through Go's poller, until the named pipe f, opened
// non-blocking, has or has had a writer. Until then a read would report end
// of file where a blocking open would wait: poll tells the two apart, as it
// reports neither input nor hang-up on a pipe no writer has opened yet.
func waitWriter(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var pollErr error
	err = rc.Read(func(fd uintptr) bool {
		for {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(fds, 0)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				pollErr = err
				return true
			}
			// Not ready: the poller wakes this up again on the next
			// event (input or hang-up), or on the deadline.
			return n > 0
		}
	})
	if err == nil {
		err = pollErr
	}
	return err
}

// checkReadable refuses, with ErrNotRegular, what Load must not read: a
// device would never end (/dev/zero) or block, a directory or socket cannot
// be read as a file.
func checkReadable(m fs.FileMode) error {
	if m.IsRegular() || m&fs.ModeNamedPipe != 0 {
		return nil
	}
	return fmt.Errorf("%w: it is %s", ErrNotRegular, fileType(m))
}

// fileType names m's type for an error message.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m.IsRegular():
		return "a regular file"
	}
	return "an irregular file"
}

// unwrapPathError drops *fs.PathError's copy of the path, which FileError
// already prints.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// loadMapping reads and parses an optional mapping file; present reports
// whether the file exists.
func loadMapping(ctx context.Context, path string) (entries []entry, present bool, err error) {
	data, err := readOptional(ctx, path)
	if err != nil || data == nil {
		return nil, false, err
	}
	entries, err = parseMapping(path, data)
	return entries, true, err
}

func (d *Dir) loadSettings(ctx context.Context, path string) error {
	entries, present, err := loadMapping(ctx, path)
	if err != nil || !present {
		return err
	}
	s := &d.Settings
	s.Raw = make(map[string]any, len(entries))
	for _, e := range entries {
		s.Raw[e.key] = plain(e.val)
		fail := func(format string, args ...any) error {
			return &FileError{Path: path, Line: e.line, Key: e.key, Err: badValue(format, args...)}
		}
		switch e.key {
		case "idle_timeout", "job_timeout", "pexpect_timeout":
			dur, err := seconds(e.val)
			if err != nil {
				return fail("%v", err)
			}
			switch e.key {
			case "idle_timeout":
				s.IdleTimeout = dur
			case "job_timeout":
				s.JobTimeout = dur
			default:
				if e.val != nil {
					s.PexpectTimeout = dur
				}
			}
		case "suppress_output_file", "suppress_ansible_output":
			b, ok := e.val.(bool)
			if !ok && e.val != nil {
				return fail("want true or false, got %s", typeName(e.val))
			}
			if e.key == "suppress_output_file" {
				s.SuppressOutputFile = b
			} else {
				s.SuppressAnsibleOutput = b
			}
		case "fact_cache":
			name, ok := e.val.(string)
			if !ok {
				return fail("want a directory name, got %s", typeName(e.val))
			}
			if err := ValidateIdent(name); err != nil {
				return fail("want a single directory name, got %q", name)
			}
			s.FactCache = name
		}
	}
	return nil
}

// seconds converts a settings timeout (int or float seconds, null = off).
func seconds(v any) (time.Duration, error) {
	var f float64
	switch t := v.(type) {
	case nil:
		return 0, nil
	case int:
		f = float64(t)
	case float64:
		f = t
	case *big.Int:
		f = math.Inf(t.Sign())
	default:
		return 0, fmt.Errorf("want a number of seconds, got %s", typeName(v))
	}
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	if math.IsNaN(f) || f < 0 || f > float64(maxSeconds) {
		return 0, fmt.Errorf("want a number of seconds in [0, %d]", maxSeconds)
	}
	return time.Duration(f * float64(time.Second)), nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, *big.Int, float64:
		return "a number"
	case []any:
		return "a list"
	case omap, map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

func (d *Dir) loadPasswords(ctx context.Context, path string) error {
	entries, present, err := loadMapping(ctx, path)
	if err != nil || !present {
		return err
	}
	d.Passwords = make([]Password, 0, len(entries))
	for _, e := range entries {
		var resp string
		switch v := e.val.(type) {
		case []any, omap:
			// The line, not the key: a prompt pattern is not secret, but
			// keep this file's error free of any of its text.
			return &FileError{Path: path, Line: e.line, Err: badValue("a response must be a scalar, got %s", typeName(v))}
		case nil:
			resp = "" // pexpect's sendline() default
		default:
			resp = pyStr(v)
		}
		d.Passwords = append(d.Passwords, Password{Pattern: e.key, Response: resp})
	}
	return nil
}

func (d *Dir) loadEnvVars(ctx context.Context, path string) error {
	entries, present, err := loadMapping(ctx, path)
	if err != nil || !present {
		return err
	}
	d.EnvVars = make(map[string]string, len(entries))
	for _, e := range entries {
		v := pyStr(e.val)
		if err := CheckEnvVar(e.key, v); err != nil {
			return &FileError{Path: path, Line: e.line, Key: e.key, Err: err}
		}
		d.EnvVars[e.key] = v
	}
	return nil
}

// CheckEnvVar reports, wrapping ErrBadValue, why name=value cannot go into a
// process's environment: exec refuses a NUL byte, and a name that is empty
// or holds "=" would reach the child as another variable. Refusing early
// beats a confusing failure later. The error never quotes value.
func CheckEnvVar(name, value string) error {
	switch {
	case name == "" || strings.ContainsAny(name, "=\x00"):
		return badValue("not a valid environment variable name")
	case strings.IndexByte(value, 0) >= 0:
		return badValue("value contains a NUL byte")
	}
	return nil
}

func (d *Dir) loadExtraVars(ctx context.Context, path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &FileError{Path: path, Err: unwrapPathError(err)}
	}
	entries, present, err := loadMapping(ctx, path)
	if err != nil || !present {
		return err
	}
	if st.Mode().IsRegular() {
		d.ExtraVarsPath = path
	}
	d.ExtraVars = make(map[string]any, len(entries))
	for _, e := range entries {
		d.ExtraVars[e.key] = plain(e.val)
	}
	return nil
}
