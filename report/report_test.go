package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/privdata"
	"github.com/arunner/arunner/runner"
)

// writeArtifacts writes an artifacts dir holding evs as job_events, with
// stdout, status and rc, and returns it.
func writeArtifacts(t *testing.T, evs []*events.Event, stdout, status string, rc int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "artifacts", "run1")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "job_events"), 0o700))
	for _, ev := range evs {
		b, err := ev.MarshalJSON()
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "job_events", fmt.Sprintf("%d-%s.json", ev.Counter, ev.UUID)), b, 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stdout"), []byte(stdout), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rc"), []byte(fmt.Sprint(rc)), 0o600))
	return dir
}

func render(t *testing.T, dir string) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteDir(&b, dir))
	return b.String()
}

// Event text is ansible's and the managed hosts': a host, task or message
// that holds markup must come out as text, and the page runs no script.
func TestWriteEscapesHostileText(t *testing.T) {
	const evil = `</script><script>alert(1)</script><img src=x onerror=alert(2)>"'`
	s := new(script)
	s.task(evil, evil, events.RunnerOnFailed, 0, 100, map[string]any{"msg": evil, "stderr": evil}, map[string]any{"play": evil})
	s.task(evil, "second play", events.RunnerOnOK, 100, 150, nil, map[string]any{"play": "other"}) // plays are shown
	s.add(events.PlaybookOnStats, 200, map[string]any{"failures": map[string]int{evil: 1}})
	out := render(t, writeArtifacts(t, s.evs, "\x1b[31m"+evil+"\x1b[0m\r\n", "failed", 2))

	assert.NotContains(t, out, "<script")
	assert.NotContains(t, out, "<img")
	assert.Contains(t, out, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;")
	// The attributes hold it escaped too: one bar, one failure, one recap row.
	assert.Equal(t, 1, strings.Count(out, `class="bar o-failed" data-host="&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&#34;&#39;"`))
	assert.Equal(t, 1, strings.Count(out, `<li class="failure"`))
	assert.Equal(t, 1, strings.Count(out, `<tr data-host=`))
	assert.Contains(t, out, `<span class="note">(play &lt;/script&gt;`)
	assert.Contains(t, out, "default-src 'none'", "a content security policy forbids scripts and network")
}

func TestWriteDirAnsibleRunner(t *testing.T) {
	out := render(t, "testdata/ansible-runner")
	bars := regexp.MustCompile(`<div class="bar o-(\w+)" data-host="(\w+)" data-task="([^"]+)" data-outcome="(\w+)"`).FindAllStringSubmatch(out, -1)
	var got []string
	for _, b := range bars {
		assert.Equal(t, b[1], b[4])
		got = append(got, b[2]+"/"+b[3]+"/"+b[4])
	}
	assert.Equal(t, []string{"h1/say hi/ok", "h1/fail on h2/skipped", "h1/remember/ok", "h2/say hi/ok", "h2/fail on h2/failed"}, got)
	assert.Contains(t, out, `<li class="failure" data-host="h2" data-task="fail on h2" data-outcome="failed">`)
	assert.Contains(t, out, `<pre class="msg">h2 is broken</pre>`)
	assert.Contains(t, out, `data-status="failed"`)
	assert.Contains(t, out, `<span class="f31">fatal: [h2]: FAILED! =&gt; {&#34;changed&#34;: false, &#34;msg&#34;: &#34;h2 is broken&#34;}</span>`)
	assert.Contains(t, out, `<tr data-host="h2"><td><b>h2</b></td><td class="n">1</td>`)
}

func TestWriteDirErrors(t *testing.T) {
	var b bytes.Buffer
	err := WriteDir(&b, t.TempDir())
	assert.ErrorIs(t, err, privdata.ErrNotFinished)

	s := new(script).add(events.PlaybookOnStart, 0, map[string]any{})
	dir := writeArtifacts(t, s.evs, "", "successful", 0)
	bad := filepath.Join(dir, "job_events", "2-bad.json")
	require.NoError(t, os.WriteFile(bad, []byte("{not json"), 0o600))
	err = WriteDir(&b, dir)
	var fe *privdata.FileError
	require.True(t, errors.As(err, &fe), "err = %v", err)
	assert.Equal(t, bad, fe.Path)
}

// A stdout artifact over maxStdout shows its end, from a line start.
func TestWriteLongStdout(t *testing.T) {
	line := strings.Repeat("x", 99) + "\n"
	stdout := "FIRST LINE\n" + strings.Repeat(line, maxStdout/len(line)+10) + "LAST LINE\n"
	out := render(t, writeArtifacts(t, nil, stdout, "successful", 0))
	assert.NotContains(t, out, "FIRST LINE")
	assert.Contains(t, out, "LAST LINE")
	assert.Regexp(t, `The first \d+ bytes are left out`, out)
	assert.Contains(t, out, `<pre class="stdout">`+line)
	assert.Less(t, len(out), maxStdout+20000)
}

// A run of thousands of tasks on many hosts, with loops, gives a page of
// a few megabytes at most: the limits hold.
func TestWriteLargeRun(t *testing.T) {
	const hosts, tasks = 60, 800
	m := newModel()
	ev := func(name, host, task string, createdMS int, data map[string]any) {
		data["host"], data["task"], data["task_uuid"] = host, task, "u-"+task
		raw, err := json.Marshal(data)
		require.NoError(t, err)
		m.add(&events.Event{Event: name, Created: at(createdMS), EventData: raw})
	}
	for i := range tasks {
		task := fmt.Sprintf("task number %d with a long name, as people write them", i)
		for h := range hosts {
			host := fmt.Sprintf("host%03d.example.com", h)
			ms := i * 100
			ev(events.RunnerOnStart, host, task, ms, map[string]any{})
			if i%10 == 0 {
				for item := range 20 {
					ev(events.RunnerItemOnOK, host, task, ms+item, map[string]any{"res": map[string]any{"item": item}})
				}
			}
			ev(events.RunnerOnOK, host, task, ms+50, map[string]any{"start": at(ms), "end": at(ms + 50), "res": map[string]any{"changed": h%2 == 0}})
		}
	}
	m.finish()
	var b bytes.Buffer
	require.NoError(t, pageTmpl.Execute(&b, newPage(&runner.Result{Ident: "big", Status: runner.StatusSuccessful}, m)))
	out := b.String()
	t.Logf("%d hosts, %d tasks: %d bytes", hosts, tasks, len(out))
	assert.Less(t, len(out), 5<<20)
	assert.Equal(t, maxLanes, strings.Count(out, `<div class="row lane"`))
	assert.LessOrEqual(t, strings.Count(out, `<div class="bar `), maxLanes*maxBarsPerLane)
	assert.Contains(t, out, "10 more hosts are in the recap only")
}
