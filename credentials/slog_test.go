package credentials

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slogForms are the ways a log line might carry v. marshaled marks the
// forms that slog's JSONHandler hands to encoding/json whole, so that
// LogValue is never called and the secrets are written: only
// TextHandler, which prints them with %+v, hides those.
var slogForms = []struct {
	name      string
	attr      func(v any) slog.Attr
	marshaled bool
}{
	{"value", func(v any) slog.Attr { return slog.Any("cred", v) }, false},
	{"pointer", func(v any) slog.Attr {
		p := reflect.New(reflect.TypeOf(v))
		p.Elem().Set(reflect.ValueOf(v))
		return slog.Any("cred", p.Interface())
	}, false},
	{"group", func(v any) slog.Attr { return slog.Group("cfg", "name", "cfg", "cred", v) }, false},
	{"slice", func(v any) slog.Attr {
		s := reflect.MakeSlice(reflect.SliceOf(reflect.TypeOf(v)), 1, 1)
		s.Index(0).Set(reflect.ValueOf(v))
		return slog.Any("creds", s.Interface())
	}, true},
	{"field", func(v any) slog.Attr {
		return slog.Any("cfg", struct {
			Name string
			Cred any
		}{"cfg", v})
	}, true},
}

func TestLogValueHidesSecrets(t *testing.T) {
	handlers := []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"JSON", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
		{"Text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
	}
	for _, tc := range hidingCases(t) {
		for _, h := range handlers {
			for _, form := range slogForms {
				if form.marshaled && h.name == "JSON" {
					continue
				}
				t.Run(tc.name+"/"+h.name+"/"+form.name, func(t *testing.T) {
					var b bytes.Buffer
					slog.New(h.new(&b)).LogAttrs(t.Context(), slog.LevelInfo, "run", form.attr(tc.v))
					out := b.String()
					for _, s := range tc.secrets {
						if f, ok := leaked(out, s); ok {
							t.Errorf("logs secret %q:\n%s", f, out)
						}
						// encoding/json writes a []byte in base64.
						if b64 := base64.StdEncoding.EncodeToString([]byte(s)); strings.Contains(out, b64) {
							t.Errorf("logs secret %q in base64:\n%s", s, out)
						}
					}
					for _, s := range tc.visible {
						q := strconv.Quote(s)
						if !strings.Contains(out, s) && !strings.Contains(out, q[1:len(q)-1]) {
							t.Errorf("lost non-secret %q:\n%s", s, out)
						}
					}
				})
			}
		}
	}
}

func TestLogValueLayout(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{}
			}
			return a
		},
	}))
	log.Info("run",
		"vault", Vault{VaultPassword: "pw", VaultID: "prod"},
		"unset", Vault{VaultID: "prod"},
		"scm", SCM{Username: "u", AcceptHostKey: true},
		"file", File{Content: []byte("x"), Mode: 0o600},
		"custom", Custom{Inputs: map[string]any{"a": "x"}})
	assert.JSONEq(t, `{"msg": "run",
		"vault": {"VaultPassword": "**********", "VaultID": "prod"},
		"unset": {"VaultPassword": "", "VaultID": "prod"},
		"scm": {"Username": "u", "Password": "", "SSHKeyData": "", "SSHKeyUnlock": "", "AcceptHostKey": true},
		"file": {"Content": "**********", "Mode": "-rw-------"},
		"custom": {"Type": "<nil>", "Inputs": "map[a:**********]"}}`, b.String())
}

// TestLogValueKeepsJSON checks that LogValue leaves json.Marshal alone:
// callers may store credentials as JSON.
func TestLogValueKeepsJSON(t *testing.T) {
	got, err := json.Marshal(Vault{VaultPassword: "pw", VaultID: "prod"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"VaultPassword": "pw", "VaultID": "prod"}`, string(got))
}
