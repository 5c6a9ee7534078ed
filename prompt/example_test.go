package prompt_test

import (
	"fmt"

	"github.com/arunner/arunner/prompt"
)

func ExampleNewMatcher() {
	rules, err := prompt.Compile([]prompt.Pair{
		{Pattern: `^Vault password:\s*?$`, Response: "hunter2"},
		{Pattern: `BECOME password.*:\s*?$`, Response: "sudo-pass"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	m := prompt.NewMatcher(rules)
	// What the pty delivers: an event token, a color code, and the prompt
	// split across two reads.
	reads := []string{
		"\x1b[KeyJ1dWlkIjogIjEifQ==\x1b[20D\x1b[K\x1b[0;35mVault pass",
		"word: \x1b[0m",
		"\r\n", // ansible's newline after the hidden input: nothing to answer
		"BECOME password[defaults to SSH password]: ",
	}
	for _, r := range reads {
		for _, answer := range m.Feed([]byte(r)) {
			fmt.Printf("write %q\n", answer)
		}
	}
	// Output:
	// write "hunter2\n"
	// write "sudo-pass\n"
}

func ExampleCompile() {
	_, err := prompt.Compile([]prompt.Pair{
		{Pattern: `SSH password:\s*?$`, Response: "secret-1"},
		{Pattern: `Vault password(?=:)`, Response: "secret-2"}, // Python-only lookahead
	})
	fmt.Println(err)
	// Output: prompt: pattern 1 "Vault password(?=:)": invalid regular expression: error parsing regexp: invalid or unsupported Perl syntax: `(?=`
}

func ExampleMatcher_Pending() {
	m := prompt.NewMatcher(nil)
	m.Feed([]byte("PLAY [all] ****\r\n\x1b[KeyJ1dWlkIjogIjIifQ==\x1b[20D\x1b[KEnter the secret: "))
	// The runner ends the run with an error naming this text once ansible
	// has been silent for the prompt timeout.
	fmt.Printf("%q\n", m.Pending())
	// Output: "Enter the secret:"
}
