package runner

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/internal/testee"
)

// The test binary doubles as a fake ansible-playbook: run with ARUNNER_FAKE
// set, TestMain plays the part named there instead of running tests (the
// pattern of Go's os/exec tests).
func TestMain(m *testing.M) {
	if mode := os.Getenv("ARUNNER_FAKE"); mode != "" {
		os.Exit(fake(mode))
	}
	code := m.Run()
	testee.Cleanup()
	os.Exit(code)
}

// fakeConfig is a Config whose binary is the fake playing mode.
func fakeConfig(t testing.TB, mode string) Config {
	t.Helper()
	return Config{
		PrivateDataDir: fakePDD(t),
		Target:         Playbook{Path: "site.yml"},
		Binary:         os.Args[0],
		EnvVars:        map[string]string{"ARUNNER_FAKE": mode},
		CancelGrace:    500 * time.Millisecond,
	}
}

// fakePDD lays out the smallest private data dir a playbook run accepts.
func fakePDD(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.MkdirAll(dir+"/project", 0o700))
	must(t, os.MkdirAll(dir+"/inventory", 0o700))
	must(t, os.WriteFile(dir+"/project/site.yml", []byte("- hosts: all\n  tasks: []\n"), 0o600))
	must(t, os.WriteFile(dir+"/inventory/hosts", []byte("localhost ansible_connection=local\n"), 0o600))
	return dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// token frames payload the way arunner's callback plugin does, with the
// run's key (eventproto.KeyEnv in the environment): eventproto.Writer writes
// the framing for every fake.
func token(payload any) string {
	data, _ := json.Marshal(payload)
	return eventproto.NewInBandWriter(nil, os.Getenv(eventproto.KeyEnv)).Token(data)
}

// frameB64 frames base64 text as token does.
func frameB64(b64 string) string { return eventproto.Frame(b64) }

func fakeEvent(name, uuid, text string) string {
	begin := token(map[string]any{
		"uuid": uuid, "event": name, "pid": os.Getpid(), "created": "2026-11-27T00:00:00.000000",
		"event_data": map[string]any{"host": "localhost", "task": "t", "uuid": uuid},
	})
	return begin + text + token(map[string]any{})
}

// fakeModes holds parts that other test files add.
var fakeModes = map[string]func() int{}

// fake plays one part; its return value is the exit code.
func fake(mode string) int {
	out := os.Stdout
	switch mode {
	case "ok":
		fmt.Fprint(out, "PLAY [all] ***\n\nTASK [ping] ***\nok: [localhost]\n")
		return 0
	case "events":
		n, _ := strconv.Atoi(os.Getenv("FAKE_EVENTS"))
		fmt.Fprint(out, fakeEvent("playbook_on_start", "00000000-0000-0000-0000-000000000000", ""))
		for i := 1; i <= n; i++ {
			fmt.Fprint(out, fakeEvent("runner_on_ok", fmt.Sprintf("00000000-0000-0000-0000-%012d", i), fmt.Sprintf("ok: [localhost] %d\n", i)))
		}
		stats := token(map[string]any{
			"uuid": "ffffffff-0000-0000-0000-000000000000", "event": "playbook_on_stats",
			"event_data": map[string]any{"ok": map[string]int{"localhost": n}, "changed": map[string]int{},
				"dark": map[string]int{}, "failures": map[string]int{}, "ignored": map[string]int{},
				"processed": map[string]int{"localhost": 1}, "rescued": map[string]int{}, "skipped": map[string]int{}},
		})
		fmt.Fprint(out, stats+"\nPLAY RECAP ***\n"+token(map[string]any{}))
		return 0
	case "exit2":
		fmt.Fprint(out, "fatal: [localhost]: FAILED!\n")
		return 2
	case "env":
		files := map[string]string{}  // what each -e @file holds
		inputs := map[string]string{} // what each -i file and the playbook hold
		for i, a := range os.Args[1:] {
			if a == "-e" && i+2 < len(os.Args) && strings.HasPrefix(os.Args[i+2], "@") {
				data, err := os.ReadFile(os.Args[i+2][1:])
				if err != nil {
					data = []byte(err.Error())
				}
				files[os.Args[i+2][1:]] = string(data)
			}
			if a == "-i" && i+2 < len(os.Args) {
				if data, err := os.ReadFile(os.Args[i+2]); err == nil {
					inputs[os.Args[i+2]] = string(data)
				}
			}
		}
		if last := os.Args[len(os.Args)-1]; len(os.Args) > 1 {
			if data, err := os.ReadFile(last); err == nil {
				inputs[last] = string(data)
			}
		}
		data, _ := json.Marshal(map[string]any{"env": os.Environ(), "args": os.Args, "stdin_tty": isTTY(0), "files": files, "inputs": inputs})
		os.WriteFile(os.Getenv("FAKE_OUT"), data, 0o600)
		return 0
	case "sleep":
		fmt.Fprint(out, "sleeping\n")
		time.Sleep(60 * time.Second)
		return 0
	case "ignoreint":
		signal.Ignore(syscall.SIGINT)
		fmt.Fprint(out, "ignoring SIGINT\n")
		time.Sleep(60 * time.Second)
		return 0
	case "tree":
		// A child in the same process group, as ansible's forked workers
		// and ssh are; its pid goes to FAKE_OUT for the test to check.
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), "ARUNNER_FAKE=sleep")
		c.Stdout = os.Stdout
		if err := c.Start(); err != nil {
			return 3
		}
		os.WriteFile(os.Getenv("FAKE_OUT"), []byte(fmt.Sprintf("%d %d", os.Getpid(), c.Process.Pid)), 0o600)
		fmt.Fprint(out, "tree started\n")
		time.Sleep(60 * time.Second)
		return 0
	case "chatty":
		// Output every 100 ms: never idle, so only a job timeout ends it.
		for i := 0; ; i++ {
			fmt.Fprintf(out, "tick %d\n", i)
			time.Sleep(100 * time.Millisecond)
		}
	case "burst":
		// A lot of output right before exit: all of it must reach stdout.
		line := strings.Repeat("x", 99) + "\n"
		w := bufio.NewWriterSize(out, 1<<16)
		for i := 0; i < 20000; i++ {
			w.WriteString(line)
		}
		w.WriteString("LAST LINE\n")
		w.Flush()
		return 0
	case "prompt":
		fmt.Fprint(out, "Vault password: ")
		line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
		fmt.Fprintf(out, "\ngot %d bytes, ok=%v\n", len(strings.TrimRight(line, "\n")), strings.TrimRight(line, "\n") == "s3cret-vault")
		return 0
	case "vars_prompt":
		fmt.Fprint(out, "Enter the secret: ")
		bufio.NewReader(os.Stdin).ReadString('\n')
		return 0
	}
	if f, ok := fakeModes[mode]; ok {
		return f()
	}
	fmt.Fprintf(os.Stderr, "unknown fake mode %q\n", mode)
	return 99
}

func isTTY(fd int) bool {
	_, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return false
	}
	target, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	return strings.HasPrefix(target, "/dev/pts/")
}

// gone reports whether pid no longer runs: absent, or a zombie that is not
// ours to reap (this machine's PID 1 may not reap re-parented orphans).
func gone(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	return fields[0] == "Z" && fields[1] != strconv.Itoa(os.Getpid())
}

func init() {
	fakeModes["stderr"] = func() int {
		fmt.Fprintln(os.Stdout, `{"json": "on stdout"}`)
		fmt.Fprintln(os.Stderr, "a warning on stderr")
		return 0
	}
}

func init() {
	// A broken frame between good text: well-formed framing whose payload
	// is not JSON.
	fakeModes["garbage"] = func() int {
		fmt.Fprint(os.Stdout, "before\n")
		fmt.Fprint(os.Stdout, frameB64(os.Getenv(eventproto.KeyEnv)+"bm90IGpzb24=")) // base64 of "not json"
		fmt.Fprint(os.Stdout, "middle\n")
		fmt.Fprint(os.Stdout, fakeEvent("runner_on_ok", "00000000-0000-0000-0000-000000000001", "ok: [localhost]\n"))
		fmt.Fprint(os.Stdout, "after\n")
		return 0
	}
}

// envReport is what the "env" fake saw of its own process.
type envReport struct {
	Env      map[string]string // its environment
	Args     []string          // its argv after argv[0]
	StdinTTY bool              // stdin is a pty
	Files    map[string]string // the content of each -e @file, by name
	Inputs   map[string]string // the content of each -i file and of the playbook
}

// runEnvFake runs cfg (whose binary is the "env" fake) to success and
// returns what the fake reported.
func runEnvFake(t *testing.T, cfg Config) (*Result, envReport) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "env.json")
	cfg.EnvVars["FAKE_OUT"] = out
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var raw struct {
		Env      []string          `json:"env"`
		Args     []string          `json:"args"`
		StdinTTY bool              `json:"stdin_tty"`
		Files    map[string]string `json:"files"`
		Inputs   map[string]string `json:"inputs"`
	}
	data, err := os.ReadFile(out)
	must(t, err)
	must(t, json.Unmarshal(data, &raw))
	rep := envReport{Env: map[string]string{}, Args: raw.Args[1:], StdinTTY: raw.StdinTTY, Files: raw.Files, Inputs: raw.Inputs}
	for _, kv := range raw.Env {
		k, v, _ := strings.Cut(kv, "=")
		rep.Env[k] = v
	}
	return res, rep
}
