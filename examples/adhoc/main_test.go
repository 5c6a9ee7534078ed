package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/arunner/arunner/runner"
)

func TestAdHoc(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	tests := []struct {
		module, args string
		want         string
		wantRC       int
	}{
		{module: "ping", want: "localhost: ok (changed=false)\nstatus=successful rc=0\n"},
		{module: "command", args: "false", want: "localhost: failed (changed=true)\nstatus=failed rc=2\n", wantRC: 2},
	}
	for _, tt := range tests {
		t.Run(tt.module, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), &out, tt.module, tt.args)
			var exit *runner.ExitError
			switch {
			case tt.wantRC == 0 && err != nil:
				t.Fatal(err)
			case tt.wantRC != 0 && (!errors.As(err, &exit) || exit.RC != tt.wantRC):
				t.Fatalf("err = %v, want an ExitError with rc %d", err, tt.wantRC)
			}
			if got := out.String(); !strings.HasSuffix(got, tt.want) {
				t.Errorf("output:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
