package prompt

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// No fmt verb prints a response: %d and %x would print a plain struct's
// fields one by one, and a slice of pairs prints each with its methods.
func TestPrintHidesResponse(t *testing.T) {
	const secret = "pw-Zq81"
	pair := Pair{Pattern: "Vault password:", Response: secret}
	rule := Rule{Pattern: regexp.MustCompile("Vault password:"), Response: secret}
	for _, v := range []any{pair, &pair, []Pair{pair}, rule, &rule, []Rule{rule}, struct{ P Pair }{pair}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, secret, "%s of %T", verb, v)
			assert.NotContains(t, strings.ToLower(out), fmt.Sprintf("%x", secret), "%s of %T", verb, v)
			if verb != "%x" && verb != "%X" {
				assert.Contains(t, out, "Vault password", "%s of %T", verb, v)
			}
		}
	}
}

// slog's JSON handler marshals a plain struct with encoding/json; LogValue
// keeps the response out.
func TestLogHidesResponse(t *testing.T) {
	const secret = "pw-Zq81"
	var b strings.Builder
	log := slog.New(slog.NewJSONHandler(&b, nil))
	log.Info("answer", "pair", Pair{Pattern: "Vault password:", Response: secret},
		"rule", Rule{Pattern: regexp.MustCompile("Vault password:"), Response: secret})
	assert.NotContains(t, b.String(), secret)
	assert.Contains(t, b.String(), `"Pattern":"Vault password:"`)
}
