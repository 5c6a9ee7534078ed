package cmdbuild

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAdHocArgs(t *testing.T) {
	tests := []struct {
		name string
		spec AdHoc
		want []string
	}{
		{"minimal", AdHoc{Module: "ping", HostPattern: "all"}, []string{"ansible", "-m", "ping", "all"}},
		{"module args", AdHoc{Module: "shell", ModuleArgs: "echo a\necho b", HostPattern: "web"},
			[]string{"ansible", "-m", "shell", "-a", "echo a\necho b", "web"}},
		{"dash module args use --args=", AdHoc{Module: "command", ModuleArgs: "-la", HostPattern: "all"},
			[]string{"ansible", "-m", "command", "--args=-la", "all"}},
		{"dash host pattern after --", AdHoc{Module: "ping", HostPattern: "-x"},
			[]string{"ansible", "-m", "ping", "--", "-x"}},
		{"everything, in documented order", AdHoc{
			Binary:         "a",
			Cmdline:        []string{"-c", "local"},
			Inventory:      []string{"i"},
			ExtraVarsFiles: []string{"e"},
			Module:         "setup",
			ModuleArgs:     "filter=ansible_*",
			HostPattern:    "db",
			Switches:       Switches{Limit: "l", Verbosity: 3, Forks: 2, Check: true, Diff: true, Become: true, BecomeMethod: "sudo", BecomeUser: "bu", User: "u", Timeout: 4, AskPass: true, AskBecomePass: true},
		},
			[]string{"a", "-c", "local", "-i", "i", "--limit", "l", "-e", "@e", "-vvv", "--forks", "2",
				"--check", "--diff", "--become", "--become-method", "sudo", "--become-user", "bu", "--user", "u",
				"--timeout", "4", "--ask-pass", "--ask-become-pass", "-m", "setup", "-a", "filter=ansible_*", "db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.Args()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAdHocErrors(t *testing.T) {
	tests := []struct {
		name  string
		spec  AdHoc
		field string
	}{
		{"no module", AdHoc{HostPattern: "all"}, "Module"},
		{"no host pattern", AdHoc{Module: "ping"}, "HostPattern"},
		{"NUL in module args", AdHoc{Module: "shell", ModuleArgs: "a\x00", HostPattern: "all"}, "ModuleArgs"},
		{"newline in module", AdHoc{Module: "pi\nng", HostPattern: "all"}, "Module"},
		{"newline in host pattern", AdHoc{Module: "ping", HostPattern: "all\n"}, "HostPattern"},
		{"verbosity", AdHoc{Module: "ping", HostPattern: "all", Switches: Switches{Verbosity: 6}}, "Verbosity"},
		{"forks", AdHoc{Module: "ping", HostPattern: "all", Switches: Switches{Forks: -2}}, "Forks"},
		{"become method newline", AdHoc{Module: "ping", HostPattern: "all", Switches: Switches{BecomeMethod: "su\n"}}, "BecomeMethod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.Args()
			require.Error(t, err)
			assert.Nil(t, got)
			var se *SpecError
			require.True(t, errors.As(err, &se), "error %v is not a *SpecError", err)
			assert.Equal(t, "AdHoc", se.Spec)
			assert.Equal(t, tt.field, se.Field)
			assert.ErrorIs(t, err, ErrInvalidSpec)
		})
	}
}
