package runnertest

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/arunner/arunner/internal/eventproto"
	"github.com/arunner/arunner/internal/osdep"
)

// player is the fake ansible playing a Script: it writes the events the
// callback plugin would write, with the fields, parents and text that
// ansible-core's linear strategy and default stdout callback give them.
type player struct {
	w        *eventproto.Writer
	pid      int
	playbook string
	pbUUID   string // set once playbook_on_start went out
	stats    map[string]map[string]int
	failed   bool // a host failed a task (not ignored)
	dark     bool // a host was unreachable
	stdin    *bufio.Reader
	raw      bool // replaying: the terminal passes bytes as they are
}

func play(s Script) int {
	p := &player{w: eventproto.NewWriter(os.Stdout), pid: os.Getpid(), playbook: "site.yml",
		stats: map[string]map[string]int{}, stdin: bufio.NewReader(os.Stdin)}
	for _, st := range s {
		switch w := st.w; w.Kind {
		case "play":
			p.play(w.Play)
		case "text":
			p.w.Text(w.Text)
		case "stderr":
			os.Stderr.WriteString(w.Text)
		case "prompt":
			if !p.prompt(w.Text, w.Answer) {
				return 1
			}
		case "sleep":
			time.Sleep(w.Duration)
		case "exit":
			p.end()
			return w.RC
		case "die":
			die(w.Signal)
			return 98
		case "hang":
			return p.hang()
		case "event":
			if err := p.replay(w.Event, w.Text); err != nil {
				fmt.Fprintf(os.Stderr, "runnertest fake: %v\n", err)
				return 97
			}
		case "raw":
			p.rawText(w.Text)
		}
	}
	p.end()
	switch {
	case p.dark:
		return 4
	case p.failed:
		return 2
	}
	return 0
}

// die ends the process by sig. The Go runtime turns some signals (SIGSEGV,
// SIGABRT...) into a crash with exit code 2, so the process becomes a
// shell, with the same pid, which sends sig to itself.
func die(sig syscall.Signal) {
	os.Stdout.Sync()
	syscall.Exec("/bin/sh", []string{"sh", "-c", fmt.Sprintf("kill -%d $$", int(sig))}, os.Environ())
	signal.Reset(sig) // no shell: the runtime's default for sig
	syscall.Kill(os.Getpid(), sig)
	time.Sleep(time.Minute)
}

// hangLimit bounds a Hang, so that a fake whose runner went away without
// killing it does not stay forever.
const hangLimit = 10 * time.Minute

// hang waits for SIGINT (a cancel's first step) or SIGTERM, and exits as
// ansible does on KeyboardInterrupt.
func (p *player) hang() int {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-c:
	case <-time.After(hangLimit):
	}
	os.Stderr.WriteString("[ERROR]: User interrupted execution\n")
	return 99
}

// prompt asks as getpass does: echo off on the terminal while reading.
func (p *player) prompt(text, want string) bool {
	p.w.Text(text)
	if t, err := osdep.GetTermios(0); err == nil {
		off := *t
		off.Lflag &^= unix.ECHO
		if osdep.SetTermios(0, &off) == nil {
			defer osdep.SetTermios(0, t)
		}
	}
	line, err := p.stdin.ReadString('\n')
	p.w.Text("\n")
	answer := strings.TrimRight(line, "\r\n")
	switch {
	case err != nil && answer == "":
		fmt.Fprintf(os.Stderr, "ERROR! no answer to the prompt %q\n", strings.TrimSpace(text))
		return false
	case want != "" && answer != want:
		fmt.Fprintf(os.Stderr, "ERROR! Decryption failed: the answer to the prompt %q is wrong\n", strings.TrimSpace(text))
		return false
	}
	return true
}

// field is one key of a JSON object that keeps its keys in order, as the
// plugin's dicts do.
type field struct {
	k string
	v any
}

type object []field

// pyJSON encodes v as the plugin's json.dumps does, with ", " and ": "
// between items; maps (which have no order in Go) with sorted keys.
// dumps drops the "_ansible" keys, as the default callback does in its
// text.
func pyJSON(v any, dumps bool) string {
	var sb strings.Builder
	var walk func(v any)
	obj := func(keys []string, val func(string) any) {
		sb.WriteByte('{')
		n := 0
		for _, k := range keys {
			if dumps && strings.HasPrefix(k, "_ansible") {
				continue
			}
			if n > 0 {
				sb.WriteString(", ")
			}
			n++
			kb, _ := json.Marshal(k)
			sb.Write(kb)
			sb.WriteString(": ")
			walk(val(k))
		}
		sb.WriteByte('}')
	}
	walk = func(v any) {
		switch x := v.(type) {
		case object:
			keys := make([]string, len(x))
			vals := make(map[string]any, len(x))
			for i, f := range x {
				keys[i], vals[f.k] = f.k, f.v
			}
			if dumps {
				slices.Sort(keys)
			}
			obj(keys, func(k string) any { return vals[k] })
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			obj(keys, func(k string) any { return x[k] })
		case []any:
			sb.WriteByte('[')
			for i, e := range x {
				if i > 0 {
					sb.WriteString(", ")
				}
				walk(e)
			}
			sb.WriteByte(']')
		case nil, bool, string, float64, int, json.Number:
			b, _ := json.Marshal(x)
			sb.Write(b)
		default: // other maps and slices: through their JSON
			b, _ := json.Marshal(x)
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.UseNumber()
			var y any
			if dec.Decode(&y) != nil {
				sb.Write(b)
				return
			}
			walk(y)
		}
	}
	walk(v)
	return sb.String()
}

// event writes one event the way the plugin's begin_dict builds it: data
// is its event_data (the play's and task's context first, then the hook's
// own keys, uuid last); parent_uuid is the first of task_uuid, play_uuid
// and playbook_uuid that is not the event's own uuid.
func (p *player) event(name string, data object, text string) {
	own := ""
	for _, f := range data {
		if f.k == "uuid" {
			own = f.v.(string)
		}
	}
	if own == "" {
		own = newUUID()
		data = append(data, field{"uuid", own})
	}
	parent := ""
	for _, key := range []string{"task_uuid", "play_uuid", "playbook_uuid"} {
		for _, f := range data {
			if f.k == key && f.v != own && parent == "" {
				parent = f.v.(string)
			}
		}
	}
	ev := object{{"event", name}, {"pid", p.pid}, {"uuid", own}, {"created", now()}}
	if parent != "" {
		ev = append(ev, field{"parent_uuid", parent})
	}
	ev = append(ev, field{"event_data", data})
	p.w.Event([]byte(pyJSON(ev, false)), text)
}

func now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000000") }

// newUUID returns a random (version 4) UUID, as the plugin's are.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// banner is the default callback's banner: "\n" + msg + " " + stars up to
// column 80.
func banner(msg string) string {
	return "\n" + msg + " " + strings.Repeat("*", max(3, 79-len(msg))) + "\n"
}

// start writes playbook_on_start, once.
func (p *player) start() {
	if p.pbUUID != "" {
		return
	}
	p.pbUUID = newUUID()
	p.event("playbook_on_start", p.pbContext(field{"uuid", p.pbUUID}), "")
}

func (p *player) pbContext(own ...field) object {
	return append(object{{"playbook", p.playbook}, {"playbook_uuid", p.pbUUID}}, own...)
}

func (p *player) count(host, stat string) {
	m := p.stats[stat]
	if m == nil {
		m = map[string]int{}
		p.stats[stat] = m
	}
	m[host]++
}

func (p *player) play(pl *PlayStep) {
	p.start()
	playUUID := newUUID()
	name := cmpOr(strings.TrimSpace(pl.Name), pl.Pattern)
	playCtx := p.pbContext(field{"play", name}, field{"play_uuid", playUUID}, field{"play_pattern", pl.Pattern})
	p.event("playbook_on_play_start",
		append(clone(playCtx), field{"name", name}, field{"pattern", pl.Pattern}, field{"uuid", playUUID}),
		banner("PLAY ["+name+"]"))
	for i, t := range pl.Tasks {
		p.task(playCtx, t, i)
	}
}

func clone(o object) object { return append(object(nil), o...) }

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (p *player) task(playCtx object, t TaskStep, i int) {
	action := cmpOr(t.Action, "debug")
	resolved := action
	if !strings.Contains(action, ".") {
		resolved = "ansible.builtin." + action
	}
	name := cmpOr(t.Name, action)
	taskUUID := newUUID()
	ctx := append(clone(playCtx), field{"task", name}, field{"task_uuid", taskUUID}, field{"task_action", action},
		field{"resolved_action", resolved}, field{"task_args", ""}, field{"task_path", fmt.Sprintf("site.yml:%d", 3+4*i)})
	p.event("playbook_on_task_start",
		append(clone(ctx), field{"name", name}, field{"is_conditional", false}, field{"uuid", taskUUID}),
		banner("TASK ["+name+"]"))
	started := map[string]string{}
	for _, h := range t.Hosts {
		started[h.Host] = now()
		p.event("runner_on_start", append(clone(ctx), field{"host", h.Host}), "")
	}
	for _, h := range t.Hosts {
		p.result(ctx, h, started[h.Host])
	}
}

// result writes a host's result: its items' events first, then the
// task's, with the text of ansible's default stdout callback.
func (p *player) result(ctx object, h HostResult, start string) {
	res := object{}
	add := func(k string, v any) { res = append(res, field{k, v}) }
	if h.Items == nil {
		for k, v := range h.Res {
			add(k, v)
		}
	}
	changed := h.Status == "changed"
	var results []any
	for _, item := range h.Items {
		r := object{}
		for k, v := range h.Res {
			r = append(r, field{k, v})
		}
		r = append(r, field{"changed", changed}, field{"item", item}, field{"ansible_loop_var", "item"},
			field{"_ansible_no_log", false}, field{"_ansible_item_label", item})
		event, text, tail := "runner_item_on_ok", "ok", ""
		switch h.Status {
		case "changed":
			text = "changed"
		case "failed":
			event, text = "runner_item_on_failed", "failed"
			r = append(r, field{"failed", true}, field{"msg", h.Msg})
		case "skipped":
			event, text = "runner_item_on_skipped", "skipping"
			r = append(r, field{"skip_reason", "Conditional result was False"})
			tail = " " // the default callback prints one after a skipped item
		}
		p.event(event, append(clone(ctx), field{"host", h.Host}, field{"res", r}),
			fmt.Sprintf("%s: [%s] => (item=%s)%s\n", text, h.Host, itemLabel(item), tail))
		results = append(results, r)
	}
	if h.Items != nil {
		add("results", results)
		add("msg", "All items completed")
	}
	add("changed", changed)
	if h.Msg != "" && h.Items == nil {
		add("msg", h.Msg)
	}
	if h.Items == nil && h.Status != "unreachable" {
		add("_ansible_no_log", false) // a loop's and an unreachable host's result have none
	}
	end := now()
	timing := []field{{"start", start}, {"end", end}, {"duration", duration(start, end)}}
	hostCtx := append(clone(ctx), field{"host", h.Host}, field{"remote_addr", h.Host})
	p.count(h.Host, "processed")
	text := ""
	switch h.Status {
	case "ok", "changed":
		p.count(h.Host, "ok")
		if changed {
			p.count(h.Host, "changed")
		}
		if h.Items == nil {
			text = fmt.Sprintf("%s: [%s]\n", map[bool]string{false: "ok", true: "changed"}[changed], h.Host)
		}
		p.event("runner_on_ok", append(append(hostCtx, field{"res", res}), append(timing, field{"event_loop", nil})...), text)
	case "failed":
		var ignore any // ignore_errors is null unless set, as ansible passes it
		if h.IgnoreErrors {
			ignore = true
		}
		if h.IgnoreErrors {
			p.count(h.Host, "ignored")
		} else {
			p.count(h.Host, "failures")
			p.failed = true
		}
		text = fmt.Sprintf("fatal: [%s]: FAILED! => %s\n", h.Host, pyDumps(res))
		if h.IgnoreErrors {
			text += "...ignoring\n"
		}
		p.event("runner_on_failed", append(append(hostCtx, field{"res", res}),
			append(timing, field{"ignore_errors", ignore}, field{"event_loop", nil})...), text)
	case "unreachable":
		add("unreachable", true)
		p.count(h.Host, "dark")
		p.dark = true
		text = fmt.Sprintf("fatal: [%s]: UNREACHABLE! => %s\n", h.Host, pyDumps(res))
		p.event("runner_on_unreachable", append(append(hostCtx, timing...), field{"res", res}), text)
	case "skipped":
		p.count(h.Host, "skipped")
		p.event("runner_on_skipped", append(append(hostCtx, timing...), field{"event_loop", nil}),
			fmt.Sprintf("skipping: [%s]\n", h.Host))
	default:
		fmt.Fprintf(os.Stderr, "runnertest fake: host %s: unknown status %q\n", h.Host, h.Status)
	}
}

func itemLabel(item any) string {
	if s, ok := item.(string); ok {
		return s
	}
	return pyDumps(item)
}

func duration(start, end string) float64 {
	s, err1 := time.Parse("2006-01-02T15:04:05.000000", start)
	e, err2 := time.Parse("2006-01-02T15:04:05.000000", end)
	if err1 != nil || err2 != nil {
		return 0
	}
	return e.Sub(s).Seconds()
}

// pyDumps is Python's json.dumps(v, sort_keys=True) of a result without
// its internal "_ansible" keys, as the default callback prints it.
func pyDumps(v any) string { return pyJSON(v, true) }

// end writes playbook_on_stats when a play ran, and the recap.
func (p *player) end() {
	if p.pbUUID == "" {
		return
	}
	hosts := map[string]bool{}
	var order []string
	for _, m := range p.stats {
		for h := range m {
			if !hosts[h] {
				hosts[h] = true
				order = append(order, h)
			}
		}
	}
	slices.Sort(order)
	stat := func(name string) map[string]int {
		if m := p.stats[name]; m != nil {
			return m
		}
		return map[string]int{}
	}
	recap := banner("PLAY RECAP")
	for _, h := range order {
		recap += fmt.Sprintf("%-26s : %s %s %s %s %s %s %s\n", h,
			col("ok", stat("ok")[h]), col("changed", stat("changed")[h]), col("unreachable", stat("dark")[h]),
			col("failed", stat("failures")[h]), col("skipped", stat("skipped")[h]), col("rescued", stat("rescued")[h]),
			col("ignored", stat("ignored")[h]))
	}
	recap += "\n"
	data := p.pbContext()
	for _, k := range []string{"changed", "dark", "failures", "ignored", "ok", "processed", "rescued", "skipped"} {
		data = append(data, field{k, stat(k)})
	}
	data = append(data, field{"artifact_data", map[string]any{}})
	p.event("playbook_on_stats", data, recap)
	p.pbUUID = ""
}

func col(name string, n int) string { return fmt.Sprintf("%s=%-4d", name, n) }
