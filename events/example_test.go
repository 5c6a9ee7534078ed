package events_test

import (
	"encoding/base64"
	"fmt"
	"os"

	"github.com/arunner/arunner/events"
)

// token frames a JSON payload as the callback plugin does.
func token(payload string) string {
	b := base64.StdEncoding.EncodeToString([]byte(payload))
	return fmt.Sprintf("\x1b[K%s\x1b[%dD\x1b[K", b, len(b))
}

func ExampleNewFilter() {
	f := events.NewFilter(events.FilterConfig{
		RunnerIdent: "run1",
		Handle: func(e *events.Event) error {
			fmt.Printf("%d %s host=%q stdout=%q lines %d-%d\n", e.Counter, e.Event, e.Host(), e.Stdout, e.StartLine, e.EndLine)
			return nil
		},
		Text: os.Stdout,
	})
	pty := "No config file found\n" +
		token(`{"event": "runner_on_ok", "pid": 7, "uuid": "9f1c", "event_data": {"host": "localhost"}}`) +
		"ok: [localhost]\r\n" + token(`{}`)
	_, _ = f.Write([]byte(pty))
	_ = f.Close()
	fmt.Println("final counter:", f.Counter())
	// Output:
	// 1 verbose host="" stdout="No config file found" lines 0-1
	// No config file found
	// 2 runner_on_ok host="localhost" stdout="ok: [localhost]" lines 1-2
	// ok: [localhost]
	// final counter: 2
}
