package lazyio

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is a bytes.Buffer safe to write from the Writer's timer
// while the test reads it.
type lockedBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	err    error
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	b.writes++
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestDelay checks that small writes reach the file together,
// delay after the first of them, and that a full buffer goes out at once.
func TestDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out lockedBuffer
		l := New(&out, Delay)
		l.Write([]byte("TASK [a] ***\n"))
		time.Sleep(Delay / 2)
		l.Write([]byte("ok: [localhost]\n"))
		synctest.Wait()
		assert.Empty(t, out.String(), "written before the delay")

		time.Sleep(Delay / 2)
		synctest.Wait()
		assert.Equal(t, "TASK [a] ***\nok: [localhost]\n", out.String())
		assert.Equal(t, 1, out.writes)

		// Nothing buffered: no timer, no empty write.
		time.Sleep(10 * Delay)
		synctest.Wait()
		assert.Equal(t, 1, out.writes)

		big := strings.Repeat("x", 100<<10)
		l.Write([]byte(big))
		synctest.Wait()
		assert.GreaterOrEqual(t, len(out.String()), 64<<10, "a full buffer waited for the delay")
		require.NoError(t, l.Flush())
		assert.Equal(t, "TASK [a] ***\nok: [localhost]\n"+big, out.String())
	})
}

// TestError checks that a failed write, even one made by the
// timer, is returned by the next Flush.
func TestError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		full := errors.New("no space left on device")
		out := lockedBuffer{err: full}
		l := New(&out, Delay)
		_, err := l.Write([]byte("text\n"))
		require.NoError(t, err)
		time.Sleep(2 * Delay)
		synctest.Wait()
		assert.ErrorIs(t, l.Flush(), full)
		_, err = l.Write([]byte("more\n"))
		assert.ErrorIs(t, err, full)
	})
}
