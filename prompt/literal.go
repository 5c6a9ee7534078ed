package prompt

import (
	"regexp/syntax"
	"unicode/utf8"
)

// requiredLiteral returns the longest case-sensitive literal that every
// match of expr must contain, or "" if there is none or expr does not parse.
// Feed uses it as a prefilter: a window without that literal cannot match,
// and finding it with bytes.Index is far cheaper than running the regexp on
// every read.
func requiredLiteral(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	return string(required(re.Simplify()))
}

func required(re *syntax.Regexp) []rune {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return re.Rune
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		var best, run []rune
		for _, sub := range re.Sub {
			lit := required(sub)
			if sub.Op == syntax.OpLiteral && lit != nil {
				// Adjacent literals form one longer literal.
				run = append(run, lit...)
			} else {
				run = nil
			}
			for _, cand := range [][]rune{run, lit} {
				if utf8Len(cand) > utf8Len(best) {
					best = append([]rune(nil), cand...)
				}
			}
		}
		return best
	}
	return nil
}

func utf8Len(rs []rune) int {
	n := 0
	for _, r := range rs {
		n += utf8.RuneLen(r)
	}
	return n
}
