package main

import (
	"context"
	"os/exec"
	"testing"
)

// The example runs end to end: ansible decrypts the vaulted variable with
// the password the runner answered, and run fails if the password is found
// anywhere in the private data dir afterwards.
func TestExample(t *testing.T) {
	for _, tool := range []string{"ansible-playbook", "ansible-vault"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
	if err := run(context.Background(), "example-test-vault-pw-4f2a"); err != nil {
		t.Fatal(err)
	}
}
