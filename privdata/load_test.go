package privdata

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wantFullEnvVars is testdata/full/env/envvars as ansible-runner 2.3.1 sees
// it: PyYAML safe_load then str() on every key and value (checked against
// python3 by TestEnvVarsMatchPython).
var wantFullEnvVars = map[string]string{
	"FOO": "bar", "FLAG": "True", "False": "False", "NUM": "1", "FLT": "1.5",
	"BIG": "1e+20", "SMALL": "1e-05", "EXP": "1e3", "NONE": "None",
	"LIST": `['a', 1, True, None, "it's"]`, "MAP": "{'b': 1, 'a': 'x'}",
	"OCT": "511", "HEX": "31", "SEX": "90", "QUOTED": "yes", "INF": "-inf",
}

func TestLoadFull(t *testing.T) {
	d, err := Load("testdata/full")
	require.NoError(t, err)
	abs, err := filepath.Abs("testdata/full")
	require.NoError(t, err)

	assert.Equal(t, abs, d.Path)
	assert.Equal(t, wantFullEnvVars, d.EnvVars)
	assert.Equal(t, map[string]any{
		"greeting": "hello", "count": 3, "ratio": 0.5,
		"nested": map[string]any{"list": []any{1, "two", false}, "none": nil},
	}, d.ExtraVars)
	assert.Equal(t, filepath.Join(abs, "env", "extravars"), d.ExtraVarsPath)
	assert.Equal(t, []Password{
		{Pattern: "Enter passphrase for .*", Response: "pp1"},
		{Pattern: `^SSH password:\s*?$`, Response: "sshpw"},
		{Pattern: "Vault password", Response: "123"},
	}, d.Passwords)
	assert.Equal(t, "--diff --check", d.Cmdline)
	assert.Equal(t, "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----\n", string(d.SSHKey))
	assert.Equal(t, filepath.Join(abs, "inventory"), d.Inventory)
	assert.Equal(t, filepath.Join(abs, "project"), d.ProjectDir)
	assert.Equal(t, "ansible-playbook -i inventory test.yml", d.Args)

	s := d.Settings
	assert.Equal(t, 30*time.Second, s.IdleTimeout)
	assert.Equal(t, 1500*time.Millisecond, s.JobTimeout)
	assert.Equal(t, 10*time.Second, s.PexpectTimeout)
	assert.True(t, s.SuppressOutputFile)
	assert.False(t, s.SuppressAnsibleOutput)
	assert.Equal(t, "facts", s.FactCache)
	assert.Equal(t, false, s.Raw["process_isolation"])
	assert.Equal(t, "quay.io/example/ee:latest", s.Raw["container_image"])
	assert.Equal(t, []any{"--net=host"}, s.Raw["container_options"])
}

func TestLoadEmptyDir(t *testing.T) {
	d, err := Load(t.TempDir())
	require.NoError(t, err)
	assert.Nil(t, d.EnvVars)
	assert.Nil(t, d.ExtraVars)
	assert.Nil(t, d.Passwords)
	assert.Nil(t, d.SSHKey)
	assert.Nil(t, d.Settings.Raw)
	assert.Empty(t, d.ExtraVarsPath+d.Inventory+d.ProjectDir+d.Cmdline+d.Args)
	assert.Equal(t, 5*time.Second, d.Settings.PexpectTimeout, "reference default")
	assert.Equal(t, "fact_cache", d.Settings.FactCache, "reference default")
}

func TestLoadNotADir(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	f := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(f, nil, 0o600))
	_, err = Load(f)
	var fe *FileError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, f, fe.Path)
}

// writeEnv makes a PDD holding one env file.
func writeEnv(t *testing.T, name, content string) (pdd, path string) {
	t.Helper()
	pdd = t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(pdd, "env"), 0o700))
	path = filepath.Join(pdd, "env", name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return pdd, path
}

func TestLoadValues(t *testing.T) {
	tests := []struct {
		name, file, content string
		check               func(t *testing.T, d *Dir)
	}{
		{"empty file is an empty mapping", EnvVarsFile, "", func(t *testing.T, d *Dir) {
			assert.Equal(t, map[string]string{}, d.EnvVars)
		}},
		{"comment-only YAML", SettingsFile, "# nothing\n", func(t *testing.T, d *Dir) {
			assert.Equal(t, map[string]any{}, d.Settings.Raw)
		}},
		{"JSON null", ExtraVarsFile, "null", func(t *testing.T, d *Dir) {
			assert.Equal(t, map[string]any{}, d.ExtraVars)
		}},
		{"JSON envvars stringified", EnvVarsFile, `{"A": true, "B": 2, "C": 2.0, "D": 1e3, "E": null, "F": [1, "x"], "G": {"z": 1, "a": 2}, "H": 123456789012345678901234}`, func(t *testing.T, d *Dir) {
			assert.Equal(t, map[string]string{"A": "True", "B": "2", "C": "2.0", "D": "1000.0", "E": "None", "F": "[1, 'x']", "G": "{'z': 1, 'a': 2}", "H": "123456789012345678901234"}, d.EnvVars)
		}},
		{"JSON duplicate keys: first position, last value", PasswordsFile, `{"a": "1", "b": "2", "a": "3"}`, func(t *testing.T, d *Dir) {
			assert.Equal(t, []Password{{Pattern: "a", Response: "3"}, {Pattern: "b", Response: "2"}}, d.Passwords)
		}},
		{"YAML merge keys and anchors", ExtraVarsFile, "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n", func(t *testing.T, d *Dir) {
			assert.Equal(t, map[string]any{"x": 1, "y": 2}, d.ExtraVars["base"])
			assert.Equal(t, map[string]any{"x": 1, "y": 3}, d.ExtraVars["derived"])
		}},
		{"YAML explicit tags", ExtraVarsFile, "a: !!str 123\nb: !!float 1\nc: !!int '7'\n", func(t *testing.T, d *Dir) {
			assert.Equal(t, map[string]any{"a": "123", "b": 1.0, "c": 7}, d.ExtraVars)
		}},
		{"null timeouts are off, null pexpect keeps default", SettingsFile, "job_timeout: ~\nidle_timeout: null\npexpect_timeout:\n", func(t *testing.T, d *Dir) {
			assert.Zero(t, d.Settings.JobTimeout)
			assert.Zero(t, d.Settings.IdleTimeout)
			assert.Equal(t, 5*time.Second, d.Settings.PexpectTimeout)
		}},
		{"null password response", PasswordsFile, "prompt:\n", func(t *testing.T, d *Dir) {
			assert.Equal(t, []Password{{Pattern: "prompt", Response: ""}}, d.Passwords)
		}},
		{"cmdline kept raw", CmdlineFile, "  -e 'a=b'\n", func(t *testing.T, d *Dir) {
			assert.Equal(t, "  -e 'a=b'\n", d.Cmdline)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdd, _ := writeEnv(t, tt.file, tt.content)
			d, err := Load(pdd)
			require.NoError(t, err)
			tt.check(t, d)
		})
	}
}

func TestLoadMalformed(t *testing.T) {
	tests := []struct {
		name, file, content string
		line                int
		key                 string
		is                  error
		msg                 string // substring of the message, beyond path and line
	}{
		{"envvars YAML syntax", EnvVarsFile, "A: 1\nB: [x, y\nC: 3\n", 2, "", ErrSyntax, "did not find expected ',' or ']'"},
		{"envvars JSON syntax", EnvVarsFile, "{\n  \"A\": \"1\",\n  \"B\": [\n}\n", 4, "", ErrSyntax, "(JSON): invalid character looking for beginning of value"},
		{"envvars list", EnvVarsFile, "- a\n- b\n", 1, "", ErrNotMapping, "found a list"},
		{"envvars bad name", EnvVarsFile, "A: 1\n\"B=C\": 2\n", 2, "B=C", ErrBadValue, "environment variable"},
		{"extravars YAML syntax", ExtraVarsFile, "a: 1\n b: 2\n", 2, "", ErrSyntax, "mapping values are not allowed"},
		{"extravars JSON trailing garbage", ExtraVarsFile, "{\"a\": 1}\n{\"b\": 2}\n", 2, "", ErrSyntax, "after top-level value"},
		{"extravars JSON scalar", ExtraVarsFile, "42", 1, "", ErrNotMapping, "found a number"},
		{"extravars two documents", ExtraVarsFile, "a: 1\n---\nb: 2\n", 2, "", ErrSyntax, "single YAML document"},
		{"extravars python tag", ExtraVarsFile, "a: !!python/object:os.system x\n", 1, "", ErrBadValue, "unsupported YAML tag"},
		{"passwords YAML syntax", PasswordsFile, "a: b\n\t- c\n", 2, "", ErrSyntax, "found a tab character that violates indentation"},
		{"passwords list response", PasswordsFile, "ok: x\nbad: [1, 2]\n", 2, "", ErrBadValue, "must be a scalar"},
		{"passwords scalar", PasswordsFile, "just text\n", 1, "", ErrNotMapping, "found a scalar"},
		{"settings string timeout", SettingsFile, "idle_timeout: 5\njob_timeout: abc\n", 2, "job_timeout", ErrBadValue, "want a number of seconds, got a string"},
		{"settings negative timeout", SettingsFile, "{\"idle_timeout\": -1}", 1, "idle_timeout", ErrBadValue, "in [0,"},
		{"settings bool timeout", SettingsFile, "pexpect_timeout: yes\n", 1, "pexpect_timeout", ErrBadValue, "got a boolean"},
		{"settings non-bool suppress", SettingsFile, "\n\nsuppress_output_file: maybe\n", 3, "suppress_output_file", ErrBadValue, "want true or false"},
		{"settings fact_cache escapes", SettingsFile, "fact_cache: ../../etc\n", 1, "fact_cache", ErrBadValue, "single directory name"},
		{"settings list", SettingsFile, "[1, 2]", 1, "", ErrNotMapping, "found a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdd, path := writeEnv(t, tt.file, tt.content)
			_, err := Load(pdd)
			require.Error(t, err)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, path, fe.Path)
			assert.Equal(t, tt.line, fe.Line, "line")
			assert.Equal(t, tt.key, fe.Key, "key")
			assert.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), path)
			if tt.line > 0 {
				assert.Contains(t, err.Error(), path+":"+itoa(tt.line)+":")
			}
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestLoadUnreadable(t *testing.T) {
	for _, name := range []string{SSHKeyFile, CmdlineFile, SettingsFile} {
		t.Run(name, func(t *testing.T) {
			pdd := t.TempDir()
			path := filepath.Join(pdd, "env", name)
			require.NoError(t, os.MkdirAll(path, 0o700)) // a directory cannot be read as a file
			_, err := Load(pdd)
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, path, fe.Path)
			assert.ErrorIs(t, err, ErrNotRegular)
			assert.Contains(t, err.Error(), "it is a directory")
		})
	}
}

// TestSecretsNotInErrors feeds malformed secret files whose parser errors
// would quote the secret, and checks the message does not.
func TestSecretsNotInErrors(t *testing.T) {
	const secret = "s3cr3tVALUE"
	tests := []struct{ name, file, content string }{
		{"JSON invalid character", PasswordsFile, `{"prompt": "x" ` + secret + `}`},
		{"JSON bad literal", PasswordsFile, `{"prompt": ` + secret + `, "x": ]}`},
		{"JSON punctuation", PasswordsFile, `{"prompt": @` + secret + `}`},
		{"JSON control character", PasswordsFile, "{\"prompt\": \"\x01" + secret + "\"}"},
		{"YAML unknown anchor", PasswordsFile, "prompt: *" + secret + "\n"},
		{"YAML unknown tag", PasswordsFile, "prompt: !" + secret + " x\n"},
		{"YAML tag mismatch", PasswordsFile, "prompt: !!int " + secret + "\n"},
		{"YAML unterminated quote", PasswordsFile, "prompt: \"" + secret + "\n"},
		{"YAML tab indent", PasswordsFile, "prompt:\n\t" + secret + "\n"},
		{"YAML bad escape", PasswordsFile, "prompt: \"\\q" + secret + "\"\n"},
		{"YAML list response", PasswordsFile, "prompt: [" + secret + "]\n"},
		{"extravars unknown anchor", ExtraVarsFile, "pw: *" + secret + "\n"},
		{"settings auth data", SettingsFile, "container_auth_data: {password: " + secret + "\njob_timeout: x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdd, path := writeEnv(t, tt.file, tt.content)
			_, err := Load(pdd)
			require.Error(t, err)
			assert.Contains(t, err.Error(), path)
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), secret[:3])
			// Nor a single character of it (grammar tokens such as ',' may stay).
			assert.NotRegexp(t, `'(\pL|\pN|@|\\x01)'`, err.Error())
		})
	}
}

// TestLoadFIFO feeds env files through named pipes, as AWX does for
// secrets: Load must read them to EOF without relying on stat's size.
func TestLoadFIFO(t *testing.T) {
	pdd := t.TempDir()
	env := filepath.Join(pdd, "env")
	require.NoError(t, os.Mkdir(env, 0o700))
	content := map[string]string{
		PasswordsFile: "first: one\nsecond: two\n",
		SSHKeyFile:    "KEY\n",
		ExtraVarsFile: `{"v": 1}`,
	}
	order := []string{PasswordsFile, SSHKeyFile, ExtraVarsFile} // Load's read order
	for _, name := range order {
		require.NoError(t, syscall.Mkfifo(filepath.Join(env, name), 0o600))
	}
	errc := make(chan error, 1)
	go func() {
		for _, name := range order {
			f, err := os.OpenFile(filepath.Join(env, name), os.O_WRONLY, 0)
			if err != nil {
				errc <- err
				return
			}
			// Two writes with a pause: a reader stopping at the first
			// chunk would miss the rest.
			c := content[name]
			_, err = f.WriteString(c[:len(c)/2])
			time.Sleep(5 * time.Millisecond)
			if err == nil {
				_, err = f.WriteString(c[len(c)/2:])
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	d, err := Load(pdd)
	require.NoError(t, err)
	require.NoError(t, <-errc)
	assert.Equal(t, []Password{{Pattern: "first", Response: "one"}, {Pattern: "second", Response: "two"}}, d.Passwords)
	assert.Equal(t, "KEY\n", string(d.SSHKey))
	assert.Equal(t, map[string]any{"v": 1}, d.ExtraVars)
	assert.Empty(t, d.ExtraVarsPath, "the reference passes -e @extravars only for a regular file")
}

// TestEnvVarsMatchPython compares Load's str() of env values with
// ansible-runner's own: its loader's json.loads-then-yaml.safe_load, then
// str() on keys and values, run by python3.
func TestEnvVarsMatchPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not on PATH")
	}
	const script = `import sys, json, yaml
out = []
for p in sys.argv[1:]:
    text = open(p).read()
    try:
        d = json.loads(text)
    except ValueError:
        d = None
    if not d:
        d = yaml.safe_load(text)
    out.append({str(k): str(v) for k, v in d.items()})
print(json.dumps(out))`
	paths := []string{"testdata/full/env/envvars"}
	for _, content := range []string{
		"A: 0b101\nB: -0x_1f\nC: +12_345\nD: 1_0.5\nE: .5\nF: 6.02e+23\nG: 1.0e-7\nH: 190:20:30.15\nI: On\nJ: NO\nK: .NaN\nL: 2024-01-02x\nM: 1e-7\nN: 09\nO: 0.1\nP: 100000000000000000.0\nQ: 'a\\b'\nR: [\"x\\ty\", 'q\"']\nS: ~\nT: -.inf\nU: 0o17\n",
		`{"A": 1.5e300, "B": -0.0, "C": 12345678901234567, "D": [true, false, null], "E": {"k": [{}], "a": "\u00e9\n"}, "F": 1E+2}`,
		"base: &b {x: 1}\nmerged: {<<: *b, y: [1, {z: 2}]}\n",
	} {
		_, path := writeEnv(t, EnvVarsFile, content)
		paths = append(paths, path)
	}
	cmd := exec.Command(py, append([]string{"-c", script}, paths...)...)
	out, err := cmd.Output()
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) && strings.Contains(string(ee.Stderr), "No module named 'yaml'") {
		t.Skip("python3 has no yaml module")
	}
	require.NoError(t, err)
	var want []map[string]string
	require.NoError(t, json.Unmarshal(out, &want))
	for i, path := range paths {
		d, err := Load(filepath.Dir(filepath.Dir(path)))
		require.NoError(t, err)
		assert.Equal(t, want[i], d.EnvVars, "file %s", path)
	}
}

func TestFileErrorFormat(t *testing.T) {
	err := &FileError{Path: "/p/env/settings", Line: 3, Key: "job_timeout", Err: ErrBadValue}
	assert.Equal(t, `privdata: /p/env/settings:3: key "job_timeout": bad value`, err.Error())
	assert.True(t, errors.Is(err, ErrBadValue))
	err = &FileError{Path: "/p/env/passwords", Err: ErrSyntax}
	assert.Equal(t, "privdata: /p/env/passwords: invalid JSON/YAML syntax", err.Error())
}

// loadBounded runs LoadContext, failing the test if it has not returned
// within 10 s: the faults below used to hang it forever.
func loadBounded(t *testing.T, ctx context.Context, pdd string, opts LoadOptions) (*Dir, error) {
	t.Helper()
	type result struct {
		d   *Dir
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := LoadContext(ctx, pdd, opts)
		done <- result{d, err}
	}()
	select {
	case r := <-done:
		return r.d, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("Load did not return within 10s")
		return nil, nil
	}
}

// openedBySelf reports whether this process holds path open.
func openedBySelf(path string) bool {
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && l == path {
			return true
		}
	}
	return false
}

// waitOpened waits until this process holds path open.
func waitOpened(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !openedBySelf(path); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s was not opened within 10s", path)
		}
	}
}

// A device, a socket or a directory where an env file belongs is refused at
// once, with an error naming the path and what it is: a symlink to
// /dev/zero was read until memory ran out.
func TestLoadRefusesNonRegular(t *testing.T) {
	tests := []struct {
		name, file, want string
		make             func(t *testing.T, path string)
	}{
		{"dev zero", ExtraVarsFile, "a character device", func(t *testing.T, p string) { require.NoError(t, os.Symlink("/dev/zero", p)) }},
		{"dev null", SSHKeyFile, "a character device", func(t *testing.T, p string) { require.NoError(t, os.Symlink("/dev/null", p)) }},
		{"socket", PasswordsFile, "a socket", func(t *testing.T, p string) {
			l, err := net.Listen("unix", p)
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
		}},
		{"directory", EnvVarsFile, "a directory", func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o700)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A short dir: a unix socket's path is limited to 108 bytes.
			pdd, err := os.MkdirTemp("", "pdd")
			require.NoError(t, err)
			t.Cleanup(func() { os.RemoveAll(pdd) })
			require.NoError(t, os.Mkdir(filepath.Join(pdd, "env"), 0o700))
			path := filepath.Join(pdd, "env", tt.file)
			tt.make(t, path)
			_, err = loadBounded(t, context.Background(), pdd, LoadOptions{})
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, path, fe.Path)
			assert.ErrorIs(t, err, ErrNotRegular)
			assert.Equal(t, "privdata: "+path+": not a regular file or named pipe: it is "+tt.want, err.Error())
		})
	}
}

// A file, or a named pipe's stream, larger than MaxFileSize is refused
// after MaxFileSize+1 bytes, naming the file and the limit.
func TestLoadTooLarge(t *testing.T) {
	pdd := t.TempDir()
	args := filepath.Join(pdd, "args")
	require.NoError(t, os.WriteFile(args, nil, 0o600))
	require.NoError(t, os.Truncate(args, MaxFileSize))
	d, err := Load(pdd)
	require.NoError(t, err, "MaxFileSize itself is allowed")
	assert.Len(t, d.Args, MaxFileSize)

	require.NoError(t, os.Truncate(args, MaxFileSize+1))
	_, err = Load(pdd)
	assert.ErrorIs(t, err, ErrTooLarge)
	assert.Equal(t, fmt.Sprintf("privdata: %s: file too large: more than %d bytes (privdata.MaxFileSize)", args, MaxFileSize), err.Error())

	// A writer that never stops.
	require.NoError(t, os.Remove(args))
	require.NoError(t, syscall.Mkfifo(args, 0o600))
	go func() {
		f, err := os.OpenFile(args, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		buf := bytes.Repeat([]byte("y\n"), 32<<10)
		for {
			if _, err := f.Write(buf); err != nil {
				return // EPIPE once Load gave up
			}
		}
	}()
	_, err = loadBounded(t, context.Background(), pdd, LoadOptions{})
	assert.ErrorIs(t, err, ErrTooLarge)
}

// A named pipe nobody writes to, or whose writer never finishes, holds
// LoadContext only until its context ends; the error names the pipe and
// carries the context's cause. Files read before it are not lost to the
// wait (settings was seen), and nothing of the pipe's partial content is in
// the error.
func TestLoadContextStopsFIFO(t *testing.T) {
	errStop := errors.New("stop reading")
	for _, tc := range []struct {
		name   string
		writer bool // a writer that opens the pipe, writes a secret, and stalls
		cancel func(t *testing.T) (context.Context, func())
		want   error
	}{
		{"no writer, canceled", false, func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() { cancel(errStop) }
		}, errStop},
		{"silent writer, canceled", true, func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithCancelCause(context.Background())
			return ctx, func() { cancel(errStop) }
		}, errStop},
		{"no writer, deadline", false, func(t *testing.T) (context.Context, func()) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			t.Cleanup(cancel)
			return ctx, func() {}
		}, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdd := t.TempDir()
			env := filepath.Join(pdd, "env")
			require.NoError(t, os.Mkdir(env, 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(env, SettingsFile), []byte("job_timeout: 7\n"), 0o600))
			fifo := filepath.Join(env, PasswordsFile)
			require.NoError(t, syscall.Mkfifo(fifo, 0o600))
			if tc.writer {
				release := make(chan struct{})
				t.Cleanup(func() { close(release) })
				go func() {
					f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
					if err != nil {
						return
					}
					defer f.Close()
					f.WriteString("prompt: s3cret-half")
					<-release
				}()
			}
			ctx, cancel := tc.cancel(t)
			var seen Settings
			go func() {
				waitOpened(t, fifo)
				cancel()
			}()
			start := time.Now()
			_, err := loadBounded(t, ctx, pdd, LoadOptions{OnSettings: func(s Settings) { seen = s }})
			var fe *FileError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, fifo, fe.Path)
			assert.ErrorIs(t, err, tc.want)
			assert.NotContains(t, err.Error(), "s3cret")
			assert.Less(t, time.Since(start), 5*time.Second)
			assert.Equal(t, 7*time.Second, seen.JobTimeout)
			if !tc.writer { // the writer's end is this process's too
				assert.False(t, openedBySelf(fifo), "the pipe is closed")
			}
		})
	}
}

// OnSettings is called before the next file is opened: a context it ends
// stops Load at the first named pipe, which is never waited for.
func TestLoadOnSettingsFirst(t *testing.T) {
	pdd := t.TempDir()
	env := filepath.Join(pdd, "env")
	require.NoError(t, os.Mkdir(env, 0o700))
	fifo := filepath.Join(env, PasswordsFile)
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	_, err := loadBounded(t, ctx, pdd, LoadOptions{OnSettings: func(s Settings) {
		calls++
		assert.Equal(t, 5*time.Second, s.PexpectTimeout, "defaults when env/settings is absent")
		cancel()
	}})
	assert.Equal(t, 1, calls)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), fifo)
}
