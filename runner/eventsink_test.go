package runner

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/lazyio"
	"github.com/arunner/arunner/privdata"
)

// recorder is an eventWriter stub that keeps what it was given.
type recorder struct {
	mu    sync.Mutex
	got   map[int][]byte
	calls int
	fail  map[int]error // counter -> error to return
}

func (r *recorder) write(counter int, uuid string, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if err := r.fail[counter]; err != nil {
		return err
	}
	if r.got == nil {
		r.got = map[int][]byte{}
	}
	if _, dup := r.got[counter]; dup {
		return fmt.Errorf("counter %d written twice", counter)
	}
	r.got[counter] = bytes.Clone(data)
	return nil
}

func eventBody(counter, size int) []byte {
	b := []byte(fmt.Sprintf(`{"counter": %d, "pad": "`, counter))
	b = append(b, bytes.Repeat([]byte{'x'}, max(0, size-len(b)-2))...)
	return append(b, `"}`...)
}

// TestAsyncSinkWritesEverything checks that every event reaches the writer
// once, with its bytes intact, even though the caller appends to the slice
// after handing it over (as onEvent does for -j output). Run with -race.
func TestAsyncSinkWritesEverything(t *testing.T) {
	for _, n := range []int{0, 1, sinkQueue - 1, 3*sinkQueue + 7} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			var rec recorder
			s := newAsyncSink(rec.write)
			for i := 1; i <= n; i++ {
				data := eventBody(i, 100+i%300)
				s.write(i, fmt.Sprintf("u%d", i), data)
				_ = append(data, '\n')
			}
			require.NoError(t, s.close())
			require.NoError(t, s.close(), "a second close")
			assert.Equal(t, n, rec.calls)
			require.Len(t, rec.got, n)
			for i := 1; i <= n; i++ {
				assert.Equal(t, eventBody(i, 100+i%300), rec.got[i], "event %d", i)
			}
		})
	}
}

// TestAsyncSinkError checks that close reports the failure of the lowest
// counter, whichever writer met its failure first, and that the events
// after a failure are still written.
func TestAsyncSinkError(t *testing.T) {
	errLow, errHigh := errors.New("disk full at 40"), errors.New("disk full at 900")
	rec := recorder{fail: map[int]error{900: errHigh, 40: errLow}}
	s := newAsyncSink(rec.write)
	const n = 2000
	for i := 1; i <= n; i++ {
		s.write(i, "u", eventBody(i, 64))
	}
	err := s.close()
	assert.ErrorIs(t, err, errLow)
	assert.ErrorIs(t, s.close(), errLow)
	assert.Equal(t, n, rec.calls)
	assert.Len(t, rec.got, n-2)
}

// TestAsyncSinkBackPressure blocks the writers and checks that the caller
// stops once sinkQueueBytes are waiting, instead of queueing without bound:
// the memory that a slow disk can cost is capped.
func TestAsyncSinkBackPressure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		var rec recorder
		s := newAsyncSink(func(c int, u string, d []byte) error {
			<-gate
			return rec.write(c, u, d)
		})
		const size = sinkQueueBytes / 8
		const n = 40
		var handed atomic.Int64
		go func() {
			for i := 1; i <= n; i++ {
				s.write(i, "u", eventBody(i, size))
				handed.Add(1)
			}
		}()
		synctest.Wait() // the writers wait on gate, the caller on the bound
		assert.Equal(t, int64(sinkQueueBytes/size), handed.Load())
		s.mu.Lock()
		assert.LessOrEqual(t, s.queued, sinkQueueBytes)
		s.mu.Unlock()

		close(gate)
		synctest.Wait()
		assert.Equal(t, int64(n), handed.Load())
		require.NoError(t, s.close())
		assert.Len(t, rec.got, n)
	})
}

// TestAsyncSinkHugeEvent checks that an event larger than the whole byte
// bound still goes through (alone) rather than blocking forever.
func TestAsyncSinkHugeEvent(t *testing.T) {
	var rec recorder
	s := newAsyncSink(rec.write)
	for i := 1; i <= 3; i++ {
		s.write(i, "u", eventBody(i, sinkQueueBytes+1))
		s.write(100+i, "u", eventBody(100+i, 10))
	}
	require.NoError(t, s.close())
	assert.Len(t, rec.got, 6)
	assert.Len(t, rec.got[2], sinkQueueBytes+1)
}

// TestEventSinkFiles runs the real sink over privdata: every file is there,
// complete, 0600, with no temporary file left, and reads back in counter
// order.
func TestEventSinkFiles(t *testing.T) {
	art, err := privdata.NewArtifacts(t.TempDir(), "sink")
	require.NoError(t, err)
	s := newEventSink(art)
	const n = 3000
	for i := 1; i <= n; i++ {
		s.write(i, fmt.Sprintf("0000-%d", i), eventBody(i, 200+i%1000))
	}
	require.NoError(t, s.close())

	ents, err := os.ReadDir(art.JobEventsDir())
	require.NoError(t, err)
	require.Len(t, ents, n)
	for _, e := range ents {
		info, err := e.Info()
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), e.Name())
		assert.Equal(t, ".json", filepath.Ext(e.Name()), e.Name())
	}
	i := 0
	for data, err := range privdata.ReadEvents(art.JobEventsDir()) {
		require.NoError(t, err)
		i++
		require.Equal(t, eventBody(i, 200+i%1000), data)
	}
	assert.Equal(t, n, i)
}

// TestEventSinkWriteError checks that a failing write surfaces from close
// with the file it was about, through the real privdata writer.
func TestEventSinkWriteError(t *testing.T) {
	art, err := privdata.NewArtifacts(t.TempDir(), "sink")
	require.NoError(t, err)
	require.NoError(t, os.RemoveAll(art.JobEventsDir()))
	s := newEventSink(art)
	s.write(1, "u1", []byte("{}"))
	s.write(2, "u2", []byte("{}"))
	err = s.close()
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "1-u1.json")
}

// TestAsyncSinkBatches checks that events coming one at a time are written
// together lazyio.Delay after the first, not one wake-up of a writer each, and
// that a full batch is written at once.
func TestAsyncSinkBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec recorder
		s := newAsyncSink(rec.write)
		calls := func() int {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			return rec.calls
		}
		for i := 1; i <= 3; i++ {
			s.write(i, "u", eventBody(i, 100))
			time.Sleep(lazyio.Delay / 4)
		}
		synctest.Wait()
		assert.Zero(t, calls(), "written before the delay")
		time.Sleep(lazyio.Delay / 4)
		synctest.Wait()
		assert.Equal(t, 3, calls())

		for i := 4; i < 4+sinkBatch; i++ {
			s.write(i, "u", eventBody(i, 100))
		}
		synctest.Wait()
		assert.Equal(t, 3+sinkBatch, calls(), "a full batch waited for the delay")

		s.write(1000, "u", eventBody(1000, 100))
		require.NoError(t, s.close()) // close writes what waits, at once
		assert.Equal(t, 4+sinkBatch, calls())
	})
}

// The sink writes through a descriptor of the job_events directory, opened
// with the first event and closed with the sink.
func TestEventSinkHoldsDirUntilClose(t *testing.T) {
	art, err := privdata.NewArtifacts(t.TempDir(), "x")
	require.NoError(t, err)
	s := newEventSink(art)
	assert.Zero(t, fdsTo(t, art.JobEventsDir()), "opened before the first event")
	s.write(1, "u1", []byte(`{"counter": 1}`))
	assert.Equal(t, 1, fdsTo(t, art.JobEventsDir()))
	require.NoError(t, s.close())
	assert.Zero(t, fdsTo(t, art.JobEventsDir()), "left open")
	got, err := os.ReadFile(filepath.Join(art.JobEventsDir(), "1-u1.json"))
	require.NoError(t, err)
	assert.Equal(t, `{"counter": 1}`, string(got))
}

// fdsTo counts this process's descriptors open on path.
func fdsTo(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}
