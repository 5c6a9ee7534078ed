package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds JSON nesting so a hostile frame cannot exhaust the stack.
const maxDepth = 10000

// errSyntax is wrapped with an offset by the scanner.
var errSyntax = errors.New("invalid JSON")

type scanError struct {
	off int
	msg string
}

func (e *scanError) Error() string { return "offset " + strconv.Itoa(e.off) + ": " + e.msg }
func (e *scanError) Unwrap() error { return errSyntax }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// skipValue validates the JSON value starting at b[i] (no leading space) and
// returns the offset just past it. It validates structure but does not build
// anything, which is what keeps event_data cheap.
func skipValue(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return i, &scanError{i, "unexpected end of input"}
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{':
		if depth > maxDepth {
			return i, &scanError{i, "nesting too deep"}
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return i, &scanError{i, "expected object key"}
			}
			var err error
			if i, err = skipString(b, i); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, &scanError{i, "expected ':'"}
			}
			i = skipSpace(b, i+1)
			if i, err = skipValue(b, i, depth+1); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				return i + 1, nil
			}
			return i, &scanError{i, "expected ',' or '}'"}
		}
	case c == '[':
		if depth > maxDepth {
			return i, &scanError{i, "nesting too deep"}
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = skipValue(b, i, depth+1); err != nil {
				return i, err
			}
			i = skipSpace(b, i)
			if i < len(b) && b[i] == ',' {
				i = skipSpace(b, i+1)
				continue
			}
			if i < len(b) && b[i] == ']' {
				return i + 1, nil
			}
			return i, &scanError{i, "expected ',' or ']'"}
		}
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	default:
		return i, &scanError{i, "unexpected character " + strconv.QuoteRune(rune(c))}
	}
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, &scanError{i, "invalid literal"}
	}
	return i + len(lit), nil
}

func skipNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > s
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if !digits() {
		return start, &scanError{start, "invalid number"}
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return start, &scanError{start, "invalid number"}
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return start, &scanError{start, "invalid number"}
		}
	}
	return i, nil
}

// skipString returns the offset just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	start := i
	i++
	for i < len(b) {
		c := b[i]
		if !strSpecial[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return start, &scanError{start, "unterminated string"}
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex4(b[i+2:i+6]) {
					return i, &scanError{i, "invalid \\u escape"}
				}
				i += 6
			default:
				return i, &scanError{i, "invalid escape"}
			}
		case c < 0x20:
			return i, &scanError{i, "control character in string"}
		default:
			i++
		}
	}
	return start, &scanError{start, "unterminated string"}
}

// strSpecial marks the bytes that end the fast path inside a JSON string.
var strSpecial = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return
}()

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// unquote turns a validated JSON string token into its Go value.
func unquote(tok []byte) string {
	return string(appendUnquote(nil, tok))
}

// appendUnquote appends the value of a JSON string token that skipString
// accepted, decoded exactly as encoding/json decodes it: a lone or
// mismatched UTF-16 surrogate and each byte of invalid UTF-8 become U+FFFD.
func appendUnquote(dst, tok []byte) []byte {
	s := tok[1 : len(tok)-1]
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\\' && s[i] < utf8.RuneSelf {
			i++
		}
		dst = append(dst, s[:i]...)
		s = s[i:]
		if len(s) == 0 {
			break
		}
		if s[0] >= utf8.RuneSelf {
			r, n := utf8.DecodeRune(s)
			if r == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[:n]...)
			}
			s = s[n:]
			continue
		}
		switch c := s[1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[2:6])
			s = s[6:]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					r2 = hex4(s[2:6])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					s = s[6:]
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		s = s[2:]
	}
	return dst
}

// hex4 decodes four hex digits that isHex4 accepted.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// forEachKey calls fn for each member of the JSON object in b with the raw
// key token and raw value. It stops early when fn returns false.
func forEachKey(b []byte, fn func(key, val []byte) bool) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return &scanError{i, "expected JSON object"}
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		if j := skipSpace(b, i+1); j != len(b) {
			return &scanError{j, "trailing data after object"}
		}
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return &scanError{i, "expected object key"}
		}
		ks := i
		var err error
		if i, err = skipString(b, i); err != nil {
			return err
		}
		key := b[ks:i]
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return &scanError{i, "expected ':'"}
		}
		i = skipSpace(b, i+1)
		vs := i
		if i, err = skipValue(b, i, 1); err != nil {
			return err
		}
		if !fn(key, b[vs:i]) {
			return nil
		}
		i = skipSpace(b, i)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
			continue
		}
		if i < len(b) && b[i] == '}' {
			if j := skipSpace(b, i+1); j != len(b) {
				return &scanError{j, "trailing data after object"}
			}
			return nil
		}
		return &scanError{i, "expected ',' or '}'"}
	}
}

// keyIs reports whether the raw key token equals name; event keys never need
// escapes, so an escaped key is compared after unquoting.
func keyIs(tok []byte, name string) bool {
	if len(tok) == len(name)+2 && string(tok[1:len(tok)-1]) == name {
		return true
	}
	if len(tok) > len(name)+2 && bytes.IndexByte(tok, '\\') >= 0 {
		return unquote(tok) == name
	}
	return false
}

// lookup returns the raw value of key in the JSON object obj.
func lookup(obj json.RawMessage, key string) (json.RawMessage, bool) {
	var out json.RawMessage
	found := false
	_ = forEachKey(obj, func(k, v []byte) bool {
		if keyIs(k, key) {
			out, found = v, true
			return false
		}
		return true
	})
	return out, found
}
