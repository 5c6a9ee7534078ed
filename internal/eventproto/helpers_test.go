package eventproto

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/arunner/arunner/events"
)

// frame encodes payload with the token framing of ansible-runner's
// awx_display.dump: ESC[K, 78-char base64 slices each followed by
// ESC[<len>D, ESC[K.
func frame(payload string) string { return keyedFrame("", payload) }

// keyedFrame frames payload as the plugin does with the run's key: the key
// goes in front of the base64.
func keyedFrame(key, payload string) string {
	b := key + base64.StdEncoding.EncodeToString([]byte(payload))
	var sb strings.Builder
	sb.WriteString("\x1b[K")
	for len(b) > 0 {
		n := min(78, len(b))
		fmt.Fprintf(&sb, "%s\x1b[%dD", b[:n], n)
		b = b[n:]
	}
	sb.WriteString("\x1b[K")
	return sb.String()
}

const endToken = "\x1b[Ke30=\x1b[4D\x1b[K"

// wrap frames text as one event with the given begin JSON.
func wrap(begin, text string) string { return frame(begin) + text + endToken }

// collect runs input through a Filter written in the given pieces and
// returns the events, the Text output and the reported frame errors.
func collect(pieces []string, cfg FilterConfig) (evs []*events.Event, text string, errs []error, err error) {
	var sb strings.Builder
	cfg.Handle = func(e *events.Event) error { evs = append(evs, e); return nil }
	cfg.Text = &sb
	cfg.OnError = func(e error) { errs = append(errs, e) }
	f := NewFilter(cfg)
	for _, p := range pieces {
		if _, err = f.Write([]byte(p)); err != nil {
			return
		}
	}
	err = f.Close()
	return evs, sb.String(), errs, err
}
