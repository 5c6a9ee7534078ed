package runner

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's "Use it from Go" is ExampleRun_readme's code, so that it
// compiles as written.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)## Use it from Go\n\n```go\n(.*?)```").FindSubmatch(readme)
	require.NotNil(t, m, "no go block under Use it from Go")
	example, err := os.ReadFile("example_target_test.go")
	require.NoError(t, err)
	e := regexp.MustCompile(`(?s)// README begin\n(.*?)\t// README end`).FindSubmatch(example)
	require.NotNil(t, e)
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(string(e[1]), "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	assert.Equal(t, strings.Join(lines, "\n")+"\n", string(m[1]))
}
