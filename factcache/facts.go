package factcache

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/arunner/arunner/internal/atomicfile"
)

// Facts is one host's facts, as ansible's jsonfile cache plugin stores them: the
// top-level JSON object of the host's cache file. Numbers read from disk are
// json.Number so that they are written back exactly as ansible wrote them.
type Facts = map[string]any

// Record is one host's facts as a Store holds them.
type Record struct {
	Facts Facts
	// Modified is when the Store last saved these facts, by the Store's clock.
	// Restore compares it with Options.MaxAge; ansible's own mtime check never
	// sees it, because Restore writes fresh files.
	Modified time.Time
}

// maxHostLen is the longest file name Linux file systems accept (NAME_MAX).
const maxHostLen = 255

// ValidateHost returns a *HostError if host cannot be a jsonfile cache file
// name. ansible joins the directory and the host name with "/" unchecked, so a
// name containing "/" or NUL, or "." and "..", would read or write outside the
// directory. Names starting with "." are refused too: ansible's jsonfile plugin
// skips dot files when it lists the cache, so such a host's facts would be
// half-visible to ansible. Anything else (spaces, ":", non-ASCII) is a valid
// file name and is what ansible itself writes.
func ValidateHost(host string) error {
	var reason string
	switch {
	case host == "":
		reason = "empty name"
	case strings.ContainsRune(host, '/'):
		reason = `contains "/" (path traversal)`
	case strings.ContainsRune(host, 0):
		reason = "contains a NUL byte"
	case host == "." || host == "..":
		reason = "is a directory reference (path traversal)"
	case host[0] == '.':
		reason = `starts with "." (ansible's jsonfile cache ignores hidden files)`
	case len(host) > maxHostLen:
		reason = fmt.Sprintf("longer than %d bytes", maxHostLen)
	default:
		return nil
	}
	return &HostError{Host: host, Reason: reason}
}

// Get returns host's facts from the fact_cache directory dir, like
// ansible-runner's Runner.get_fact_cache: an empty, non-nil map when the host
// has no cache file. A file that is not a JSON object gives a *CorruptError.
func Get(dir, host string) (Facts, error) {
	if err := ValidateHost(host); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, host)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Facts{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("factcache: read facts of host %q: %w", host, err)
	}
	facts, err := decodeFacts(data)
	if err != nil {
		return nil, &CorruptError{Path: path, Host: host, Err: err}
	}
	return facts, nil
}

// Set replaces host's facts in the fact_cache directory dir, like
// ansible-runner's Runner.set_fact_cache, creating dir (0700) if needed. The
// file (0600) is replaced atomically, so a concurrent ansible never reads half
// of it, and is formatted as ansible's jsonfile plugin formats it.
func Set(dir, host string, facts Facts) error {
	if err := ValidateHost(host); err != nil {
		return err
	}
	data, err := encodeFacts(facts)
	if err != nil {
		return fmt.Errorf("factcache: encode facts of host %q: %w", host, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("factcache: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, host), data)
}

// decodeFacts parses a cache file: exactly one JSON object. Truncated files and
// trailing garbage are errors; ansible would fail on them too.
func decodeFacts(data []byte) (Facts, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var facts Facts
	if err := dec.Decode(&facts); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("truncated JSON after %d bytes", len(data))
		}
		return nil, err
	}
	if facts == nil {
		return nil, errors.New("not a JSON object (null)")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("trailing data after the JSON object at byte %d", dec.InputOffset())
	}
	return facts, nil
}

// encodeFacts writes facts the way ansible's jsonfile plugin does
// (json.dumps(sort_keys=True, indent=4)), so restored files look like the ones
// ansible leaves behind. Go sorts map keys; HTML escaping is off because
// Python does not do it.
func encodeFacts(facts Facts) ([]byte, error) {
	if facts == nil {
		facts = Facts{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "    ")
	if err := enc.Encode(facts); err != nil {
		return nil, err
	}
	return escapeNonASCII(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))), nil
}

// escapeNonASCII rewrites every non-ASCII character as \uXXXX (UTF-16, with
// surrogate pairs), as Python's json.dumps does by default (ensure_ascii), so
// Set and Restore write the bytes ansible itself would. In JSON text such
// characters only occur inside strings, where the escape means the same.
func escapeNonASCII(data []byte) []byte {
	i := bytes.IndexFunc(data, func(r rune) bool { return r >= utf8.RuneSelf })
	if i < 0 {
		return data
	}
	out := bytes.NewBuffer(make([]byte, 0, len(data)+32))
	out.Write(data[:i])
	for _, r := range string(data[i:]) {
		switch {
		case r < utf8.RuneSelf:
			out.WriteByte(byte(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(out, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}

// contentHash identifies facts by meaning, not by bytes: ansible re-serialises
// a host's facts whenever it sets them, and may format them differently from
// how Restore did, so raw bytes would report unchanged facts as updated.
func contentHash(facts Facts) ([sha256.Size]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(facts); err != nil {
		return [sha256.Size]byte{}, err
	}
	return sha256.Sum256(buf.Bytes()), nil
}

// writeFileAtomic replaces path with data, synced to disk, so readers see
// the old or the new content, never a mix, and a crash leaves only a hidden
// temporary file behind.
func writeFileAtomic(path string, data []byte) error {
	if err := atomicfile.Write(path, bytes.NewReader(data), 0o600, true); err != nil {
		return fmt.Errorf("factcache: %w", err)
	}
	return nil
}
