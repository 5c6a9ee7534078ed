package cmdbuild_test

import (
	"errors"
	"fmt"

	"github.com/arunner/arunner/cmdbuild"
)

func ExamplePlaybook_Args() {
	argv, err := cmdbuild.Playbook{
		Inventory:      []string{"/pdd/inventory"},
		ExtraVarsFiles: []string{"/pdd/env/extravars"},
		Tags:           []string{"deploy", "config"},
		Playbook:       "site.yml",
		Switches:       cmdbuild.Switches{Limit: "web", Verbosity: 2, Forks: 10, Become: true, VaultIDs: []string{"prod"}},
	}.Args()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cmdbuild.Quote(argv))
	// Output:
	// ansible-playbook -i /pdd/inventory --limit web -e @/pdd/env/extravars -vv --tags deploy,config --forks 10 --become --vault-id prod@prompt site.yml
}

func ExamplePlaybook_Args_error() {
	_, err := cmdbuild.Playbook{Playbook: "site.yml", Switches: cmdbuild.Switches{Verbosity: 7}}.Args()
	var se *cmdbuild.SpecError
	if errors.As(err, &se) {
		fmt.Println(se.Field, "->", err)
	}
	// Output:
	// Verbosity -> cmdbuild: Playbook.Verbosity: must be between 0 and 5
}

func ExampleAdHoc_Args() {
	argv, err := cmdbuild.AdHoc{
		Inventory:   []string{"/pdd/inventory"},
		Module:      "shell",
		ModuleArgs:  "uptime",
		HostPattern: "all",
	}.Args()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", argv)
	// Output:
	// ["ansible" "-i" "/pdd/inventory" "-m" "shell" "-a" "uptime" "all"]
}

func ExampleInventory_Args() {
	argv, err := cmdbuild.Inventory{
		Action:    "host",
		Host:      "web1",
		Inventory: []string{"/pdd/inventory"},
		Yaml:      true,
	}.Args()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", argv)
	// Output:
	// ["ansible-inventory" "--host" "web1" "-i" "/pdd/inventory" "--yaml"]
}

func ExampleSplit() {
	// The content of a private data dir's env/cmdline file.
	tokens, err := cmdbuild.Split(`--diff -e "@/pdd/my vars.yml" --limit 'web:!db'`)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%q\n", tokens)

	_, err = cmdbuild.Split(`--limit 'web`)
	fmt.Println(err, errors.Is(err, cmdbuild.ErrUnterminatedQuote))
	// Output:
	// ["--diff" "-e" "@/pdd/my vars.yml" "--limit" "web:!db"]
	// cmdbuild: split: no closing quotation (started at byte 8) true
}

func ExampleQuote() {
	fmt.Println(cmdbuild.Quote([]string{"ansible-playbook", "--limit", "web:!db", "--start-at-task", "Don't stop", "site.yml"}))
	// Output:
	// ansible-playbook --limit 'web:!db' --start-at-task 'Don'"'"'t stop' site.yml
}
