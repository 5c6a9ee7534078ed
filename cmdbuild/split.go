package cmdbuild

import "strings"

// Split splits a command line the way Python's shlex.split does in its
// default POSIX mode, which is how ansible-runner reads env/cmdline and the
// private data dir's top-level args file:
//
//   - space, tab, CR and LF separate tokens;
//   - single quotes keep everything literally;
//   - double quotes keep everything literally except that a backslash
//     escapes a following '"' or '\' (before any other byte it stays);
//   - outside quotes a backslash makes the next byte literal, including a
//     newline (there is no line continuation);
//   - "#", "$", "`", "~" and globs have no meaning, and adjacent quoted and
//     bare parts join into one token ("a"'b'c is abc); "" is an empty token.
//
// An unterminated quote or a trailing backslash is a *SplitError wrapping
// ErrUnterminatedQuote or ErrTrailingBackslash.
func Split(s string) ([]string, error) {
	var (
		tokens []string
		tok    strings.Builder
		inTok  bool // a token has started, even if it is still empty ("")
	)
	// Every special byte is ASCII, so scanning bytes leaves UTF-8 (and even
	// invalid UTF-8) intact inside tokens.
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			if inTok {
				tokens = append(tokens, tok.String())
				tok.Reset()
				inTok = false
			}
		case '\\':
			if i+1 == len(s) {
				return nil, &SplitError{Offset: i, Err: ErrTrailingBackslash}
			}
			i++
			tok.WriteByte(s[i])
			inTok = true
		case '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, &SplitError{Offset: i, Err: ErrUnterminatedQuote}
			}
			tok.WriteString(s[i+1 : i+1+end])
			i += end + 1
			inTok = true
		case '"':
			start := i
			for i++; ; i++ {
				if i == len(s) {
					return nil, &SplitError{Offset: start, Err: ErrUnterminatedQuote}
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '\\' {
					if i+1 == len(s) {
						// shlex reports the dangling escape before the
						// missing quote.
						return nil, &SplitError{Offset: i, Err: ErrTrailingBackslash}
					}
					if n := s[i+1]; n == '"' || n == '\\' {
						i++
					}
				}
				tok.WriteByte(s[i])
			}
			inTok = true
		default:
			tok.WriteByte(c)
			inTok = true
		}
	}
	if inTok {
		tokens = append(tokens, tok.String())
	}
	return tokens, nil
}
