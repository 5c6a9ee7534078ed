package events_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/arunner/arunner/events"
)

func TestResultMessage(t *testing.T) {
	cases := []struct{ res, full, short string }{
		{`{"msg": "non-zero return code", "stderr": "E: Unable to locate package ngix\nmore"}`,
			"non-zero return code\nE: Unable to locate package ngix\nmore", "non-zero return code: E: Unable to locate package ngix"},
		{`{"msg": "line one\nline two"}`, "line one\nline two", "line one line two"},
		{`{"msg": "said it all: boom", "stderr": "boom"}`, "said it all: boom", "said it all: boom"},
		{`{"stderr": "only stderr"}`, "only stderr", "only stderr"},
		{`{"msg": {"a": 1}}`, `{"a":1}`, `{"a":1}`},
		{`{"msg": ["x", "y"]}`, `["x","y"]`, `["x","y"]`},
		{`not json`, "", ""},
		{`{"msg": "` + strings.Repeat("é", 200) + `"}`, strings.Repeat("é", 200), strings.Repeat("é", 150) + "…"},
	}
	for _, c := range cases {
		assert.Equal(t, c.full, events.ResultMessage(json.RawMessage(c.res)), c.res)
		assert.Equal(t, c.short, events.ShortResultMessage(json.RawMessage(c.res), 300), c.res)
	}
}
