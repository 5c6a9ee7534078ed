package stream

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tree writes files (name -> content; "->target" makes a symlink, a name
// ending in "/" a dir) under a new temp dir.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o700))
		switch {
		case strings.HasSuffix(name, "/"):
			require.NoError(t, os.MkdirAll(p, 0o700))
		case strings.HasPrefix(content, "->"):
			require.NoError(t, os.Symlink(content[2:], p))
		default:
			require.NoError(t, os.WriteFile(p, []byte(content), 0o640))
		}
	}
	return dir
}

// payload is the stream bytes of dir as a {"zipfile": N} line and its zip.
func payloadOf(t *testing.T, dir string) []byte {
	t.Helper()
	f, err := packDir(dir, nil)
	require.NoError(t, err)
	defer f.Close()
	var buf bytes.Buffer
	require.NoError(t, newWriter(&buf).zip(f))
	return buf.Bytes()
}

func TestPayloadRoundTrip(t *testing.T) {
	src := tree(t, map[string]string{
		"project/site.yml":    "- hosts: all\n",
		"inventory/hosts":     "localhost\n",
		"env/extravars":       "{}",
		"project/link.yml":    "->site.yml",
		"project/roles/":      "",
		"inventory/script.sh": "#!/bin/sh\n",
	})
	require.NoError(t, os.Chmod(filepath.Join(src, "inventory/script.sh"), 0o755))
	old := time.Date(2020, 1, 2, 3, 4, 6, 0, time.Local)
	require.NoError(t, os.Chtimes(filepath.Join(src, "project/site.yml"), old, old))
	require.NoError(t, syscallMkfifo(filepath.Join(src, "env/ssh_key")))

	stream := append(payloadOf(t, src), []byte(eofJSON+"\n")...)
	// The payload is the zip's exact base64, followed at once by the next line.
	head, rest, _ := bytes.Cut(stream, []byte("\n"))
	var n int64
	m := &message{}
	require.NoError(t, jsonUnmarshal(head, &m.fields))
	require.NoError(t, jsonUnmarshal(m.fields["zipfile"], &n))
	enc := base64.StdEncoding.EncodedLen(int(n))
	assert.Equal(t, eofJSON+"\n", string(rest[enc:]))
	assert.NotContains(t, string(rest[:enc]), "\n")

	rd := newReader(bytes.NewReader(stream), Limits{})
	msg, err := rd.next()
	require.NoError(t, err)
	f, err := rd.payload(msg.zipSize)
	require.NoError(t, err)
	defer f.Close()
	dst := t.TempDir()
	require.NoError(t, unpack(f, msg.zipSize, dst, Limits{}))
	msg, err = rd.next()
	require.NoError(t, err)
	assert.True(t, msg.has("eof"))

	b, err := os.ReadFile(filepath.Join(dst, "project/site.yml"))
	require.NoError(t, err)
	assert.Equal(t, "- hosts: all\n", string(b))
	target, err := os.Readlink(filepath.Join(dst, "project/link.yml"))
	require.NoError(t, err)
	assert.Equal(t, "site.yml", target)
	st, err := os.Stat(filepath.Join(dst, "inventory/script.sh"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o755), st.Mode().Perm())
	st, err = os.Stat(filepath.Join(dst, "project/site.yml"))
	require.NoError(t, err)
	assert.Equal(t, fs.FileMode(0o640), st.Mode().Perm())
	assert.True(t, st.ModTime().Equal(old), "mtime %v, want %v", st.ModTime(), old)
	assert.DirExists(t, filepath.Join(dst, "project/roles"))
	assert.NoFileExists(t, filepath.Join(dst, "env/ssh_key"), "a FIFO is not sent")
}

// zipBytes builds a zip from entries in order: name -> content; a content
// starting "->" makes a symlink entry.
func zipBytes(t *testing.T, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e[0], Method: zip.Deflate}
		content := e[1]
		if strings.HasPrefix(content, "->") {
			h.SetMode(fs.ModeSymlink | 0o777)
			content = content[2:]
		} else {
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		w.Write([]byte(content))
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func unpackBytes(t *testing.T, b []byte, dir string, l Limits) error {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "z")
	require.NoError(t, err)
	defer f.Close()
	f.Write(b)
	return unpack(f, int64(len(b)), dir, l)
}

func TestUnpackStaysInside(t *testing.T) {
	cases := map[string][][2]string{
		"dotdot":            {{"../escaped", "x"}},
		"nested dotdot":     {{"a/../../escaped", "x"}},
		"absolute":          {{"/tmp/escaped-abs", "x"}},
		"symlink out":       {{"l", "->.."}, {"l/escaped", "x"}},
		"symlink absolute":  {{"l", "->/tmp"}, {"l/escaped", "x"}},
		"backslash":         {{`..\escaped`, "x"}},
		"symlink out alone": {{"l", "->../../etc"}},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			outer := t.TempDir()
			dir := filepath.Join(outer, "pdd")
			err := unpackBytes(t, zipBytes(t, entries...), dir, Limits{})
			require.ErrorIs(t, err, ErrUnsafeEntry)
			assert.NoFileExists(t, filepath.Join(outer, "escaped"))
			assert.NoFileExists(t, "/tmp/escaped")
			assert.NoFileExists(t, "/tmp/escaped-abs")
		})
	}
	t.Run("through an existing symlink", func(t *testing.T) {
		// A private data dir reused without --delete may hold a symlink
		// that points out; a file is never written through it.
		outer := t.TempDir()
		dir := filepath.Join(outer, "pdd")
		require.NoError(t, os.MkdirAll(filepath.Join(outer, "victim"), 0o700))
		require.NoError(t, os.MkdirAll(dir, 0o700))
		require.NoError(t, os.Symlink(filepath.Join(outer, "victim"), filepath.Join(dir, "out")))
		err := unpackBytes(t, zipBytes(t, [2]string{"out/escaped", "x"}), dir, Limits{})
		require.ErrorIs(t, err, ErrUnsafeEntry)
		assert.NoFileExists(t, filepath.Join(outer, "victim", "escaped"))
	})
	t.Run("symlink inside is kept", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, unpackBytes(t, zipBytes(t, [2]string{"a/b", "x"}, [2]string{"l", "->a"}, [2]string{"a/c", "->../a/b"}), dir, Limits{}))
		b, err := os.ReadFile(filepath.Join(dir, "l", "c"))
		require.NoError(t, err)
		assert.Equal(t, "x", string(b))
	})
}

func TestUnpackLimits(t *testing.T) {
	big := strings.Repeat("0", 1<<20) // deflates to ~1 KB
	z := zipBytes(t, [2]string{"a", big}, [2]string{"b", big})
	err := unpackBytes(t, z, t.TempDir(), Limits{MaxUnpacked: 1<<20 + 10})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "Limits.MaxUnpacked")

	err = unpackBytes(t, zipBytes(t, [2]string{"a", ""}, [2]string{"b", ""}, [2]string{"c", ""}), t.TempDir(), Limits{MaxEntries: 2})
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Contains(t, err.Error(), "Limits.MaxEntries")

	require.NoError(t, unpackBytes(t, z, t.TempDir(), Limits{MaxUnpacked: 2 << 20, MaxEntries: 2}))

	err = unpackBytes(t, []byte("PK this is not a zip at all"), t.TempDir(), Limits{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not a zip")
}

func TestReaderBadInput(t *testing.T) {
	read := func(s string, l Limits) error {
		rd := newReader(strings.NewReader(s), l)
		for {
			m, err := rd.next()
			if err != nil {
				return err
			}
			if m.has("zipfile") {
				f, err := rd.payload(m.zipSize)
				if err != nil {
					return err
				}
				f.Close()
			}
			if m.has("eof") {
				return nil
			}
		}
	}
	require.NoError(t, read("{\"kwargs\": {}}\n{\"eof\": true}\n", Limits{}))
	assert.ErrorIs(t, read("{\"kwargs\": {}}\n", Limits{}), ErrTruncated)
	assert.ErrorIs(t, read("{\"kwargs\": {}}\n{\"eo", Limits{}), ErrTruncated)
	assert.ErrorIs(t, read("{\"zipfile\": 100}\nUEsDBB", Limits{}), ErrTruncated)

	var le *LineError
	err := read("{\"kwargs\": {}}\nnot json at all\n", Limits{})
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 2, le.N)
	assert.Equal(t, "not json at all", le.Line)
	require.ErrorAs(t, read("[1, 2]\n", Limits{}), &le)
	require.ErrorAs(t, read("{\"zipfile\": \"big\"}\n", Limits{}), &le)
	assert.Contains(t, read("{\"zipfile\": 8}\n!!!!!!!!!!!!{\"eof\": true}\n", Limits{}).Error(), "not base64")
	assert.Contains(t, read("{\"zipfile\": 1000}\n", Limits{MaxZip: 999}).Error(), "Limits.MaxZip")
	assert.Contains(t, read(strings.Repeat("x", 200<<10)+"\n", Limits{MaxLine: 100 << 10}).Error(), "Limits.MaxLine")

	// A line longer than the read buffer is whole.
	long := `{"stdout": "` + strings.Repeat("y", 300<<10) + `"}`
	rd := newReader(strings.NewReader(long+"\n"), Limits{})
	m, err := rd.next()
	require.NoError(t, err)
	assert.Equal(t, long, string(m.raw))
}

func TestWriterBreaks(t *testing.T) {
	w := newWriter(failingWriter{})
	err := w.line([]byte(`{"a": 1}`))
	require.Error(t, err)
	assert.ErrorIs(t, w.line([]byte(`{"b": 1}`)), errBroken)
}

var errBroken = errors.New("broken pipe")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errBroken }
