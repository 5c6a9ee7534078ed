package report

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestANSIHTML(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"plain", "ok: [h1]\r\n", "ok: [h1]\n"},
		{"escaped", "<b>&\"'</b>", "&lt;b&gt;&amp;&#34;&#39;&lt;/b&gt;"},
		{"escaped around escapes", "<a>\x1b[1m<b>\x1b[0m<i>", `&lt;a&gt;<span class="sb">&lt;b&gt;</span>&lt;i&gt;`},
		{"colour and reset", "\x1b[0;32mok: [h1]\x1b[0m\n", `<span class="f32">ok: [h1]</span>` + "\n"},
		{"bold bright red", "\x1b[1;31mfatal\x1b[0m", `<span class="sb f31">fatal</span>`},
		{"attributes switch off", "\x1b[1;4mA\x1b[22mB\x1b[24mC", `<span class="sb su">A</span><span class="su">B</span>C`},
		{"background and bright", "\x1b[97;101mX\x1b[39;49mY", `<span class="f97 b101">X</span>Y`},
		{"same style twice, one span", "\x1b[33ma\x1b[33mb\x1b[m", `<span class="f33">ab</span>`},
		{"256 colours", "\x1b[38;5;208mo\x1b[48;5;196mr\x1b[38;5;244mg", `<span style="color:#ff8700">o</span><span style="color:#ff8700;background-color:#ff0000">r</span><span style="color:#808080;background-color:#ff0000">g</span>`},
		{"truecolor", "\x1b[38;2;1;2;3mx", `<span style="color:#010203">x</span>`},
		{"bad extended colour", "\x1b[38;5;999;1mx", `<span class="sb">x</span>`},
		{"other sequences dropped", "a\x1b[2Kb\x1b]0;title\ac\x1b]8;;http://x\x1b\\d\x1b(Be", "abcde"},
		{"unterminated", "a\x1b[31", "a"},
		{"lone escape", "a\x1b", "a"},
		{"hostile text in colour", "\x1b[31m</span><script>alert(1)</script>", `<span class="f31">&lt;/span&gt;&lt;script&gt;alert(1)&lt;/script&gt;</span>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, string(ansiHTML(tt.in)))
		})
	}
}

func TestXterm256(t *testing.T) {
	for n, want := range map[int][3]int{1: {205, 49, 49}, 16: {0, 0, 0}, 21: {0, 0, 255}, 231: {255, 255, 255}, 232: {8, 8, 8}, 255: {238, 238, 238}} {
		r, g, b := xterm256(n)
		assert.Equal(t, want, [3]int{r, g, b}, "colour %d", n)
	}
}
