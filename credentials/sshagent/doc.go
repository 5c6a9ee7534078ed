// Package sshagent serves SSH private keys to ansible through an in-process
// ssh-agent: the keys are parsed (and decrypted with their passphrases) in
// memory and offered on a unix socket that the runner passes to ansible as
// SSH_AUTH_SOCK, so no key file is ever written and nothing is left behind
// once the agent is closed. Unlike ansible-runner's single-key ssh-add FIFO,
// any number of RSA, ECDSA and Ed25519 keys can be served, in PEM or OpenSSH
// format, encrypted or not.
//
// Usage:
//
//	a, err := sshagent.Start(filepath.Join(privateDataDir, "artifacts", ident, "ssh_agent"),
//		sshagent.Key{PEM: key, Passphrase: pass, Comment: "machine credential"})
//	if err != nil { return err }
//	defer a.Close()
//	env = append(env, "SSH_AUTH_SOCK="+a.Socket())
package sshagent
