package events

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// ResultMessage is what a failed module result (Event.Res) says: its msg
// (a string, or the compact JSON of a list or mapping, as some modules
// give), then its stderr when msg does not already hold it. It is "" when
// res is not a JSON object.
func ResultMessage(res json.RawMessage) string {
	msg, stderr, ok := resultParts(res)
	if !ok {
		return ""
	}
	if stderr != "" && !strings.Contains(msg, stderr) {
		msg = strings.TrimSpace(msg + "\n" + stderr)
	}
	return msg
}

// ShortResultMessage is ResultMessage on one line for a summary: msg,
// then the first line of stderr (which holds the cause when msg is only
// "non-zero return code"), white space folded, cut to at most max bytes
// on a character boundary and marked "…" when cut.
func ShortResultMessage(res json.RawMessage, max int) string {
	msg, stderr, ok := resultParts(res)
	if !ok {
		return ""
	}
	if line, _, _ := strings.Cut(stderr, "\n"); line != "" && !strings.Contains(msg, line) {
		if msg != "" {
			msg += ": "
		}
		msg += line
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// resultParts reads a result's msg and stderr, both trimmed.
func resultParts(res json.RawMessage) (msg, stderr string, ok bool) {
	var r struct {
		Msg    json.RawMessage `json:"msg"`
		Stderr string          `json:"stderr"`
	}
	if json.Unmarshal(res, &r) != nil {
		return "", "", false
	}
	if json.Unmarshal(r.Msg, &msg) != nil && len(r.Msg) > 0 {
		var b bytes.Buffer
		if json.Compact(&b, r.Msg) == nil {
			msg = b.String()
		}
	}
	return strings.TrimSpace(msg), strings.TrimSpace(r.Stderr), true
}
