package runner_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/runner"
)

// A run with AWX-style credentials: the machine credential's key is served
// by an in-process ssh-agent, its become password and the vault password
// answer ansible's prompts on the terminal. None of them reaches argv, the
// environment, the artifacts or the Result: the recorded command shows
// only the flags the credentials added.
func ExampleConfig_credentials() {
	key, err := os.ReadFile("/srv/keys/deploy_ed25519")
	if err != nil {
		log.Fatal(err)
	}
	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: "/srv/jobs/43",
		Target:         runner.Playbook{Path: "site.yml"},
		Credentials: []credentials.Credential{
			credentials.Machine{
				Username:       "deploy",
				SSHKeyData:     string(key),
				SSHKeyUnlock:   os.Getenv("DEPLOY_KEY_PASSPHRASE"),
				BecomeMethod:   "sudo",
				BecomePassword: os.Getenv("DEPLOY_SUDO_PASSWORD"),
			},
			credentials.Vault{VaultID: "prod", VaultPassword: os.Getenv("VAULT_PROD_PASSWORD")},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	// ansible-playbook -u deploy --become --become-method sudo
	// --ask-become-pass --vault-id prod@prompt ... site.yml
	fmt.Println(strings.Join(res.Command, " "))
}

// A vault credential answers the vault prompt of any command; a shell plays
// ansible's part here so that the example runs anywhere. The answer is not
// echoed, and the Result's command shows the password redacted even where
// the caller put it on the command line.
func ExampleConfig_credentialsPrompt() {
	pdd, err := os.MkdirTemp("", "example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(pdd)
	const password = "correct horse battery staple"
	script := `stty -echo; printf 'Vault password:'; read -r pw; stty echo; echo; echo "got ${#pw} characters"`
	res, err := runner.Run(context.Background(), runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.RawCommand{Argv: []string{"sh", "-c", script, "--", password}},
		Credentials:    []credentials.Credential{credentials.Vault{VaultPassword: password}},
	})
	if err != nil {
		log.Fatal(err)
	}
	stdout, err := os.ReadFile(filepath.Join(res.ArtifactDir, "stdout"))
	if err != nil {
		log.Fatal(err)
	}
	// The terminal ended lines with CRLF.
	fmt.Print(strings.ReplaceAll(string(stdout), "\r\n", "\n"))
	fmt.Println(res.Status, res.Command[len(res.Command)-1])
	fmt.Println("password in stdout artifact:", strings.Contains(string(stdout), password))
	// Output:
	// Vault password:
	// got 28 characters
	// successful **********
	// password in stdout artifact: false
}
