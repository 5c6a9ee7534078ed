package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/internal/proctest"
)

// ^C or SIGTERM ends a run waiting for the writer of a named pipe in env/,
// which no signal could end: rc 254, the artifacts say canceled, stderr
// names the pipe once, and the fake ansible never ran.
func TestSignalWhileReadingPDD(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			marker := filepath.Join(t.TempDir(), "ran")
			pdd, fake := fakeRun(t, "touch "+marker+"\n")
			env := filepath.Join(pdd, "env")
			require.NoError(t, os.Mkdir(env, 0o700))
			fifo := filepath.Join(env, "extravars")
			require.NoError(t, syscall.Mkfifo(fifo, 0o600))

			cmd := exec.Command(os.Args[0], "run", pdd, "-p", "site.yml", "-b", fake, "--ident", "sig")
			cmd.Env = append(os.Environ(), "ARUNNER_TEST_MAIN=1")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Start())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer func() {
				cmd.Process.Kill()
				<-done
			}()
			for deadline := time.Now().Add(10 * time.Second); !proctest.HoldsOpen(cmd.Process.Pid, fifo); time.Sleep(5 * time.Millisecond) {
				require.False(t, time.Now().After(deadline), "arunner did not open %s", fifo)
			}
			require.NoError(t, cmd.Process.Signal(sig))
			select {
			case <-done:
				done <- nil // for the deferred wait
			case <-time.After(10 * time.Second):
				t.Fatalf("arunner did not end within 10s of %v", sig)
			}
			assert.Equal(t, 254, cmd.ProcessState.ExitCode())
			before, summary := cutSummary(stderr.String())
			assert.Equal(t, "arunner: privdata: "+fifo+": run canceled: context canceled\n", before)
			assert.Contains(t, summary, "arunner: run sig canceled, rc 254")
			assert.Empty(t, stdout.String())
			art := filepath.Join(pdd, "artifacts", "sig")
			for name, want := range map[string]string{"status": "canceled", "rc": "254"} {
				data, err := os.ReadFile(filepath.Join(art, name))
				require.NoError(t, err)
				assert.Equal(t, want, string(data), name)
			}
			_, err := os.Stat(filepath.Join(art, ".arunner"))
			assert.ErrorIs(t, err, os.ErrNotExist, "no private file is left")
			_, err = os.Stat(marker)
			assert.ErrorIs(t, err, os.ErrNotExist, "ansible was never started")
		})
	}
}
