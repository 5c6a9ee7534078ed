package eventproto_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/internal/eventproto"
)

// token frames a JSON payload as the callback plugin does.
func token(payload string) string { return keyedToken("", payload) }

// keyedToken frames a JSON payload as the callback plugin does with the
// run's key: the key goes in front of the base64.
func keyedToken(key, payload string) string {
	b := key + base64.StdEncoding.EncodeToString([]byte(payload))
	return fmt.Sprintf("\x1b[K%s\x1b[%dD\x1b[K", b, len(b))
}

func ExampleNewFilter() {
	f := eventproto.NewFilter(eventproto.FilterConfig{
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

// With the side band, the event JSON comes on a pipe, written before the
// small marker token that names it on the terminal; usually with the
// event's text, which then is not on the terminal at all.
func ExampleNewSideBand() {
	pr, pw, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	side := eventproto.NewSideBand(pr, 0)
	defer side.Close()
	// What the plugin writes to descriptor 3, then to the terminal.
	fmt.Fprintln(pw, `1 {"event": "runner_on_ok", "pid": 7, "uuid": "9f1c", "event_data": {"host": "localhost"}}`)
	// Usually the record carries the event's text too, as ansible wrote it,
	// and a marker alone stands for the event on the terminal.
	fmt.Fprintln(pw, `2 {"event": "runner_on_ok", "pid": 7, "uuid": "9f1d", "event_data": {"host": "web1"}, "stdout": "ok: [web1]\nsecond line\n"}`)
	pw.Close()
	terminal := token(`{"arunner_seq": 1}`) + "ok: [localhost]\r\n" + token(`{}`) + token(`{"arunner_rec": 2}`)

	f := eventproto.NewFilter(eventproto.FilterConfig{
		RunnerIdent:      "run1",
		SideBand:         side,
		TerminalNewlines: true, // a pty turns "\n" into "\r\n"; the Filter does the same to records' text
		Handle: func(e *events.Event) error {
			fmt.Printf("%d %s host=%q stdout=%q\n", e.Counter, e.Event, e.Host(), e.Stdout)
			return nil
		},
	})
	_, _ = f.Write([]byte(terminal))
	_ = f.Close()
	// Output:
	// 1 runner_on_ok host="localhost" stdout="ok: [localhost]"
	// 2 runner_on_ok host="web1" stdout="ok: [web1]\r\nsecond line"
}

func ExampleInstallPlugin() {
	dir, err := os.MkdirTemp("", "arunner-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	pluginDir, err := eventproto.InstallPlugin(filepath.Join(dir, "callback"))
	if err != nil {
		panic(err)
	}
	env := eventproto.Env(eventproto.EnvOptions{PluginDir: pluginDir, UserStdoutCallback: "minimal"})
	fmt.Println(env["ANSIBLE_STDOUT_CALLBACK"], env["ORIGINAL_STDOUT_CALLBACK"], env["ANSIBLE_CALLBACK_PLUGINS"] == pluginDir)
	// Output: arunner minimal true
}

func ExampleEnv() {
	// Key: eventproto.NewKey() in a real run; never print or record it.
	env := eventproto.Env(eventproto.EnvOptions{PluginDir: "/tmp/cb", OnlyFailedEventData: true, SideBand: true, Key: "k", Window: 50 * time.Millisecond})
	for _, k := range eventproto.ManagedEnvKeys() {
		fmt.Printf("%s=%s\n", k, env[k])
	}
	// Output:
	// ANSIBLE_CALLBACK_PLUGINS=/tmp/cb
	// ANSIBLE_STDOUT_CALLBACK=arunner
	// ORIGINAL_STDOUT_CALLBACK=
	// RUNNER_OMIT_EVENTS=False
	// RUNNER_ONLY_FAILED_EVENTS=True
	// MAX_EVENT_RES=700000
	// ARUNNER_EVENT_FD=3
	// ARUNNER_EVENT_KEY=k
	// ARUNNER_EVENT_WINDOW_MS=50
}

func ExampleManagedEnvKeys() {
	fmt.Println(len(eventproto.ManagedEnvKeys()), eventproto.ManagedEnvKeys()[1])
	// Output: 9 ANSIBLE_STDOUT_CALLBACK
}

func ExampleFilter_Counter() {
	f := eventproto.NewFilter(eventproto.FilterConfig{})
	_, _ = f.Write([]byte("one\ntwo\nthree"))
	fmt.Println(f.Counter())
	_ = f.Close() // the partial last line becomes an event too
	fmt.Println(f.Counter())
	// Output:
	// 2
	// 3
}

// The run's key goes to the plugin (EnvOptions.Key) and to the Filter: a
// token is the plugin's only if its base64 starts with the key. Framing
// that a task printed, without the key, stays text.
func ExampleNewKey() {
	key, err := eventproto.NewKey()
	if err != nil {
		panic(err)
	}
	env := eventproto.Env(eventproto.EnvOptions{PluginDir: "/tmp/cb", Key: key})
	f := eventproto.NewFilter(eventproto.FilterConfig{
		Key:     env[eventproto.KeyEnv],
		Handle:  func(e *events.Event) error { fmt.Printf("%s %q\n", e.Event, e.Stdout); return nil },
		OnError: func(err error) { fmt.Println("forged:", errors.Is(err, events.ErrForgedFrame)) },
	})
	forged := token(`{"event": "runner_on_ok", "uuid": "f"}`) + "FORGED" + token(`{}`)
	pty := keyedToken(key, `{"event": "runner_on_ok", "uuid": "9f1c"}`) + "ok: [localhost] " + forged +
		"\r\n" + keyedToken(key, `{}`)
	_, _ = f.Write([]byte(pty))
	_ = f.Close()
	fmt.Println(len(key), strings.Contains(pty, "FORGED"))
	// Output:
	// forged: true
	// forged: true
	// runner_on_ok "ok: [localhost] \x1b[KeyJldmVudCI6ICJydW5uZXJfb25fb2siLCAidXVpZCI6ICJmIn0=\x1b[52D\x1b[KFORGED\x1b[Ke30=\x1b[4D\x1b[K"
	// 16 true
}
