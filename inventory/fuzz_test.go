package inventory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParse checks that Parse never panics and that whatever it accepts
// survives the JSON writer unchanged.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"a": {"children": ["b"]}, "b": {"hosts": {"h:22": null}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse(data)
		if err != nil {
			return
		}
		out, err := inv.JSON()
		require.NoError(t, err)
		back, err := Parse(out)
		require.NoError(t, err)
		require.Equal(t, inv, back)
		_, err = inv.YAML()
		require.NoError(t, err)
	})
}
