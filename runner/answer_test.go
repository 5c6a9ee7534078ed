package runner

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Without rules the answerer keeps only the tail of the output, and still
// tells the prompt that ends it, however the output was chunked.
func TestAnswererPendingFromTail(t *testing.T) {
	long := strings.Repeat("ok: [localhost] => (item=x)\r\n", 1000) // far more than tailSize
	for _, chunk := range []int{1, 7, 4095, 4096, 10000, len(long) + 30} {
		a := newAnswerer(nil)
		text := long + "Enter the secret: "
		for i := 0; i < len(text); i += chunk {
			assert.Nil(t, a.feed([]byte(text[i:min(i+chunk, len(text))])))
		}
		assert.LessOrEqual(t, len(a.tail), tailSize)
		assert.Equal(t, "Enter the secret:", a.pending(), "chunk %d", chunk)

		a.feed([]byte("\r\nanswered\r\n"))
		assert.Equal(t, "", a.pending(), "chunk %d: a finished line is no prompt", chunk)
	}
}
