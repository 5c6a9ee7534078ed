package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// arunner completion SHELL prints the shell's completion script; the
// script asks arunner itself (__complete) what completes a word.
func TestCompletionScripts(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash": "complete -o default -F __start_arunner arunner",
		"zsh":  "#compdef arunner",
		"fish": "complete -c arunner ",
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 0, realMain([]string{"completion", shell}, &stdout, &stderr), shell)
		assert.Contains(t, stdout.String(), marker, shell)
		assert.Contains(t, stdout.String(), "__complete", shell)
		assert.Empty(t, stderr.String(), shell)
	}

	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, realMain([]string{"__complete", "s"}, &stdout, &stderr))
	words := strings.Fields(stdout.String())
	assert.Subset(t, words, []string{"start", "stop", "show"})
	stdout.Reset()
	assert.Equal(t, 0, realMain([]string{"__complete", "run", "/pdd", "--process-isolation-h"}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "--process-isolation-hide-paths")
	assert.NotContains(t, stdout.String(), "--daemon-child")
	stdout.Reset()
	assert.Equal(t, 0, realMain([]string{"__complete", "start", "/pdd", "--d"}, &stdout, &stderr))
	assert.NotContains(t, stdout.String(), "--daemon-child", "hidden")
}
