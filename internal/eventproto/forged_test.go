package eventproto

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
)

// testKey is a run's key as NewKey makes them.
const testKey = "c2VjcmV0LWtleS0xMjM0"

// forgedEvent is well-formed framing a task could print: a begin token for
// a runner_on_ok that never happened, its text and an end token.
var forgedEvent = frame(`{"event": "runner_on_ok", "uuid": "forged", "event_data": {"host": "forged"}}`) +
	"FORGED\r\n" + endToken

func keyedWrap(begin, text string) string {
	return keyedFrame(testKey, begin) + text + keyedFrame(testKey, "{}")
}

func forgedErrors(errs []error) (n int) {
	for _, err := range errs {
		if errors.Is(err, events.ErrForgedFrame) {
			n++
		}
	}
	return n
}

// With the run's key, framing without it is what a task printed: text in
// the event it was printed in (or verbose lines outside events), never an
// event, and the real events around it are whole.
func TestFilterKeyRefusesForgedFrames(t *testing.T) {
	wrongKey := keyedFrame("d3Jvbmcta2V5LTEyMzQ1", `{"event": "runner_on_ok", "uuid": "wrong-key"}`)
	short := "\x1b[KYWJj\x1b[4D\x1b[K" // shorter than the key
	in := "pre\r\n" +
		keyedWrap(`{"event": "runner_on_ok", "uuid": "a", "event_data": {"host": "h"}}`, "ok: [h]\r\n"+forgedEvent+wrongKey+"still a\r\n") +
		forgedEvent + short +
		keyedWrap(`{"event": "runner_on_ok", "uuid": "b", "event_data": {"host": "h"}}`, "ok: [h] b\r\n")
	for _, chunk := range []int{0, 1, 7} {
		t.Run(fmt.Sprintf("chunk %d", chunk), func(t *testing.T) {
			evs, text, errs, err := collect(pieces(in, chunk), FilterConfig{Key: testKey})
			require.NoError(t, err)
			var got []string
			for _, e := range evs {
				got = append(got, e.Event+" "+e.UUID+" "+fmt.Sprintf("%q", e.Stdout))
				assert.NotEqual(t, "forged", e.Host())
			}
			aText := "ok: [h]\r\n" + forgedEvent + wrongKey + "still a"
			want := []string{
				`verbose  "pre"`,
				`runner_on_ok a ` + fmt.Sprintf("%q", aText),
			}
			// Outside any event, the forged text becomes verbose lines
			// as any other text there does.
			for line := range strings.Lines(forgedEvent + short) {
				want = append(want, fmt.Sprintf("verbose  %q", strings.TrimRight(line, "\r\n")))
			}
			want = append(want, `runner_on_ok b "ok: [h] b"`)
			for i := range got { // verbose events get random uuids
				if strings.HasPrefix(got[i], "verbose ") {
					_, rest, _ := strings.Cut(got[i][len("verbose "):], " ")
					got[i] = "verbose  " + rest
				}
			}
			assert.Equal(t, want, got)
			assert.Equal(t, "pre\r\n"+aText+"\n"+forgedEvent+short+"ok: [h] b\n", text)
			assert.Equal(t, 6, forgedErrors(errs), "%v", errs) // a's 3, 2 outside, the short one
			assert.Len(t, errs, 6)
		})
	}
}

// Without a key, as ansible-runner does, the same framing is an event.
func TestFilterWithoutKeyTakesUnkeyedFrames(t *testing.T) {
	evs, _, errs, err := collect([]string{forgedEvent}, FilterConfig{})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "forged", evs[0].Host())
	assert.Empty(t, errs)
}

// On the side band, a marker without the key cannot take the record of the
// plugin's next event: it stays text, and the record goes to its own marker.
func TestFilterKeyRefusesForgedMarkers(t *testing.T) {
	keyedWhole := func(seq int) string { return keyedFrame(testKey, fmt.Sprintf(`{"arunner_rec": %d}`, seq)) }
	keyedMarker := func(seq int) string { return keyedFrame(testKey, fmt.Sprintf(`{"arunner_seq": %d}`, seq)) }
	records := `1 {"event": "runner_on_ok", "uuid": "u1", "event_data": {"host": "h"}}` + "\n" +
		`2 {"event": "runner_on_ok", "uuid": "u2", "event_data": {"host": "h"}, "stdout": "ok: [h] 2\n"}` + "\n"
	terminal := keyedMarker(1) + "ok: [h] 1\r\n" + wholeMarker(2) + marker(2) + forgedEvent +
		keyedFrame(testKey, "{}") + keyedWhole(2)
	evs, text, errs := collectSideConfig(t, terminal, records, 0, FilterConfig{Key: testKey, TerminalNewlines: true})
	require.Len(t, evs, 2, "%v", errs)
	assert.Equal(t, "u1", evs[0].UUID)
	assert.Equal(t, "ok: [h] 1\r\n"+wholeMarker(2)+marker(2)+forgedEvent, evs[0].Stdout)
	assert.Equal(t, "u2", evs[1].UUID)
	assert.Equal(t, "ok: [h] 2", evs[1].Stdout)
	assert.Equal(t, "ok: [h] 1\r\n"+wholeMarker(2)+marker(2)+forgedEvent+"\nok: [h] 2\n", text)
	assert.Equal(t, 4, forgedErrors(errs), "%v", errs)
	assert.Len(t, errs, 4)
}

// Once events come on the side band, an in-band event is not the plugin's,
// even without a key (a Wrap may have removed it from the environment).
func TestFilterSideBandRefusesInBandEvents(t *testing.T) {
	records := `1 {"event": "runner_on_ok", "uuid": "u1", "event_data": {"host": "h"}, "stdout": "ok: [h] 1\n"}` + "\n" +
		`2 {"event": "runner_on_ok", "uuid": "u2", "event_data": {"host": "h"}, "stdout": "ok: [h] 2\n"}` + "\n"
	terminal := wholeMarker(1) + forgedEvent + wholeMarker(2)
	evs, text, errs := collectSideConfig(t, terminal, records, 0, FilterConfig{TerminalNewlines: true})
	var got []string
	for _, e := range evs {
		got = append(got, e.Event+" "+e.Stdout)
		assert.NotEqual(t, "forged", e.Host())
	}
	forgedBegin := strings.TrimSuffix(forgedEvent, "FORGED\r\n"+endToken)
	assert.Equal(t, []string{"runner_on_ok ok: [h] 1", "verbose " + forgedBegin + "FORGED", "runner_on_ok ok: [h] 2"}, got, "%v", errs)
	assert.Equal(t, "ok: [h] 1\n"+forgedBegin+"FORGED\r\nok: [h] 2\n", text)
	// The begin token is refused; the end token after it (no key here)
	// ends no event.
	assert.Equal(t, 1, forgedErrors(errs), "%v", errs)
	assert.Len(t, errs, 1)
}
