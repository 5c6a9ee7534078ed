package runner

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
)

// recordedStream is the raw pty output of a real ansible-playbook run with
// arunner's plugin (a debug task looping over 200 items), made by
// bench/record.
const recordedStream = "../bench/testdata/loop200.pty"

func init() {
	// replay writes the recorded stream FAKE_COPIES times, like
	// bench/replay, so the benchmark measures the runner, not ansible.
	fakeModes["replay"] = func() int {
		data, err := os.ReadFile(os.Getenv("FAKE_STREAM"))
		if err != nil {
			return 3
		}
		data = rekey(data, os.Getenv(eventproto.KeyEnv))
		n, _ := strconv.Atoi(os.Getenv("FAKE_COPIES"))
		for range n {
			if _, err := os.Stdout.Write(data); err != nil {
				return 4
			}
		}
		return 0
	}
}

var (
	tokenRe = regexp.MustCompile(`\x1b\[K((?:[A-Za-z0-9+/=]+\x1b\[[0-9]+D)+)\x1b\[K`)
	sliceRe = regexp.MustCompile(`\x1b\[[0-9]+D`)
)

// rekey puts the run's key in front of every token's base64, as the plugin
// does (the recording has none).
func rekey(stream []byte, key string) []byte {
	return tokenRe.ReplaceAllFunc(stream, func(tok []byte) []byte {
		return []byte(frameB64(key + string(sliceRe.ReplaceAll(tok[3:len(tok)-3], nil))))
	})
}

// BenchmarkRunEvents runs the whole runner (pty, decoder, EventHandler,
// job_events) against the replayed stream, with job_events files off (the
// handler returns false) and on, and reports events/s end to end:
// job_events-on includes waiting for the last file before Run returns.
// bench/run.sh measures the same at a larger scale, with RSS.
func BenchmarkRunEvents(b *testing.B) {
	stream, err := filepath.Abs(recordedStream)
	if err != nil {
		b.Fatal(err)
	}
	const copies = 20 // about 4,000 events
	for _, keep := range []bool{false, true} {
		name := "job_events=off"
		if keep {
			name = "job_events=on"
		}
		b.Run(name, func(b *testing.B) {
			total := 0
			for b.Loop() {
				b.StopTimer()
				cfg := fakeConfig(b, "replay")
				cfg.EnvVars["FAKE_STREAM"] = stream
				cfg.EnvVars["FAKE_COPIES"] = strconv.Itoa(copies)
				cfg.EventHandler = func(*events.Event) bool { return keep }
				b.StartTimer()
				res, err := Run(context.Background(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				if res.ArtifactErr != nil {
					b.Fatal(res.ArtifactErr)
				}
				if res.FinalCounter < copies*200 {
					b.Fatalf("only %d events", res.FinalCounter)
				}
				total += res.FinalCounter
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
