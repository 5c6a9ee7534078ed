package stream

import (
	"encoding/json"
	"syscall"
)

func syscallMkfifo(p string) error { return syscall.Mkfifo(p, 0o600) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
