package prompt

// stripper removes ANSI escape sequences and arunner's event tokens from a
// raw pty stream, incrementally: any sequence may be split across calls.
//
// An event token is what the regular expression
// \x1b\[K((?:[A-Za-z0-9+/=]+\x1b\[\d+D)+)\x1b\[K matches; the stripper
// recognises exactly that shape (and nothing looser) so that base64-looking
// words of real output are kept. Once a candidate token deviates from the
// shape, the base64 text seen so far is released as ordinary text, which is
// what scanning with that regular expression would leave behind.
//
// Carriage returns are normalised: "\r\n" becomes "\n" and a lone "\r"
// (the cursor going back to the start of the line) also starts a new line.
type stripper struct {
	state int
	// csi holds the parameter and intermediate bytes of the escape sequence
	// being parsed; long sequences are abandoned, see maxCSI.
	csi []byte
	// cr is set when the previous text byte was '\r'.
	cr bool

	// inTok is set after an ESC[K that may open an event token.
	inTok bool
	// tokText holds the base64 bytes of the candidate token, to be released
	// if it turns out not to be one.
	tokText []byte
	// segLen counts base64 bytes since the last ESC[<n>D; segs counts
	// completed ESC[<n>D-terminated segments.
	segLen, segs int
}

const (
	stText   = iota
	stEsc    // after ESC
	stEscInt // after ESC and intermediate bytes, as in ESC ( B
	stCSI    // after ESC [
	stOSC    // after ESC ]: ends with BEL or ESC \
	stOSCEsc
)

// maxCSI bounds an escape sequence; a longer one is not a real terminal
// control sequence, so it is dropped and parsing resumes as text.
const maxCSI = 64

// maxTokHeld bounds the candidate token text kept for release. Only the tail
// can ever reach the match window, and base64 holds no newline, so dropping
// the head loses nothing a rule could match that the window would keep.
const maxTokHeld = 2 * windowSize

func isBase64(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '='
}

// strip appends the visible text of p to dst and returns it.
func (s *stripper) strip(dst, p []byte) []byte {
	for i := 0; i < len(p); i++ {
		b := p[i]
		switch s.state {
		case stText:
			if s.inTok {
				if isBase64(b) {
					s.tokText = append(s.tokText, b)
					s.segLen++
					if len(s.tokText) > maxTokHeld {
						n := copy(s.tokText, s.tokText[len(s.tokText)-windowSize:])
						s.tokText = s.tokText[:n]
					}
					continue
				}
				if b == 0x1b {
					s.state = stEsc
					continue
				}
				dst = s.release(dst)
			}
			// Fast path: copy the run of plain bytes in one go.
			j := i
			for j < len(p) && p[j] != 0x1b && p[j] != '\r' {
				j++
			}
			if j > i {
				if s.cr {
					s.cr = false
					if p[i] != '\n' {
						dst = append(dst, '\n')
					}
				}
				dst = append(dst, p[i:j]...)
				i = j - 1
				continue
			}
			if s.cr {
				s.cr = false
				dst = append(dst, '\n')
			}
			if b == '\r' {
				s.cr = true
				continue
			}
			s.state = stEsc // b is ESC
		case stEsc:
			switch {
			case b == '[':
				s.state = stCSI
				s.csi = s.csi[:0]
			case b == ']':
				dst = s.release(dst)
				s.state = stOSC
			case b == 0x1b:
				// A repeated ESC restarts the sequence.
			case b < 0x20 || b == 0x7f:
				// Not a sequence after all: drop the ESC, keep the control.
				s.state = stText
				i--
			case b < 0x30:
				dst = s.release(dst)
				s.state = stEscInt
			default:
				// A two-byte escape (charset selection, keypad mode...).
				dst = s.release(dst)
				s.state = stText
			}
		case stEscInt:
			switch {
			case b >= 0x30 && b <= 0x7e:
				s.state = stText
			case b < 0x20 || b == 0x7f:
				s.state = stText
				i--
			}
		case stCSI:
			switch {
			case b >= 0x40 && b <= 0x7e:
				s.state = stText
				dst = s.endCSI(dst, b)
			case b >= 0x20 && b <= 0x3f && len(s.csi) < maxCSI:
				s.csi = append(s.csi, b)
			default:
				// Malformed: abandon the sequence, reprocess the byte as text.
				dst = s.release(dst)
				s.state = stText
				i--
			}
		case stOSC:
			if b == 0x07 {
				s.state = stText
			} else if b == 0x1b {
				s.state = stOSCEsc
			}
		case stOSCEsc:
			if b == '\\' {
				s.state = stText
			} else {
				s.state = stOSC
			}
		}
	}
	return dst
}

// endCSI handles a complete ESC [ params final sequence: it never produces
// text itself, but it opens, continues, closes or breaks an event token.
func (s *stripper) endCSI(dst []byte, final byte) []byte {
	plainK := final == 'K' && len(s.csi) == 0
	if s.inTok {
		switch {
		case final == 'D' && s.segLen > 0 && allDigits(s.csi):
			s.segLen = 0
			s.segs++
			return dst
		case plainK && s.segLen == 0 && s.segs > 0:
			s.resetTok()
			s.inTok = false
			return dst
		}
		dst = s.release(dst)
	}
	if plainK {
		s.inTok = true
	}
	return dst
}

// release gives up on the candidate token: its base64 text is ordinary text.
func (s *stripper) release(dst []byte) []byte {
	if !s.inTok {
		return dst
	}
	dst = append(dst, s.tokText...)
	s.resetTok()
	s.inTok = false
	return dst
}

func (s *stripper) resetTok() {
	s.tokText = s.tokText[:0]
	s.segLen, s.segs = 0, 0
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
