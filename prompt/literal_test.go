package prompt

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRequiredLiteral(t *testing.T) {
	tests := []struct{ expr, want string }{
		{`(?m)^Vault password:\s*?$`, "Vault password:"},
		{`(?m)BECOME password.*:\s*?$`, "BECOME password"},
		{`Enter passphrase for .*:\s*?$`, "Enter passphrase for "},
		{`(?:SSH|BECOME) password:`, " password:"},
		{`(Vault)+ password`, " password"},
		{`x{2,} password`, " password"},
		{`(?i)password:`, ""},
		{`pass|word`, ""},
		{`(?:Password:)?`, ""},
		{`é\d+ü`, "é"},
		{`(`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			got := requiredLiteral(tc.expr)
			assert.Equal(t, tc.want, got)
			// Soundness on a sample: every match contains the literal.
			if re, err := regexp.Compile(tc.expr); err == nil && got != "" {
				for _, m := range re.FindAllString("Vault password: SSH password: BECOME password[x]: xx password éé12ü", -1) {
					assert.True(t, strings.Contains(m, got), "match %q lacks %q", m, got)
				}
			}
		})
	}
}
