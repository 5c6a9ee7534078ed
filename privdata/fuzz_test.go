package privdata

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParseMapping checks that no input makes the env file parser panic,
// and that a secret marker in the input never reaches an error message
// (except as a key name, which only envvars and settings errors carry).
func FuzzParseMapping(f *testing.F) {
	for _, seed := range []string{
		"", "a: 1\n", `{"a": [1, {"b": null}]}`, "- x\n", "a: &x [*x]\n", "<<: {a: 1}\n",
		"a: !!python/object x\n", "{\"a\": 1,}", "a: *SECRET\n", "a: \"\\qSECRET\"\n", "? [a]\n: b\n",
		"a: 0b1_0\nb: 1:2:3.5\nc: .inf\n", "%YAML 1.1\n---\na: 1\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := parseMapping("/pdd/env/passwords", []byte(s))
		if err != nil {
			if strings.Contains(s, "SECRET") && strings.Contains(err.Error(), "SECRET") {
				t.Fatalf("error quotes input: %v", err)
			}
			return
		}
		for _, e := range entries {
			_ = pyStr(e.val)
			_ = plain(e.val)
		}
	})
}

// TestAliasBomb checks that a "billion laughs" document is refused quickly
// instead of being expanded into memory.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("a: &a [x,x,x,x,x,x,x,x,x]\n")
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		b.WriteString(name + ": &" + name + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+",", 9), ",") + "]\n")
		prev = name
	}
	_, err := parseMapping("/pdd/env/extravars", []byte(b.String()))
	require.ErrorIs(t, err, ErrBadValue)
}
