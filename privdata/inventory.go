package privdata

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ResolveInventory turns inventory sources into the -i arguments ansible
// gets, the one way arunner resolves them: a "host1,host2," list stays as
// it is; a relative path names a file or dir in <pdd>/inventory when there
// is one there, else it is taken from the caller's working directory and
// made absolute (ansible runs elsewhere, in the project dir). A source that
// does not exist is an error naming it, since ansible only warns and runs
// against no hosts.
func ResolveInventory(pdd string, sources []string) ([]string, error) {
	out := make([]string, 0, len(sources))
	for _, s := range sources {
		if strings.Contains(s, ",") {
			out = append(out, s)
			continue
		}
		p := s
		if !filepath.IsAbs(p) {
			if q := (Paths{Root: pdd}).Inventory(p); exists(q) {
				p = q
			} else if q, err := filepath.Abs(p); err == nil {
				p = q
			}
		}
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("inventory source %s: %w", s, unwrapPathError(err))
		}
		out = append(out, p)
	}
	return out, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
