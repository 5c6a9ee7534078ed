// Command credentials runs a playbook with a vaulted variable against
// localhost, handing arunner the vault password as a credential. The
// password answers ansible's --ask-vault-pass prompt on the terminal and
// nowhere else: the program prints the run's command artifact (argv, cwd,
// environment) and proves the password is in neither it nor any other
// artifact.
//
//	go run ./examples/credentials
//
// The password comes from ARUNNER_VAULT_PASSWORD, or is made up for the run.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/arunner/arunner/credentials"
	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/privdata"
	"github.com/arunner/arunner/runner"
)

const inventory = `localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"
`

func main() {
	password := os.Getenv("ARUNNER_VAULT_PASSWORD")
	if password == "" {
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			log.Fatal(err)
		}
		password = hex.EncodeToString(b)
	}
	if err := run(context.Background(), password); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, password string) error {
	pdd, err := os.MkdirTemp("", "credentials-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(pdd)

	vaulted, err := encryptString(password, "launch_code", "0000-wait-for-it")
	if err != nil {
		return err
	}
	playbook := "- hosts: all\n  gather_facts: false\n  vars:\n" + indent(vaulted, "    ") +
		"  tasks:\n    - debug:\n        msg: \"decrypted by ansible: {{ launch_code }}\"\n"
	if _, err := privdata.Write(pdd, privdata.Layout{
		Inventory:    privdata.Inventory{Content: inventory},
		ProjectFiles: map[string][]byte{"site.yml": []byte(playbook)},
	}); err != nil {
		return err
	}

	res, err := runner.Run(ctx, runner.Config{
		PrivateDataDir: pdd,
		Target:         runner.Playbook{Path: "site.yml"},
		Credentials:    []credentials.Credential{credentials.Vault{VaultPassword: password}},
		EventHandler: func(ev *events.Event) bool {
			if ev.Event == events.RunnerOnOK {
				var r struct{ Msg string }
				if json.Unmarshal(ev.Res(), &r) == nil && r.Msg != "" {
					fmt.Println(r.Msg)
				}
			}
			return true
		},
	})
	if err != nil {
		return err
	}

	command, err := os.ReadFile(filepath.Join(res.ArtifactDir, "command"))
	if err != nil {
		return err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, command, "", "  "); err != nil {
		return err
	}
	fmt.Printf("command artifact:\n%s\n", pretty.String())

	leaks, err := filesContaining(pdd, password)
	if err != nil {
		return err
	}
	fmt.Println("vault password found in the command artifact:", bytes.Contains(command, []byte(password)))
	fmt.Println("vault password found in the private data dir:", len(leaks) > 0)
	if len(leaks) > 0 {
		return fmt.Errorf("the vault password leaked into %s", strings.Join(leaks, ", "))
	}
	return nil
}

// encryptString vaults value as the YAML of a variable named name. The
// password reaches ansible-vault on its stdin: not on disk, not in argv.
func encryptString(password, name, value string) (string, error) {
	cmd := exec.Command("ansible-vault", "encrypt_string", "--vault-password-file", "/dev/stdin", "--name", name, value)
	cmd.Stdin = strings.NewReader(password)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("ansible-vault encrypt_string: %w: %s", err, stderr.Bytes())
	}
	return string(out), nil
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(strings.TrimRight(s, "\n")+"\n", "\n") {
		if line != "" {
			b.WriteString(prefix + line)
		}
	}
	return b.String()
}

// filesContaining lists the files under dir that contain secret.
func filesContaining(dir, secret string) ([]string, error) {
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(data, []byte(secret)) {
			rel, _ := filepath.Rel(dir, path)
			found = append(found, rel)
		}
		return nil
	})
	return found, err
}
