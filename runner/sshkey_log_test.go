package runner

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"strings"
	"testing"
)

func TestSSHKeyLogValueHidesSecrets(t *testing.T) {
	pem := "-----BEGIN OPENSSH PRIVATE KEY-----\nkey-Lq38\n-----END OPENSSH PRIVATE KEY-----\n"
	k := SSHKey{PEM: []byte(pem), Passphrase: []byte("pp-Tx62"), Comment: "deploy-key"}
	type holder struct {
		Name string
		Key  SSHKey
	}
	// JSONHandler hands a slice or a struct to encoding/json whole, without
	// calling LogValue on what is inside: only TextHandler, which prints
	// them with %+v, hides those.
	forms := []struct {
		name      string
		attr      slog.Attr
		marshaled bool
	}{
		{"value", slog.Any("key", k), false},
		{"pointer", slog.Any("key", &k), false},
		{"group", slog.Group("cfg", "name", "cfg", "key", k), false},
		{"slice", slog.Any("keys", []SSHKey{k}), true},
		{"field", slog.Any("cfg", holder{"cfg", k}), true},
	}
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"JSON": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"Text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	}
	for hname, newHandler := range handlers {
		for _, form := range forms {
			if form.marshaled && hname == "JSON" {
				continue
			}
			t.Run(hname+"/"+form.name, func(t *testing.T) {
				var b bytes.Buffer
				slog.New(newHandler(&b)).LogAttrs(t.Context(), slog.LevelInfo, "run", form.attr)
				out := b.String()
				for _, s := range []string{pem, "key-Lq38", "BEGIN OPENSSH", "pp-Tx62"} {
					if strings.Contains(out, s) {
						t.Errorf("logs secret %q:\n%s", s, out)
					}
				}
				// encoding/json writes a []byte in base64.
				for _, s := range []string{pem, "pp-Tx62"} {
					if strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(s))) {
						t.Errorf("logs secret %q in base64:\n%s", s, out)
					}
				}
				if !strings.Contains(out, "deploy-key") {
					t.Errorf("lost the comment:\n%s", out)
				}
			})
		}
	}
}
