package prompt

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
)

// redacted replaces a response wherever a Rule or Pair is printed.
const redacted = "**********"

// Pair is one uncompiled prompt answer, as found in ansible-runner's
// env/passwords file: a Python-style regular expression and the text to type
// when it matches.
type Pair struct {
	// Pattern is a regular expression in RE2 syntax (the common subset of
	// Python's re); it is matched in multi-line mode, like re.M.
	Pattern string
	// Response is typed followed by "\n" when Pattern matches. It is a secret.
	Response string
}

// String implements fmt.Stringer without revealing the response.
func (p Pair) String() string { return fmt.Sprintf("%q -> %s", p.Pattern, redacted) }

// GoString implements fmt.GoStringer so that %#v does not reveal the response.
func (p Pair) GoString() string {
	return fmt.Sprintf("prompt.Pair{Pattern: %q, Response: %q}", p.Pattern, redacted)
}

// Format implements fmt.Formatter: %#v prints GoString and every other verb
// String, so that no verb (%d or %x print a struct's fields one by one)
// reveals the response.
func (p Pair) Format(f fmt.State, verb rune) { format(f, verb, p) }

// LogValue implements slog.LogValuer: the pattern, and the response hidden.
// json.Marshal still writes the response.
func (p Pair) LogValue() slog.Value {
	return slog.GroupValue(slog.String("Pattern", p.Pattern), slog.String("Response", redacted))
}

// format writes s's String, or its GoString for %#v.
func format(f fmt.State, verb rune, s interface {
	fmt.Stringer
	fmt.GoStringer
}) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, s.String())
}

// Rule is a compiled Pair.
type Rule struct {
	// Pattern is matched against the stripped terminal text; Compile adds the
	// (?m) flag so that ^ and $ match at line boundaries, as Python's re.M.
	Pattern *regexp.Regexp
	// Response is typed followed by "\n" when Pattern matches. It is a secret.
	Response string
}

// String implements fmt.Stringer without revealing the response.
func (r Rule) String() string {
	pat := "<nil>"
	if r.Pattern != nil {
		pat = r.Pattern.String()
	}
	return fmt.Sprintf("%q -> %s", pat, redacted)
}

// GoString implements fmt.GoStringer so that %#v does not reveal the response.
func (r Rule) GoString() string {
	pat := "<nil>"
	if r.Pattern != nil {
		pat = r.Pattern.String()
	}
	return fmt.Sprintf("prompt.Rule{Pattern: regexp.MustCompile(%q), Response: %q}", pat, redacted)
}

// Format implements fmt.Formatter like Pair's.
func (r Rule) Format(f fmt.State, verb rune) { format(f, verb, r) }

// LogValue implements slog.LogValuer like Pair's.
func (r Rule) LogValue() slog.Value {
	pat := "<nil>"
	if r.Pattern != nil {
		pat = r.Pattern.String()
	}
	return slog.GroupValue(slog.String("Pattern", pat), slog.String("Response", redacted))
}

// Compile turns pairs into rules, keeping their order: when two rules match,
// the one whose match starts first wins, and on a tie the earlier rule wins,
// as with pexpect. Errors are *PatternError values naming the pair's index.
func Compile(pairs []Pair) ([]Rule, error) {
	rules := make([]Rule, 0, len(pairs))
	for i, p := range pairs {
		if p.Pattern == "" {
			return nil, &PatternError{Index: i, Pattern: p.Pattern, Err: ErrEmptyPattern}
		}
		if strings.ContainsAny(p.Response, "\r\n") {
			return nil, &PatternError{Index: i, Pattern: p.Pattern, Err: ErrResponseNewline}
		}
		// Compiling the bare pattern first keeps the reported syntax error
		// about the caller's text rather than about our (?m) prefix.
		if _, err := regexp.Compile(p.Pattern); err != nil {
			return nil, &PatternError{Index: i, Pattern: p.Pattern, Err: ErrBadPattern, cause: err}
		}
		re, err := regexp.Compile("(?m)" + p.Pattern)
		if err != nil {
			return nil, &PatternError{Index: i, Pattern: p.Pattern, Err: ErrBadPattern, cause: err}
		}
		rules = append(rules, Rule{Pattern: re, Response: p.Response})
	}
	return rules, nil
}
