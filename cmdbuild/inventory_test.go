package cmdbuild

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInventoryArgs(t *testing.T) {
	tests := []struct {
		name string
		spec Inventory
		want []string
	}{
		{"default is list", Inventory{}, []string{"ansible-inventory", "--list"}},
		{"list", Inventory{Action: "list", Inventory: []string{"/pdd/inventory"}},
			[]string{"ansible-inventory", "--list", "-i", "/pdd/inventory"}},
		{"graph", Inventory{Action: "graph"}, []string{"ansible-inventory", "--graph"}},
		{"host", Inventory{Action: "host", Host: "web1"}, []string{"ansible-inventory", "--host", "web1"}},
		{"dash host uses --host=", Inventory{Action: "host", Host: "-h"}, []string{"ansible-inventory", "--host=-h"}},
		{"yaml", Inventory{Yaml: true}, []string{"ansible-inventory", "--list", "--yaml"}},
		{"toml", Inventory{Toml: true}, []string{"ansible-inventory", "--list", "--toml"}},
		{"everything, in documented order", Inventory{
			Binary: "ai", Cmdline: []string{"--vars"}, Action: "list", Inventory: []string{"a", "b"},
			Limit: "l", Export: true, Output: "/tmp/o.json", PlaybookDir: "/pdd/project", Yaml: true,
			VaultIDs: []string{"dev"}, AskVaultPass: true, Verbosity: 4},
			[]string{"ai", "--vars", "--list", "-i", "a", "-i", "b", "--yaml", "--playbook-dir", "/pdd/project",
				"--vault-id", "dev@prompt", "--output", "/tmp/o.json", "--export", "--limit", "l",
				"--ask-vault-pass", "-vvvv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.Args()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestInventoryErrors(t *testing.T) {
	tests := []struct {
		name  string
		spec  Inventory
		field string
	}{
		{"unknown action", Inventory{Action: "vars"}, "Action"},
		{"host without name", Inventory{Action: "host"}, "Host"},
		{"host with list", Inventory{Host: "web1"}, "Host"},
		{"host with graph", Inventory{Action: "graph", Host: "web1"}, "Host"},
		{"yaml and toml", Inventory{Yaml: true, Toml: true}, "Toml"},
		{"verbosity", Inventory{Verbosity: 6}, "Verbosity"},
		{"empty inventory", Inventory{Inventory: []string{""}}, "Inventory[0]"},
		{"newline in output", Inventory{Output: "o\n"}, "Output"},
		{"at in vault id", Inventory{VaultIDs: []string{"a@b"}}, "VaultIDs[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.Args()
			require.Error(t, err)
			assert.Nil(t, got)
			var se *SpecError
			require.True(t, errors.As(err, &se), "error %v is not a *SpecError", err)
			assert.Equal(t, "Inventory", se.Spec)
			assert.Equal(t, tt.field, se.Field)
			assert.ErrorIs(t, err, ErrInvalidSpec)
		})
	}
}
