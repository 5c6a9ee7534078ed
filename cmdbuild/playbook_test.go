package cmdbuild

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlaybookArgs(t *testing.T) {
	tests := []struct {
		name string
		spec Playbook
		want []string
	}{
		{"minimal", Playbook{Playbook: "site.yml"}, []string{"ansible-playbook", "site.yml"}},
		{"binary", Playbook{Binary: "/opt/venv/bin/ansible-playbook", Playbook: "p.yml"},
			[]string{"/opt/venv/bin/ansible-playbook", "p.yml"}},
		{"cmdline right after binary", Playbook{Cmdline: []string{"--diff", "-e", ""}, Inventory: []string{"inv"}, Playbook: "p.yml"},
			[]string{"ansible-playbook", "--diff", "-e", "", "-i", "inv", "p.yml"}},
		{"inventories", Playbook{Inventory: []string{"/pdd/inventory", "h1,h2,"}, Playbook: "p.yml"},
			[]string{"ansible-playbook", "-i", "/pdd/inventory", "-i", "h1,h2,", "p.yml"}},
		{"limit", Playbook{Playbook: "p.yml", Switches: Switches{Limit: "web:!db"}},
			[]string{"ansible-playbook", "--limit", "web:!db", "p.yml"}},
		{"extra vars files", Playbook{ExtraVarsFiles: []string{"/pdd/env/extravars", "x y.yml"}, Playbook: "p.yml"},
			[]string{"ansible-playbook", "-e", "@/pdd/env/extravars", "-e", "@x y.yml", "p.yml"}},
		{"verbosity 1", Playbook{Playbook: "p.yml", Switches: Switches{Verbosity: 1}}, []string{"ansible-playbook", "-v", "p.yml"}},
		{"verbosity 5", Playbook{Playbook: "p.yml", Switches: Switches{Verbosity: 5}}, []string{"ansible-playbook", "-vvvvv", "p.yml"}},
		{"tags", Playbook{Tags: []string{"a", "b c"}, Playbook: "p.yml"},
			[]string{"ansible-playbook", "--tags", "a,b c", "p.yml"}},
		{"skip tags", Playbook{SkipTags: []string{"slow"}, Playbook: "p.yml"},
			[]string{"ansible-playbook", "--skip-tags", "slow", "p.yml"}},
		{"forks", Playbook{Playbook: "p.yml", Switches: Switches{Forks: 7}}, []string{"ansible-playbook", "--forks", "7", "p.yml"}},
		{"start at task", Playbook{StartAtTask: "Install nginx", Playbook: "p.yml"},
			[]string{"ansible-playbook", "--start-at-task", "Install nginx", "p.yml"}},
		{"check diff", Playbook{Playbook: "p.yml", Switches: Switches{Check: true, Diff: true}},
			[]string{"ansible-playbook", "--check", "--diff", "p.yml"}},
		{"become", Playbook{Playbook: "p.yml", Switches: Switches{Become: true, BecomeMethod: "su", BecomeUser: "root"}},
			[]string{"ansible-playbook", "--become", "--become-method", "su", "--become-user", "root", "p.yml"}},
		{"user timeout", Playbook{Playbook: "p.yml", Switches: Switches{User: "deploy", Timeout: 30}},
			[]string{"ansible-playbook", "--user", "deploy", "--timeout", "30", "p.yml"}},
		{"ask passwords", Playbook{Playbook: "p.yml", Switches: Switches{AskPass: true, AskBecomePass: true, AskVaultPass: true}},
			[]string{"ansible-playbook", "--ask-pass", "--ask-become-pass", "--ask-vault-pass", "p.yml"}},
		{"vault ids", Playbook{Playbook: "p.yml", Switches: Switches{VaultIDs: []string{"dev", "prod"}}},
			[]string{"ansible-playbook", "--vault-id", "dev@prompt", "--vault-id", "prod@prompt", "p.yml"}},
		{"force handlers", Playbook{ForceHandlers: true, Playbook: "p.yml"},
			[]string{"ansible-playbook", "--force-handlers", "p.yml"}},
		{"dash values use the = form", Playbook{
			Tags:        []string{"-t"},
			SkipTags:    []string{"-s"},
			Inventory:   []string{"-inv"},
			StartAtTask: "-x",
			Playbook:    "p.yml",
			Switches:    Switches{Limit: "-web", BecomeUser: "-u", VaultIDs: []string{"-v"}},
		},
			[]string{"ansible-playbook", "--inventory=-inv", "--limit=-web", "--tags=-t", "--skip-tags=-s",
				"--become-user=-u", "--vault-id=-v@prompt", "--start-at-task=-x", "p.yml"}},
		{"dash playbook after --", Playbook{Playbook: "-p.yml"}, []string{"ansible-playbook", "--", "-p.yml"}},
		{"everything, in documented order", Playbook{
			Binary:         "ap",
			Cmdline:        []string{"--flush-cache"},
			Inventory:      []string{"i"},
			ExtraVarsFiles: []string{"e"},
			Tags:           []string{"t"},
			SkipTags:       []string{"s"},
			StartAtTask:    "st",
			ForceHandlers:  true,
			Playbook:       "p.yml",
			Switches:       Switches{Limit: "l", Verbosity: 2, Forks: 3, Check: true, Diff: true, Become: true, BecomeMethod: "sudo", BecomeUser: "bu", User: "u", Timeout: 9, AskPass: true, AskBecomePass: true, AskVaultPass: true, VaultIDs: []string{"v"}},
		},
			[]string{"ap", "--flush-cache", "-i", "i", "--limit", "l", "-e", "@e", "-vv", "--tags", "t",
				"--skip-tags", "s", "--forks", "3", "--check", "--diff", "--become", "--become-method", "sudo",
				"--become-user", "bu", "--user", "u", "--timeout", "9", "--ask-pass", "--ask-become-pass",
				"--ask-vault-pass", "--vault-id", "v@prompt", "--start-at-task", "st", "--force-handlers", "p.yml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.Args()
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPlaybookErrors(t *testing.T) {
	const secret = "hunter2"
	tests := []struct {
		name  string
		spec  Playbook
		field string
	}{
		{"no playbook", Playbook{}, "Playbook"},
		{"verbosity high", Playbook{Playbook: "p", Switches: Switches{Verbosity: 6}}, "Verbosity"},
		{"verbosity negative", Playbook{Playbook: "p", Switches: Switches{Verbosity: -1}}, "Verbosity"},
		{"forks negative", Playbook{Playbook: "p", Switches: Switches{Forks: -1}}, "Forks"},
		{"timeout negative", Playbook{Playbook: "p", Switches: Switches{Timeout: -5}}, "Timeout"},
		{"newline in limit", Playbook{Playbook: "p", Switches: Switches{Limit: "a\nb"}}, "Limit"},
		{"CR in user", Playbook{Playbook: "p", Switches: Switches{User: "a\rb"}}, "User"},
		{"NUL in playbook", Playbook{Playbook: "p\x00.yml"}, "Playbook"},
		{"newline in playbook", Playbook{Playbook: "p\n.yml"}, "Playbook"},
		{"NUL in binary", Playbook{Binary: "a\x00", Playbook: "p"}, "Binary"},
		{"secret cmdline token with NUL", Playbook{Cmdline: []string{"-e", secret + "\x00"}, Playbook: "p"}, "Cmdline[1]"},
		{"double dash in cmdline", Playbook{Cmdline: []string{"--"}, Playbook: "p"}, "Cmdline[0]"},
		{"empty inventory", Playbook{Inventory: []string{"a", ""}, Playbook: "p"}, "Inventory[1]"},
		{"newline in inventory", Playbook{Inventory: []string{"a\n"}, Playbook: "p"}, "Inventory[0]"},
		{"empty extra vars file", Playbook{ExtraVarsFiles: []string{""}, Playbook: "p"}, "ExtraVarsFiles[0]"},
		{"empty tag", Playbook{Tags: []string{"a", ""}, Playbook: "p"}, "Tags[1]"},
		{"comma in skip tag", Playbook{SkipTags: []string{"a,b"}, Playbook: "p"}, "SkipTags[0]"},
		{"newline in tags", Playbook{Tags: []string{"a\nb"}, Playbook: "p"}, "Tags"},
		{"at in vault id", Playbook{Playbook: "p", Switches: Switches{VaultIDs: []string{"dev@/etc/pw"}}}, "VaultIDs[0]"},
		{"empty vault id", Playbook{Playbook: "p", Switches: Switches{VaultIDs: []string{""}}}, "VaultIDs[0]"},
		{"newline in start at task", Playbook{StartAtTask: "a\n", Playbook: "p"}, "StartAtTask"},
		{"first error wins", Playbook{Switches: Switches{Verbosity: 9, Forks: -1}}, "Verbosity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.spec.Args()
			require.Error(t, err)
			assert.Nil(t, got)
			var se *SpecError
			require.True(t, errors.As(err, &se), "error %v is not a *SpecError", err)
			assert.Equal(t, "Playbook", se.Spec)
			assert.Equal(t, tt.field, se.Field)
			assert.NotEmpty(t, se.Reason)
			assert.ErrorIs(t, err, ErrInvalidSpec)
			assert.Contains(t, err.Error(), "Playbook."+tt.field+": ")
			assert.NotContains(t, err.Error(), secret, "error strings must not echo values")
		})
	}
}
