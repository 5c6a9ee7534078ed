package stream

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// packDir zips the tree under dir into a temporary file, as ansible-runner
// does: deflated files, directory entries, symlinks as symlink entries
// (their target as data), FIFOs and sockets left out. The caller closes the
// file; it has no name left on disk. ov adds what is not in dir, each
// entry replacing what dir has at its path.
func packDir(dir string, ov overlay) (*os.File, error) {
	return packDirLevel(dir, ov, flate.DefaultCompression)
}

// packArtifacts packs a run's artifacts dir, as the worker sends it back.
// Its stdout file grows with the run, and deflating it at the default
// level cost more than the rest of the zip; text deflated at BestSpeed is
// still a fraction of its size.
func packArtifacts(dir string) (*os.File, error) {
	return packDirLevel(dir, nil, flate.BestSpeed)
}

func packDirLevel(dir string, ov overlay, level int) (*os.File, error) {
	f, err := os.CreateTemp("", "arunner-stream-*.zip")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	if err := writeZip(f, dir, ov, level); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// overlay is what a zip holds beyond a dir's own tree.
type overlay []overlayEntry

// overlayEntry is a file given as data (mode 0600), or a tree taken from a
// dir on disk or an fs.FS, at path (relative to the dir packed).
type overlayEntry struct {
	field string // the Config field it comes from
	path  string
	data  []byte
	dir   string
	fsys  fs.FS
}

// covers reports whether rel (a path in the dir packed) is replaced by ov.
func (ov overlay) covers(rel string) bool {
	for _, e := range ov {
		if rel == e.path || strings.HasPrefix(rel, e.path+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// packEntry is one file or directory of a tree being packed.
type packEntry struct {
	fsys fs.FS // where path is; nil for the local file system
	path string
	h    *zip.FileHeader
	// parallel: a regular file small enough to be compressed whole in
	// memory, on a goroutine of its own.
	parallel bool
}

// packed is a file compressed ahead of its turn.
type packed struct {
	data []byte
	crc  uint32
	size uint64
	err  error
}

// maxParallelFile bounds a file compressed in memory; a larger one is
// compressed in its turn, streaming. With 2*GOMAXPROCS files in flight,
// packing holds at most that many of them.
const maxParallelFile = 8 << 20

// flateWriters are the deflate writers of each level packDirLevel uses.
var flateWriters = map[int]*sync.Pool{
	flate.DefaultCompression: flatePool(flate.DefaultCompression),
	flate.BestSpeed:          flatePool(flate.BestSpeed),
}

func flatePool(level int) *sync.Pool {
	return &sync.Pool{New: func() any {
		w, _ := flate.NewWriter(nil, level)
		return w
	}}
}

// writeZip writes the tree under dir as a zip. Files are compressed on
// every core, ahead of their turn, and written in the walk's order.
func writeZip(w io.Writer, dir string, ov overlay, level int) error {
	entries, err := walkPack(dir, "", ov.covers)
	if err != nil {
		return fmt.Errorf("packing %s: %w", dir, err)
	}
	var files []overlayEntry
	for _, e := range ov {
		switch {
		case e.dir != "":
			more, err := walkPack(e.dir, e.path, nil)
			if err != nil {
				return fmt.Errorf("packing %s (Config.%s): %w", e.dir, e.field, err)
			}
			entries = append(entries, more...)
		case e.fsys != nil:
			more, err := walkFS(e.fsys, e.path)
			if err != nil {
				return fmt.Errorf("packing Config.%s: %w", e.field, err)
			}
			entries = append(entries, more...)
		default:
			files = append(files, e)
		}
	}
	workers := 2 * runtime.GOMAXPROCS(0)
	order := make(chan chan packed, workers)
	done := make(chan struct{})
	defer close(done)
	go func() {
		defer close(order)
		sem := make(chan struct{}, workers)
		for _, e := range entries {
			if !e.parallel {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-done:
				return
			}
			ch := make(chan packed, 1)
			go func() { ch <- compressFile(e.fsys, e.path, level); <-sem }()
			select {
			case order <- ch:
			case <-done:
				return
			}
		}
	}()

	zw := zip.NewWriter(w)
	if level != flate.DefaultCompression {
		zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(out, level)
		})
	}
	for _, e := range entries {
		if err := writeEntry(zw, e, order); err != nil {
			return fmt.Errorf("packing %s: %w", e.path, err)
		}
	}
	slices.SortFunc(files, func(a, b overlayEntry) int { return strings.Compare(a.path, b.path) })
	for _, f := range files {
		h := &zip.FileHeader{Name: filepath.ToSlash(f.path), Modified: time.Now(), Method: zip.Deflate}
		h.SetMode(0o600)
		zf, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		if _, err := zf.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// walkPack lists the tree under dir, named prefix/<its path in dir>, but
// for what skip says is replaced.
func walkPack(dir, prefix string, skip func(rel string) bool) ([]packEntry, error) {
	var entries []packEntry
	if prefix != "" {
		st, err := os.Stat(dir)
		if err != nil {
			return nil, err
		}
		entries = append(entries, dirEntry(prefix, st))
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if skip != nil && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode()
		if mode&(fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice) != 0 {
			return nil // a FIFO would block the read, as in ansible-runner
		}
		h := &zip.FileHeader{Name: filepath.ToSlash(filepath.Join(prefix, rel)), Modified: info.ModTime().In(time.Local)}
		h.SetMode(mode)
		if mode.IsDir() {
			h.Name += "/"
		}
		entries = append(entries, packEntry{path: p, h: h, parallel: mode.IsRegular() && info.Size() <= maxParallelFile})
		return nil
	})
	return entries, err
}

func dirEntry(name string, st fs.FileInfo) packEntry {
	h := &zip.FileHeader{Name: filepath.ToSlash(name) + "/", Modified: st.ModTime().In(time.Local)}
	h.SetMode(fs.ModeDir | st.Mode().Perm())
	return packEntry{h: h}
}

// walkFS lists the tree of fsys, named prefix/<its path>: directories,
// regular files and, where fsys can read them, symlinks.
func walkFS(fsys fs.FS, prefix string) ([]packEntry, error) {
	var entries []packEntry
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if p == "." {
			if info.Mode().Perm() == 0 {
				info = dirInfo{info} // an embed.FS has no modes
			}
			entries = append(entries, dirEntry(prefix, info))
			return nil
		}
		mode := info.Mode()
		switch {
		case mode.IsDir(), mode.IsRegular():
		case mode&fs.ModeSymlink != 0:
			if _, err := fs.ReadLink(fsys, p); err != nil {
				return nil
			}
		default:
			return nil
		}
		if mode.Perm() == 0 { // an embed.FS's files are read-only, without modes
			mode |= 0o444
			if mode.IsDir() {
				mode |= 0o311
			}
		}
		h := &zip.FileHeader{Name: path.Join(filepath.ToSlash(prefix), p), Modified: info.ModTime().In(time.Local)}
		h.SetMode(mode)
		if mode.IsDir() {
			h.Name += "/"
		}
		entries = append(entries, packEntry{fsys: fsys, path: p, h: h, parallel: mode.IsRegular() && info.Size() <= maxParallelFile})
		return nil
	})
	return entries, err
}

// dirInfo is a directory's info with mode 0755.
type dirInfo struct{ fs.FileInfo }

func (d dirInfo) Mode() fs.FileMode { return fs.ModeDir | 0o755 }

func writeEntry(zw *zip.Writer, e packEntry, order <-chan chan packed) error {
	h, mode := e.h, e.h.Mode()
	switch {
	case mode.IsDir():
		_, err := zw.CreateHeader(h)
		return err
	case mode&fs.ModeSymlink != 0:
		target, err := readLink(e.fsys, e.path)
		if err != nil {
			return err
		}
		zf, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = io.WriteString(zf, target)
		return err
	case e.parallel:
		p := <-<-order
		if p.err != nil {
			return p.err
		}
		h.Method = zip.Deflate
		h.CRC32, h.UncompressedSize64, h.CompressedSize64 = p.crc, p.size, uint64(len(p.data))
		// CreateRaw writes the header as it is: the MS-DOS time fields
		// are filled here (local wall time, as CreateHeader and Python
		// write them).
		h.ModifiedTime, h.ModifiedDate = dosTime(h.Modified)
		zf, err := zw.CreateRaw(h)
		if err != nil {
			return err
		}
		_, err = zf.Write(p.data)
		return err
	}
	h.Method = zip.Deflate
	src, err := open(e.fsys, e.path)
	if err != nil {
		return err
	}
	defer src.Close()
	zf, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(zf, src)
	return err
}

// dosTime is t as MS-DOS time and date fields, in t's own location.
func dosTime(t time.Time) (tm, date uint16) {
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, t.Location())
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return tm, date
}

// compressFile deflates the file at path whole, as zip's writer would.
func compressFile(fsys fs.FS, path string, level int) packed {
	var data []byte
	var err error
	if fsys != nil {
		data, err = fs.ReadFile(fsys, path)
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return packed{err: err}
	}
	var buf bytes.Buffer
	pool := flateWriters[level]
	fw := pool.Get().(*flate.Writer)
	defer pool.Put(fw)
	fw.Reset(&buf)
	fw.Write(data)
	if err := fw.Close(); err != nil {
		return packed{err: err}
	}
	return packed{data: buf.Bytes(), crc: crc32.ChecksumIEEE(data), size: uint64(len(data))}
}

func open(fsys fs.FS, path string) (io.ReadCloser, error) {
	if fsys != nil {
		return fsys.Open(path)
	}
	return os.Open(path)
}

func readLink(fsys fs.FS, path string) (string, error) {
	if fsys != nil {
		return fs.ReadLink(fsys, path)
	}
	return os.Readlink(path)
}

// ErrUnsafeEntry is matched by the error of a zip entry that would reach
// outside the directory it is unpacked into: an absolute name, a name with
// "..", a symlink pointing out, or a file written through one.
var ErrUnsafeEntry = errors.New("zip entry reaches outside its directory")

// ErrTooLarge is matched by the error of a zip that unpacks to more bytes or
// entries than Limits allow.
var ErrTooLarge = errors.New("zip exceeds the unpack limits")

// unpack extracts the zip in f (size bytes) into dir, which it creates
// (0700) if need be, as ansible-runner does: modes and mtimes restored,
// symlinks recreated, an existing symlink or FIFO replaced, existing
// directories kept as they are. Nothing is written outside dir: every path
// is resolved within it (os.Root), so a symlink that points out cannot be
// written through.
func unpack(f *os.File, size int64, dir string, l Limits) error {
	l = l.withDefaults()
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return fmt.Errorf("not a zip: %w", err)
	}
	if len(zr.File) > l.MaxEntries {
		return fmt.Errorf("%d entries, more than %d (Limits.MaxEntries): %w", len(zr.File), l.MaxEntries, ErrTooLarge)
	}
	var total uint64
	for _, zf := range zr.File {
		total += zf.UncompressedSize64
		if total > uint64(l.MaxUnpacked) {
			return fmt.Errorf("unpacks to more than %d bytes (Limits.MaxUnpacked): %w", l.MaxUnpacked, ErrTooLarge)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer root.Close()
	budget := l.MaxUnpacked
	type dirMode struct {
		name  string
		mode  fs.FileMode
		mtime time.Time
	}
	var dirs []dirMode
	var parents parentRoot
	defer parents.close()
	made := map[string]bool{} // directories known to exist
	for _, zf := range zr.File {
		name := strings.TrimSuffix(zf.Name, "/")
		if !filepath.IsLocal(name) || strings.Contains(zf.Name, `\`) {
			return fmt.Errorf("%q: %w", zf.Name, ErrUnsafeEntry)
		}
		mode, mtime := zf.Mode(), modTime(zf)
		parent, base := filepath.Dir(name), filepath.Base(name)
		if parent != "." && !made[parent] {
			if err := root.MkdirAll(parent, 0o700); err != nil {
				return entryError(zf.Name, err)
			}
			made[parent] = true
		}
		dr, err := parents.open(root, parent)
		if err != nil {
			return entryError(zf.Name, err)
		}
		existing, lerr := dr.Lstat(base)
		switch {
		case mode.IsDir() || strings.HasSuffix(zf.Name, "/"):
			if lerr == nil && existing.IsDir() {
				continue // pre-created; kept as it is
			}
			if err := dr.Mkdir(base, 0o700); err != nil {
				return entryError(zf.Name, err)
			}
			made[name] = true
			dirs = append(dirs, dirMode{name, mode.Perm(), mtime})
			continue
		case lerr == nil && existing.Mode()&fs.ModeNamedPipe != 0:
			// A FIFO is left by a crashed run (ssh_key_data): removed and
			// not replaced, as ansible-runner does.
			dr.Remove(base)
			continue
		case lerr == nil && existing.IsDir():
			continue
		case lerr == nil && (existing.Mode()&fs.ModeSymlink != 0 || mode&fs.ModeSymlink != 0):
			if err := dr.Remove(base); err != nil {
				return entryError(zf.Name, err)
			}
		}
		if mode&fs.ModeSymlink != 0 {
			target, err := readSmall(zf, 4096)
			if err != nil {
				return entryError(zf.Name, err)
			}
			if filepath.IsAbs(target) || !filepath.IsLocal(filepath.Join(filepath.Dir(name), target)) {
				return fmt.Errorf("%q: symlink to %q: %w", zf.Name, target, ErrUnsafeEntry)
			}
			if err := dr.Symlink(target, base); err != nil {
				return entryError(zf.Name, err)
			}
			continue
		}
		perm := mode.Perm()
		if perm == 0 {
			perm = 0o600 // an archiver that records no mode
		}
		n, err := extractFile(dr, zf, base, budget, perm, mtime)
		if err != nil {
			return err
		}
		budget -= n
	}
	// Last, so that a read-only directory did not stop its own entries.
	for _, d := range slices.Backward(dirs) {
		if d.mode != 0 {
			root.Chmod(d.name, d.mode|0o700)
		}
		root.Chtimes(d.name, d.mtime, d.mtime)
	}
	return nil
}

// parentRoot keeps the directory the last file went into open, so that
// each file of a directory costs one openat rather than one per component
// of its path (entries come grouped by directory).
type parentRoot struct {
	dir string
	r   *os.Root
}

func (p *parentRoot) open(root *os.Root, dir string) (*os.Root, error) {
	if dir == "." {
		return root, nil
	}
	if p.r != nil && p.dir == dir {
		return p.r, nil
	}
	r, err := root.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	p.close()
	p.dir, p.r = dir, r
	return r, nil
}

func (p *parentRoot) close() {
	if p.r != nil {
		p.r.Close()
		p.r = nil
	}
}

// extractFile writes the entry zf as name in dir, with its mode and mtime
// set on the open file.
func extractFile(dir *os.Root, zf *zip.File, name string, budget int64, perm fs.FileMode, mtime time.Time) (int64, error) {
	src, err := zf.Open()
	if err != nil {
		return 0, entryError(zf.Name, err)
	}
	defer src.Close()
	dst, err := dir.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		if strings.Contains(err.Error(), "escapes") || errors.Is(err, fs.ErrPermission) && !filepath.IsLocal(name) {
			return 0, fmt.Errorf("%q: %w", zf.Name, ErrUnsafeEntry)
		}
		return 0, entryError(zf.Name, err)
	}
	n, err := io.Copy(dst, io.LimitReader(src, budget+1))
	if err == nil {
		err = dst.Chmod(perm)
	}
	if err == nil {
		tv := unix.NsecToTimeval(mtime.UnixNano())
		err = unix.Futimes(int(dst.Fd()), []unix.Timeval{tv, tv})
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, entryError(zf.Name, err)
	}
	if n > budget {
		return n, fmt.Errorf("%q: unpacks to more than its stated size: %w", zf.Name, ErrTooLarge)
	}
	return n, nil
}

// modTime is the entry's mtime. Without an extended timestamp a zip holds
// local wall time, which Go reads as UTC and ansible-runner as local time.
func modTime(zf *zip.File) time.Time {
	t := zf.Modified
	if t.Location() == time.UTC {
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.Local)
	}
	return t
}

func readSmall(zf *zip.File, max int64) (string, error) {
	r, err := zf.Open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return "", err
	}
	if int64(len(b)) > max {
		return "", fmt.Errorf("symlink target longer than %d bytes", max)
	}
	return string(b), nil
}

func entryError(name string, err error) error {
	if strings.Contains(err.Error(), "path escapes") {
		return fmt.Errorf("%q: %w", name, ErrUnsafeEntry)
	}
	return fmt.Errorf("zip entry %q: %w", name, err)
}
