package report

import (
	"fmt"
	"html"
	"html/template"
	"strconv"
	"strings"
)

// sgr is the text style that ANSI SGR sequences ("ESC [ ... m") set.
type sgr struct {
	fg, bg                       string // a class ("f31", "b44") or a colour ("#rrggbb"); "" for the default
	bold, dim, italic, underline bool
}

// span is the opening tag for text in style s, "" for the default style.
// Every part of it is built here from numbers and fixed names, never from
// the text.
func (s sgr) span() string {
	var class, style []string
	for _, c := range []struct {
		on   bool
		name string
	}{{s.bold, "sb"}, {s.dim, "sd"}, {s.italic, "si"}, {s.underline, "su"}} {
		if c.on {
			class = append(class, c.name)
		}
	}
	for _, c := range []struct{ v, prop string }{{s.fg, "color"}, {s.bg, "background-color"}} {
		switch {
		case strings.HasPrefix(c.v, "#"):
			style = append(style, c.prop+":"+c.v)
		case c.v != "":
			class = append(class, c.v)
		}
	}
	if len(class) == 0 && len(style) == 0 {
		return ""
	}
	tag := "<span"
	if len(class) > 0 {
		tag += ` class="` + strings.Join(class, " ") + `"`
	}
	if len(style) > 0 {
		tag += ` style="` + strings.Join(style, ";") + `"`
	}
	return tag + ">"
}

// ansiHTML renders terminal text as HTML: the text escaped, SGR colours
// and attributes (16 colours as classes f30-f37, f90-f97, b40-b47,
// b100-b107; 256 and 24-bit colours as inline colours; bold, dim, italic,
// underline) as spans, every other escape sequence dropped, and carriage
// returns removed (the pty ends lines with CR LF).
func ansiHTML(text string) template.HTML {
	var b strings.Builder
	var cur sgr
	open := ""
	setStyle := func(s sgr) {
		if next := s.span(); next != open {
			if open != "" {
				b.WriteString("</span>")
			}
			b.WriteString(next)
			open = next
		}
		cur = s
	}
	for len(text) > 0 {
		i := strings.IndexAny(text, "\x1b\r")
		if i < 0 {
			b.WriteString(html.EscapeString(text))
			break
		}
		b.WriteString(html.EscapeString(text[:i]))
		text = text[i:]
		if text[0] == '\r' {
			text = text[1:]
			continue
		}
		params, final, rest := escape(text)
		text = rest
		if final == 'm' {
			setStyle(cur.apply(params))
		}
	}
	if open != "" {
		b.WriteString("</span>")
	}
	return template.HTML(b.String())
}

// escape splits the escape sequence at the start of s (s[0] is ESC): a CSI
// sequence gives its parameters and final byte; an OSC sequence (ended by
// BEL or ESC \) and any other escape sequence give final 0.
func escape(s string) (params string, final byte, rest string) {
	if len(s) < 2 {
		return "", 0, ""
	}
	switch s[1] {
	case '[':
		for i := 2; i < len(s); i++ {
			if c := s[i]; c >= 0x40 && c <= 0x7e {
				return s[2:i], c, s[i+1:]
			}
		}
		return "", 0, "" // unterminated: drop it
	case ']':
		for i := 2; i < len(s); i++ {
			if s[i] == '\a' {
				return "", 0, s[i+1:]
			}
			if s[i] == '\x1b' && i+1 < len(s) && s[i+1] == '\\' {
				return "", 0, s[i+2:]
			}
		}
		return "", 0, ""
	}
	// ESC, intermediate bytes (ESC ( B picks a character set), a final byte.
	i := 1
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	return "", 0, s[min(i+1, len(s)):]
}

// apply returns s changed by the SGR parameters params ("1;31").
func (s sgr) apply(params string) sgr {
	if params == "" {
		return sgr{}
	}
	ps := strings.Split(params, ";")
	for i := 0; i < len(ps); i++ {
		n, err := strconv.Atoi(ps[i])
		if err != nil {
			continue
		}
		switch {
		case n == 0:
			s = sgr{}
		case n == 1:
			s.bold = true
		case n == 2:
			s.dim = true
		case n == 3:
			s.italic = true
		case n == 4:
			s.underline = true
		case n == 22:
			s.bold, s.dim = false, false
		case n == 23:
			s.italic = false
		case n == 24:
			s.underline = false
		case n >= 30 && n <= 37, n >= 90 && n <= 97:
			s.fg = "f" + strconv.Itoa(n)
		case n >= 40 && n <= 47, n >= 100 && n <= 107:
			s.bg = "b" + strconv.Itoa(n)
		case n == 39:
			s.fg = ""
		case n == 49:
			s.bg = ""
		case n == 38, n == 48:
			c, used := extendedColour(ps[i+1:])
			i += used
			if n == 38 {
				s.fg = c
			} else {
				s.bg = c
			}
		}
	}
	return s
}

// extendedColour reads the "5;N" or "2;R;G;B" after a 38 or 48 and
// returns it as "#rrggbb" ("" when malformed) and the parameters it used.
func extendedColour(ps []string) (string, int) {
	num := func(i int) int {
		if i >= len(ps) {
			return -1
		}
		n, err := strconv.Atoi(ps[i])
		if err != nil || n < 0 || n > 255 {
			return -1
		}
		return n
	}
	switch num(0) {
	case 5:
		n := num(1)
		if n < 0 {
			return "", min(len(ps), 2)
		}
		r, g, b := xterm256(n)
		return fmt.Sprintf("#%02x%02x%02x", r, g, b), 2
	case 2:
		r, g, b := num(1), num(2), num(3)
		if r < 0 || g < 0 || b < 0 {
			return "", min(len(ps), 4)
		}
		return fmt.Sprintf("#%02x%02x%02x", r, g, b), 4
	}
	return "", min(len(ps), 1)
}

// basic16 are the 16 standard colours, as xterm shows them; the page's
// stylesheet gives the same ones to the f and b classes.
var basic16 = [16][3]int{
	{0, 0, 0}, {205, 49, 49}, {13, 188, 121}, {229, 229, 16}, {36, 114, 200}, {188, 63, 188}, {17, 168, 205}, {229, 229, 229},
	{102, 102, 102}, {241, 76, 76}, {35, 209, 139}, {245, 245, 67}, {59, 142, 234}, {214, 112, 214}, {41, 184, 219}, {255, 255, 255},
}

// xterm256 is colour n of xterm's 256-colour palette.
func xterm256(n int) (r, g, b int) {
	switch {
	case n < 16:
		c := basic16[n]
		return c[0], c[1], c[2]
	case n < 232:
		n -= 16
		level := func(v int) int {
			if v == 0 {
				return 0
			}
			return 55 + 40*v
		}
		return level(n / 36), level(n / 6 % 6), level(n % 6)
	default:
		v := 8 + 10*(n-232)
		return v, v, v
	}
}
