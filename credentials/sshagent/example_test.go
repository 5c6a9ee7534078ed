package sshagent_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/arunner/arunner/credentials/sshagent"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func ExampleStart() {
	// A key as a controller would hand it over: PEM bytes, here encrypted.
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	blk, _ := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("passphrase"))
	key := sshagent.Key{PEM: pem.EncodeToMemory(blk), Passphrase: []byte("passphrase"), Comment: "machine credential"}

	base, _ := os.MkdirTemp("", "pdd")
	defer os.RemoveAll(base)
	a, err := sshagent.Start(filepath.Join(base, "ssh_agent"), key)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close()

	// ansible would get SSH_AUTH_SOCK=a.Socket(); ask the agent what it holds.
	conn, _ := net.Dial("unix", a.Socket())
	defer conn.Close()
	keys, _ := agent.NewClient(conn).List()
	for _, k := range keys {
		fmt.Println(k.Format, k.Comment)
	}
	// Output: ssh-ed25519 machine credential
}

func ExampleKeyError() {
	_, err := sshagent.Start(os.TempDir(), sshagent.Key{PEM: []byte("oops"), Comment: "deploy key"})
	fmt.Println(err)
	// Output: sshagent: key 0 ("deploy key"): not a supported private key
}
