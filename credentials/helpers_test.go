package credentials

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// pythonOf returns the interpreter of an ansible entry point script, so that
// tests use the Python (and Jinja2, PyYAML) that ansible itself runs on.
func pythonOf(t *testing.T, script string) string {
	t.Helper()
	f, err := os.Open(script)
	require.NoError(t, err)
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	require.NotEmpty(t, fields, "no shebang in %s", script)
	if strings.HasSuffix(fields[0], "/env") && len(fields) > 1 {
		return fields[1]
	}
	return fields[0]
}
