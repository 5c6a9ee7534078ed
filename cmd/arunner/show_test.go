package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const failingPlaybook = `- name: deploy
  hosts: all
  gather_facts: false
  tasks:
    - name: say hello
      debug: {msg: hello}
    - name: break
      command: /bin/false
`

// show replays an artifact dir made by real ansible-runner: its stdout
// as it was, and the summary with the failed task, elapsed time from its
// events; the exit code is the run's rc. report makes its page.
func TestShowAnsibleRunnerArtifacts(t *testing.T) {
	if _, err := exec.LookPath("ansible-runner"); err != nil {
		t.Skip("ansible-runner is not installed")
	}
	pdd := realPlaybook(t, failingPlaybook)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ansible-runner", "run", pdd, "-p", "site.yml", "--ident", "ref", "-q").CombinedOutput()
	require.Error(t, err, "the playbook fails: %s", out)
	art := filepath.Join(pdd, "artifacts", "ref")

	var stdout, stderr bytes.Buffer
	assert.Equal(t, 2, realMain([]string{"show", art}, &stdout, &stderr))
	want, err := os.ReadFile(filepath.Join(art, "stdout"))
	require.NoError(t, err)
	assert.Equal(t, string(want), stdout.String())
	assert.Contains(t, stdout.String(), "TASK [break]")
	assert.Regexp(t, regexp.MustCompile(`^arunner: run ref failed, rc 2, in \d+(\.\d+)?m?s\n`+
		`  artifacts: `+regexp.QuoteMeta(art)+"\n"+
		`  localhost : ok=1 changed=0 unreachable=0 failed=1 skipped=0 rescued=0 ignored=0\n`+
		`  failed: localhost, task "break": non-zero return code\n$`), stderr.String())
	assert.NotRegexp(t, `in 0s\n`, stderr.String(), "elapsed from the events")

	// Its report, too.
	page := filepath.Join(t.TempDir(), "run.html")
	stdout.Reset()
	stderr.Reset()
	require.Equal(t, 0, realMain([]string{"report", art, "-o", page}, &stdout, &stderr), stderr.String())
	html, err := os.ReadFile(page)
	require.NoError(t, err)
	assert.Contains(t, string(html), `data-task="break"`)
}

// show replays arunner's own artifacts the same way; a dir that is not a
// finished run's is an error.
func TestShowOwnArtifacts(t *testing.T) {
	pdd, fake := fakeRun(t, "echo fake says hello\nexit 3\n")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 3, realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "--ident", "own"}, &stdout, &stderr))
	stdout.Reset()
	stderr.Reset()
	art := filepath.Join(pdd, "artifacts", "own")
	assert.Equal(t, 3, realMain([]string{"show", art}, &stdout, &stderr))
	assert.Equal(t, "fake says hello\r\n", stdout.String())
	assert.Contains(t, stderr.String(), "arunner: run own failed, rc 3, in ")
	assert.Contains(t, stderr.String(), "  artifacts: "+art+"\n")

	stdout.Reset()
	stderr.Reset()
	assert.Equal(t, 1, realMain([]string{"show", pdd}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "arunner: ")
	assert.Empty(t, stdout.String())
	assert.Equal(t, 2, realMain([]string{"show"}, &stdout, &stderr))
}
