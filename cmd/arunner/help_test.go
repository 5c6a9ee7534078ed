package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Each command has its own --help: its usage line and its flags, on
// stdout, exit 0.
func TestCommandHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"help"},
		{"run", "--help"}, {"transmit", "-h"}, {"process", "--help"}, {"help", "run"},
		{"start", "--help"}, {"stop", "-h"}, {"is-alive", "--help"},
		{"worker", "--help"}, {"worker", "cleanup", "--help"},
		{"completion", "--help"}, {"inventory", "--help"}, {"show", "--help"}, {"report", "--help"},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 0, realMain(args, &stdout, &stderr), "%q: %s", args, stderr.String())
		cmd := "arunner"
		for _, a := range args {
			if !strings.HasPrefix(a, "-") && a != "help" {
				cmd += " " + a
			}
		}
		if args[0] == "help" && len(args) > 1 {
			cmd = "arunner " + args[1]
		}
		assert.Contains(t, stdout.String(), "usage: "+cmd+" ", args)
		assert.Empty(t, stderr.String(), args)
	}
	var stdout, stderr bytes.Buffer
	realMain([]string{"run", "--help"}, &stdout, &stderr)
	assert.Contains(t, stdout.String(), "--process-isolation-hide-paths", "run's flags are listed")
	assert.NotContains(t, stdout.String(), "--only-transmit-kwargs", "transmit's own")
	stdout.Reset()
	realMain([]string{"transmit", "--help"}, &stdout, &stderr)
	assert.Contains(t, stdout.String(), "--only-transmit-kwargs")
	stdout.Reset()
	realMain([]string{"worker", "--help"}, &stdout, &stderr)
	assert.Contains(t, stdout.String(), "--keepalive-seconds")
	assert.NotContains(t, stdout.String(), "--playbook", "worker's own flags, not run's")
	assert.Contains(t, stdout.String(), "--nats URL", "the pool worker's")
}

// An unknown command or flag is a usage error: exit 2, the message and
// the usage of the command it was given to, on stderr.
func TestUnknownCommandAndFlag(t *testing.T) {
	for _, c := range []struct {
		args        []string
		says, usage string
	}{
		{[]string{"frobnicate", "/pdd"}, `unknown command "frobnicate"`, "usage: arunner COMMAND"},
		{[]string{}, "expected a command", "usage: arunner COMMAND"},
		{[]string{"run", "/pdd", "-p", "x.yml", "--frob"}, "unknown flag --frob", "usage: arunner run "},
		{[]string{"run", "/pdd", "-p", "x.yml", "-Z"}, "unknown flag -Z", "usage: arunner run "},
		{[]string{"transmit", "/pdd", "--bogus"}, "unknown flag --bogus", "usage: arunner transmit "},
		{[]string{"worker", "cleanup", "--bogus"}, "unknown argument --bogus", "usage: arunner worker cleanup "},
		{[]string{"stop"}, "expected `stop PRIVATE_DATA_DIR`", "usage: arunner stop "},
		{[]string{"is-alive", "a", "b"}, "expected `is-alive PRIVATE_DATA_DIR`", "usage: arunner is-alive "},
		{[]string{"start", "/pdd", "-p", "x.yml", "-m", "ping"}, "-p, -m and -r exclude each other", "usage: arunner start "},
		{[]string{"show"}, "expected `show ARTIFACT_DIR`", "usage: arunner show "},
		{[]string{"inventory", "-i"}, "-i needs a value", "usage: arunner inventory "},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, 2, realMain(c.args, &stdout, &stderr), c.args)
		assert.True(t, strings.HasPrefix(stderr.String(), "arunner: "+c.says), "%q: %s", c.args, stderr.String())
		assert.Contains(t, stderr.String(), c.usage, c.args)
		assert.Empty(t, stdout.String(), c.args)
	}
}
