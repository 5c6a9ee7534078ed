package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// arunner report ARTIFACT_DIR -o FILE writes the run's page; without -o
// to stdout; a dir that is not a finished run's is an error and leaves no
// file.
func TestReportCommand(t *testing.T) {
	pdd, fake := fakeRun(t, "echo fake says hello\nexit 3\n")
	var stdout, stderr bytes.Buffer
	require.Equal(t, 3, realMain([]string{"run", pdd, "-p", "site.yml", "-b", fake, "--ident", "rep"}, &stdout, &stderr))
	art := filepath.Join(pdd, "artifacts", "rep")

	out := filepath.Join(t.TempDir(), "run.html")
	stdout.Reset()
	stderr.Reset()
	require.Equal(t, 0, realMain([]string{"report", art, "-o", out}, &stdout, &stderr), stderr.String())
	page, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(strings.ToLower(strings.TrimSpace(string(page))), "<!doctype html>"), "%.200s", page)
	assert.Contains(t, string(page), "fake says hello")
	assert.Empty(t, stdout.String())

	stdout.Reset()
	require.Equal(t, 0, realMain([]string{"report", art}, &stdout, &stderr), stderr.String())
	assert.Equal(t, string(page), stdout.String())

	bad := filepath.Join(t.TempDir(), "bad.html")
	stderr.Reset()
	assert.Equal(t, 1, realMain([]string{"report", pdd, "-o", bad}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "arunner: ")
	assert.NoFileExists(t, bad)
	left, _ := os.ReadDir(filepath.Dir(bad))
	assert.Empty(t, left, "no temporary file is left")
	assert.Equal(t, 2, realMain([]string{"report"}, &stdout, &stderr))
}
