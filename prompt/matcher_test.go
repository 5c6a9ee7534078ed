package prompt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "s3cr3t-R3sp0nse"

// token frames payload the way arunner's callback plugin does: ESC[K, then
// each base64 slice of at most 78 bytes followed by ESC[<len>D, then ESC[K.
func token(payload string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(payload))
	var b strings.Builder
	b.WriteString("\x1b[K")
	for len(enc) > 0 {
		n := min(78, len(enc))
		fmt.Fprintf(&b, "%s\x1b[%dD", enc[:n], n)
		enc = enc[n:]
	}
	b.WriteString("\x1b[K")
	return b.String()
}

func beginTok(i int) string {
	return token(fmt.Sprintf(`{"uuid": "36828247-1ace-4b68-b489-1ac1a558%04d"}`, i))
}

var endTok = token("{}")

func mustRules(t testing.TB, pairs ...Pair) []Rule {
	t.Helper()
	rules, err := Compile(pairs)
	require.NoError(t, err)
	return rules
}

func stripAll(chunks ...string) string {
	var s stripper
	var out []byte
	for _, c := range chunks {
		out = s.strip(out, []byte(c))
	}
	return string(out)
}

func TestTokenFraming(t *testing.T) {
	// The exact bytes from the reference callback (ansible-runner.md §3.1).
	assert.Equal(t, "\x1b[Ke30=\x1b[4D\x1b[K", endTok)
	long := token(strings.Repeat("x", 200))
	assert.Regexp(t, `^\x1b\[K((?:[A-Za-z0-9+/=]+\x1b\[\d+D)+)\x1b\[K$`, long)
	assert.Len(t, regexp.MustCompile(`\x1b\[\d+D`).FindAllString(long, -1), 4, "200 bytes -> 268 base64 chars -> 4 slices")
}

func TestStrip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello world\n", "hello world\n"},
		{"colors", "\x1b[0;32mok: [localhost]\x1b[0m\n", "ok: [localhost]\n"},
		{"begin and end token", beginTok(1) + "TASK [x] ***\n" + endTok, "TASK [x] ***\n"},
		{"multi-slice token", token(strings.Repeat("y", 300)) + "after", "after"},
		{"adjacent tokens", endTok + beginTok(2) + "text", "text"},
		{"crlf", "a\r\nb\r\n", "a\nb\n"},
		{"lone cr starts a line", "50%\r100%", "50%\n100%"},
		{"erase then words is text", "\x1b[KPassword: ", "Password: "},
		{"erase then base64-ish word then color", "\x1b[Kabc\x1b[1mdef", "abcdef"},
		{"segment not closed by erase", "\x1b[Kabc\x1b[3Dxyz:", "abcxyz:"},
		{"erase erase token", "\x1b[K\x1b[Kabc\x1b[3D\x1b[Kz", "z"},
		{"token param must be digits", "\x1b[Kabc\x1b[3;1D\x1b[Kz:", "abcz:"},
		{"erase with param is not a token start", "\x1b[0Kabc\x1b[3D\x1b[Kz:", "abcz:"},
		{"osc title", "\x1b]0;title\x07after", "after"},
		{"osc st", "\x1b]0;title\x1b\\after", "after"},
		{"two-byte escape", "\x1b=x", "x"},
		{"charset escape", "\x1b(Bx", "x"},
		{"held base64 after erase is released by a non-base64 byte", "\x1b[Kabc", ""},
		{"esc before newline", "a\x1b\nb", "a\nb"},
		{"malformed csi", "a\x1b[12\nb", "a\nb"},
		{"token then prompt same line", beginTok(3) + "Vault password: ", "Vault password: "},
		{"utf-8 kept", "héllo → ✓\n", "héllo → ✓\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, stripAll(tc.in), "whole")
			// Every split into two chunks, and byte by byte, gives the same text.
			for i := 0; i <= len(tc.in); i++ {
				require.Equal(t, tc.want, stripAll(tc.in[:i], tc.in[i:]), "split at %d", i)
			}
			bytewise := make([]string, len(tc.in))
			for i := 0; i < len(tc.in); i++ {
				bytewise[i] = tc.in[i : i+1]
			}
			assert.Equal(t, tc.want, stripAll(bytewise...), "byte by byte")
		})
	}
}

func TestStripMatchesReferenceRegex(t *testing.T) {
	// The stripper must remove exactly what the reference's token regex
	// removes, plus colors; compare on a mixed stream.
	tokenRE := regexp.MustCompile(`\x1b\[K((?:[A-Za-z0-9+/=]+\x1b\[\d+D)+)\x1b\[K`)
	colorRE := regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	in := beginTok(1) + "\x1b[0;33mchanged: [h1]\x1b[0m\r\n" + endTok +
		"\x1b[Kplain erase\r\n" + beginTok(2) + "\x1b[Kabc\x1b[3Dnot a token\r\n" + endTok
	want := strings.ReplaceAll(colorRE.ReplaceAllString(tokenRE.ReplaceAllString(in, ""), ""), "\r\n", "\n")
	assert.Equal(t, want, stripAll(in))
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name  string
		pairs []Pair
		index int
		is    error
	}{
		{"empty pattern", []Pair{{`ok:`, secret}, {``, secret}}, 1, ErrEmptyPattern},
		{"unbalanced", []Pair{{`(Vault password`, secret}}, 0, ErrBadPattern},
		{"python lookahead", []Pair{{`a`, "x"}, {`b`, "y"}, {`pass(?=word)`, secret}}, 2, ErrBadPattern},
		{"newline in response", []Pair{{`SSH password:`, "abc\n" + secret}}, 0, ErrResponseNewline},
		{"cr in response", []Pair{{`SSH password:`, secret + "\r"}}, 0, ErrResponseNewline},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules, err := Compile(tc.pairs)
			require.Error(t, err)
			assert.Nil(t, rules)
			assert.ErrorIs(t, err, tc.is)
			var pe *PatternError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.index, pe.Index)
			assert.Equal(t, tc.pairs[tc.index].Pattern, pe.Pattern)
			assert.Contains(t, err.Error(), fmt.Sprintf("pattern %d ", tc.index))
			assert.NotContains(t, err.Error(), secret)
			assert.NotContains(t, err.Error(), "(?m)", "syntax error is about the caller's pattern")
			if tc.is == ErrBadPattern {
				var se *syntax.Error
				assert.ErrorAs(t, err, &se)
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	pairs := []Pair{{`Vault password:\s*?$`, secret}}
	rules := mustRules(t, pairs...)
	m := NewMatcher(rules)
	for _, v := range []any{pairs[0], pairs, rules[0], rules, m, *m} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, "%s of %T", verb, v)
		}
	}
	assert.Contains(t, rules[0].String(), `Vault password:`)
	assert.Contains(t, fmt.Sprintf("%v", m), "1 rules")
}

func TestFeedChunking(t *testing.T) {
	// A realistic stream: task output with tokens and colors, then a prompt
	// preceded on its line by a begin token, matched by an anchored pattern.
	stream := beginTok(1) + "\r\nTASK [read vaulted] \x1b[0;32m****\x1b[0m\r\n" + endTok +
		beginTok(2) + "\x1b[1;35mVault password: \x1b[0m"
	rules := mustRules(t, Pair{`^Vault password:\s*?$`, secret})
	want := [][]byte{[]byte(secret + "\n")}

	feed := func(chunks ...string) [][]byte {
		m := NewMatcher(rules)
		var got [][]byte
		for _, c := range chunks {
			got = append(got, m.Feed([]byte(c))...)
		}
		assert.Empty(t, m.Pending(), "answered prompt is not pending")
		return got
	}
	assert.Equal(t, want, feed(stream))
	for i := 0; i <= len(stream); i++ {
		require.Equal(t, want, feed(stream[:i], stream[i:]), "split at %d", i)
	}
	for i := 0; i <= len(stream); i++ {
		for j := i; j <= len(stream); j += 7 {
			require.Equal(t, want, feed(stream[:i], stream[i:j], stream[j:]), "split at %d,%d", i, j)
		}
	}
	bytewise := make([]string, len(stream))
	for i := 0; i < len(stream); i++ {
		bytewise[i] = stream[i : i+1]
	}
	assert.Equal(t, want, feed(bytewise...))
}

func TestFeedAnchoredNeedsStripping(t *testing.T) {
	// Why tokens are stripped first: with the token left in place, the
	// anchored pattern the reference documents as hanging cannot match.
	line := beginTok(5) + "Enter the secret: "
	re := regexp.MustCompile(`(?m)^Enter the secret.*:\s*?$`)
	assert.False(t, re.MatchString(line), "raw text must not match, or this test proves nothing")
	m := NewMatcher(mustRules(t, Pair{`^Enter the secret.*:\s*?$`, secret}))
	assert.Equal(t, [][]byte{[]byte(secret + "\n")}, m.Feed([]byte(line)))
}

func TestFeedSequence(t *testing.T) {
	rules := mustRules(t,
		Pair{`SSH password:\s*?$`, "ssh-pass"},
		Pair{`BECOME password.*:\s*?$`, "become-pass"},
		Pair{`Vault password:\s*?$`, "vault-pass"},
	)
	steps := []struct {
		name  string
		in    string
		want  []string
		pendg string
	}{
		{"first prompt", beginTok(1) + "SSH password: ", []string{"ssh-pass"}, ""},
		{"echoed newline", "\r\n", nil, ""},
		{"second prompt colored", "\x1b[0;31mBECOME password[defaults to SSH password]: \x1b[0m", []string{"become-pass"}, ""},
		{"tokens only add nothing", endTok + beginTok(2), nil, ""},
		{"colors only add nothing", "\x1b[0m\x1b[K", nil, ""},
		{"spaces after answer", "   ", nil, ""},
		{"output", "\r\nPLAY [all] ****\r\nok: [h1]\r\n", nil, ""},
		{"two prompts in one read, answered in order", "Vault password: \r\nSSH password: ", []string{"vault-pass", "ssh-pass"}, ""},
		{"same prompt again is a new occurrence", "\r\nSSH password: ", []string{"ssh-pass"}, ""},
		{"unknown prompt", "\r\nEnter the secret: ", nil, "Enter the secret:"},
		{"question", "\r\nAre you sure you want to continue connecting (yes/no/[fingerprint])? ", nil,
			"Are you sure you want to continue connecting (yes/no/[fingerprint])?"},
		{"plain output clears pending", "\r\nok: [localhost]", nil, ""},
		{"a line ending in a colon", "\r\nTASK [x]:", nil, "TASK [x]:"},
		{"terminated line", "\r\n", nil, ""},
	}
	m := NewMatcher(rules)
	for _, s := range steps {
		got := m.Feed([]byte(s.in))
		var gotS []string
		for _, a := range got {
			require.True(t, bytes.HasSuffix(a, []byte("\n")), s.name)
			gotS = append(gotS, strings.TrimSuffix(string(a), "\n"))
		}
		assert.Equal(t, s.want, gotS, s.name)
		assert.Equal(t, s.pendg, m.Pending(), s.name)
	}
}

func TestFeedWindow(t *testing.T) {
	rules := mustRules(t, Pair{`Vault password:\s*?$`, secret})
	t.Run("prompt after long unterminated output", func(t *testing.T) {
		// ansible-runner only looks at the last 100 characters of pexpect's
		// buffer; here the prompt is the last thing and must be found even
		// though a huge read precedes it.
		m := NewMatcher(rules)
		in := strings.Repeat("x", 3*windowSize) + " Vault password: "
		assert.Len(t, m.Feed([]byte(in)), 1)
	})
	t.Run("prompt in the middle of a large read", func(t *testing.T) {
		m := NewMatcher(mustRules(t, Pair{`Vault password:`, secret}))
		in := "Vault password: \n" + strings.Repeat("y\n", 3*windowSize)
		assert.Len(t, m.Feed([]byte(in)), 1)
		assert.LessOrEqual(t, len(m.win), windowSize)
	})
	t.Run("prompt split across reads beyond the window", func(t *testing.T) {
		m := NewMatcher(rules)
		assert.Empty(t, m.Feed([]byte(strings.Repeat("z\n", windowSize)+"Vault pass")))
		assert.Len(t, m.Feed([]byte("word: ")), 1)
	})
	t.Run("window stays bounded", func(t *testing.T) {
		m := NewMatcher(rules)
		for range 100 {
			m.Feed([]byte(strings.Repeat("line of output\r\n", 100)))
			require.LessOrEqual(t, len(m.win), windowSize)
		}
		assert.Equal(t, byte('l'), m.win[0], "trimmed at a line start")
	})
}

func TestFeedZeroLengthMatches(t *testing.T) {
	// A pattern that can match empty text answers only a real occurrence.
	m := NewMatcher(mustRules(t, Pair{`(?:Password:)?`, secret}))
	assert.Empty(t, m.Feed([]byte("hello\n")))
	assert.Len(t, m.Feed([]byte("Password: ")), 1)
	assert.Empty(t, m.Feed([]byte(" ")))
}

func TestNoRules(t *testing.T) {
	m := NewMatcher(nil)
	assert.Empty(t, m.Feed([]byte(beginTok(1)+"Enter the secret: ")))
	assert.Equal(t, "Enter the secret:", m.Pending())
	m = NewMatcher([]Rule{{Response: secret}}) // nil pattern is ignored, not a panic
	assert.Empty(t, m.Feed([]byte("x: ")))
}

func TestZeroMatcher(t *testing.T) {
	var m Matcher
	assert.Empty(t, m.Pending())
	assert.Empty(t, m.Feed([]byte("Enter the secret: ")))
	assert.Equal(t, "Enter the secret:", m.Pending())
}

func TestErrorsIsSentinel(t *testing.T) {
	_, err := Compile([]Pair{{"", ""}})
	assert.True(t, errors.Is(err, ErrEmptyPattern))
	assert.False(t, errors.Is(err, ErrBadPattern))
}

func TestFeedPrefilterAcrossReads(t *testing.T) {
	// The literal a rule needs ("BECOME password") arrives before the rest of
	// the match; every split must still answer exactly once, with the rule
	// that matches, after unrelated text mentioning the literal.
	rules := mustRules(t,
		Pair{`SSH password:\s*?$`, "ssh"},
		Pair{`BECOME password.*:\s*?$`, "become"},
	)
	stream := "msg: BECOME password is needed\r\n" + beginTok(1) +
		"\x1b[0;31mBECOME password[defaults to SSH password]: \x1b[0m"
	for i := 0; i <= len(stream); i++ {
		for j := i; j <= len(stream); j += 5 {
			m := NewMatcher(rules)
			var got [][]byte
			for _, c := range []string{stream[:i], stream[i:j], stream[j:]} {
				got = append(got, m.Feed([]byte(c))...)
			}
			require.Equal(t, [][]byte{[]byte("become\n")}, got, "split at %d,%d", i, j)
		}
	}
}
