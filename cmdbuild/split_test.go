package cmdbuild

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// splitCases were checked against /usr/bin/python3's shlex.split while
// writing them; TestSplitMatchesPython re-checks them whenever Python is
// available.
var splitCases = []struct {
	in   string
	want []string
}{
	{"", nil},
	{"   \t\r\n ", nil},
	{"a b  c", []string{"a", "b", "c"}},
	{"a\tb\rc\nd", []string{"a", "b", "c", "d"}},
	{"--diff --limit 'web servers'", []string{"--diff", "--limit", "web servers"}},
	{`a\ b`, []string{"a b"}},
	{"a\\\nb", []string{"a\nb"}},
	{`"a\b"`, []string{`a\b`}},
	{`"a\"b"`, []string{`a"b`}},
	{`"a\\b"`, []string{`a\b`}},
	{`"a\$b"`, []string{`a\$b`}},
	{"\"\\\n\"", []string{"\\\n"}},
	{`'a\b'`, []string{`a\b`}},
	{`'it'"'"'s'`, []string{"it's"}},
	{`a""b`, []string{"ab"}},
	{`""`, []string{""}},
	{`a "" b`, []string{"a", "", "b"}},
	{`''`, []string{""}},
	{`"a"'b'c`, []string{"abc"}},
	{`\\`, []string{`\`}},
	{`\'`, []string{`'`}},
	{"a#b #c d", []string{"a#b", "#c", "d"}},
	{"$HOME ~ *.yml `x`", []string{"$HOME", "~", "*.yml", "`x`"}},
	{`é "ü x"`, []string{"é", "ü x"}},
	{`-e '{"a": 1}'`, []string{"-e", `{"a": 1}`}},
	{"a\x00b", []string{"a\x00b"}},
}

func TestSplit(t *testing.T) {
	for _, tt := range splitCases {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Split(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestSplitErrors(t *testing.T) {
	tests := []struct {
		in     string
		err    error
		offset int
	}{
		{`a\`, ErrTrailingBackslash, 1},
		{`"abc`, ErrUnterminatedQuote, 0},
		{`x 'abc`, ErrUnterminatedQuote, 2},
		{`"ab\`, ErrTrailingBackslash, 3},
		{`"ab\"`, ErrUnterminatedQuote, 0},
		{`ok "`, ErrUnterminatedQuote, 3},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Split(tt.in)
			assert.Nil(t, got)
			require.ErrorIs(t, err, tt.err)
			var se *SplitError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, tt.offset, se.Offset)
			assert.Contains(t, err.Error(), tt.err.Error())
		})
	}
}

// TestQuote pins the exact rendering; TestQuoteMatchesPython checks it is
// shlex.join's.
func TestQuote(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"ansible-playbook", "-i", "/pdd/inventory", "site.yml"}, "ansible-playbook -i /pdd/inventory site.yml"},
		{[]string{""}, "''"},
		{[]string{"a b"}, "'a b'"},
		{[]string{"it's"}, `'it'"'"'s'`},
		{[]string{"x@y%+=:,./-_Z9"}, "x@y%+=:,./-_Z9"},
		{[]string{"é", "$x", "~", "a\nb"}, "'é' '$x' '~' 'a\nb'"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Quote(tt.in), "Quote(%q)", tt.in)
	}
}

// randomArgv draws tokens from an alphabet rich in everything a shell or
// shlex treats specially, plus multi-byte and invalid UTF-8.
func randomArgv(r *rand.Rand) []string {
	pieces := []string{"a", "Z", "0", "-", "_", "@", "=", ",", ".", "/", " ", "\t", "\n", "\r", "'", `"`,
		`\`, "$", "`", "#", "*", "~", "!", ";", "|", "&", "é", "€", "\xff", "\x00", "''", `"'"`}
	argv := make([]string, r.IntN(6))
	for i := range argv {
		var b strings.Builder
		for n := r.IntN(8); n > 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		argv[i] = b.String()
	}
	return argv
}

func TestQuoteRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		argv := randomArgv(r)
		line := Quote(argv)
		got, err := Split(line)
		require.NoError(t, err, "Split(Quote(%q)) = Split(%q)", argv, line)
		if len(argv) == 0 {
			assert.Empty(t, got)
			continue
		}
		require.Equal(t, argv, got, "Split(Quote(%q)) = Split(%q)", argv, line)
	}
}

func python(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import shlex").Run(); err != nil {
		t.Skipf("%s not usable: %v", py, err)
	}
	return py
}

// TestSplitMatchesPython feeds the table and random Quote output through
// Python's shlex in one process and compares both functions with it.
func TestSplitMatchesPython(t *testing.T) {
	py := python(t)
	r := rand.New(rand.NewPCG(3, 4))
	var lines []string
	for _, c := range splitCases {
		lines = append(lines, c.in)
	}
	var argvs [][]string
	for range 300 {
		argv := randomArgv(r)
		// Python strings are Unicode: keep the random part valid UTF-8.
		for i := range argv {
			argv[i] = strings.ToValidUTF8(argv[i], "?")
		}
		argvs = append(argvs, argv)
		// A random line mixing quotes is often invalid; compare errors too.
		lines = append(lines, strings.Join(argv, " "))
	}
	in, err := json.Marshal(map[string]any{"lines": lines, "argvs": argvs})
	require.NoError(t, err)
	script := `
import json, shlex, sys
d = json.load(sys.stdin)
out = {"split": [], "join": []}
for s in d["lines"]:
    try:
        out["split"].append(shlex.split(s))
    except ValueError as e:
        out["split"].append(str(e))
for a in d["argvs"]:
    out["join"].append(shlex.join(a or []))
json.dump(out, sys.stdout)
`
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = strings.NewReader(string(in))
	raw, err := cmd.Output()
	require.NoError(t, err)
	var out struct {
		Split []json.RawMessage
		Join  []string
	}
	require.NoError(t, json.Unmarshal(raw, &out))
	require.Len(t, out.Split, len(lines))
	for i, line := range lines {
		got, err := Split(line)
		var want []string
		if json.Unmarshal(out.Split[i], &want) != nil {
			var msg string
			require.NoError(t, json.Unmarshal(out.Split[i], &msg))
			require.Error(t, err, "Split(%q): Python says %q", line, msg)
			assert.Contains(t, strings.ToLower(msg), err.(*SplitError).Err.Error(), "Split(%q)", line)
			continue
		}
		require.NoError(t, err, "Split(%q)", line)
		if len(want) == 0 {
			assert.Empty(t, got, "Split(%q)", line)
			continue
		}
		assert.Equal(t, want, got, "Split(%q)", line)
	}
	for i, argv := range argvs {
		assert.Equal(t, out.Join[i], Quote(argv), "Quote(%q)", argv)
	}
}
