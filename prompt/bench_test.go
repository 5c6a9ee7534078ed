package prompt

import (
	"fmt"
	"strings"
	"testing"
)

// realisticOutput builds n bytes of playbook output as the pty delivers it:
// colored task lines, each event wrapped in begin/end tokens, CRLF endings,
// and no prompt anywhere.
func realisticOutput(n int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		b.WriteString(beginTok(i % 10000))
		fmt.Fprintf(&b, "\r\nTASK [install package %d] %s\r\n", i, strings.Repeat("*", 50))
		b.WriteString(endTok)
		b.WriteString(beginTok(i % 10000))
		fmt.Fprintf(&b, "\x1b[0;33mchanged: [web%02d.example.internal] => (item=pkg-%d)\x1b[0m\r\n", i%50, i)
		b.WriteString(endTok)
	}
	return []byte(b.String()[:n])
}

// BenchmarkFeed measures throughput on 10 MiB of output with AWX's usual
// rules, for the read sizes a pty reader sees.
func BenchmarkFeed(b *testing.B) {
	data := realisticOutput(10 << 20)
	rules := mustRules(b,
		Pair{`SSH password:\s*?$`, "a"},
		Pair{`BECOME password.*:\s*?$`, "b"},
		Pair{`^Vault password:\s*?$`, "c"},
		Pair{`Enter passphrase for .*:\s*?$`, "d"},
	)
	for _, chunk := range []int{512, 4096, 32768} {
		b.Run(fmt.Sprintf("chunk=%d", chunk), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				m := NewMatcher(rules)
				for off := 0; off < len(data); off += chunk {
					if ans := m.Feed(data[off:min(off+chunk, len(data))]); ans != nil {
						b.Fatal("answered a prompt that is not there")
					}
				}
			}
		})
	}
}
