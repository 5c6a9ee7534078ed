package cmdbuild

import "strings"

// Quote renders argv as one line a human can paste into a POSIX shell, the
// way Python's shlex.join does: a token made only of ASCII letters, digits
// and "@%+=:,./-_" stays bare, any other token (including the empty one) is
// wrapped in single quotes, with each ' written as '"'"'. Split(Quote(argv))
// returns argv again.
func Quote(argv []string) string {
	var b strings.Builder
	for i, a := range argv {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && strings.IndexFunc(a, unsafe) < 0 {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'"'"'`))
		b.WriteByte('\'')
	}
	return b.String()
}

// unsafe reports runes outside shlex.quote's safe set ([\w@%+=:,./-] with
// re.ASCII); matching it exactly keeps our output identical to Python's.
func unsafe(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("_@%+=:,./-", r)
}
