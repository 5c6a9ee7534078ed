// Package testsshd starts a throwaway OpenSSH server for tests: Debian's
// /usr/sbin/sshd on 127.0.0.1 and a free port, in the foreground, with a
// generated host key and configuration under t.TempDir(), key-only
// authentication against an authorized_keys file the test controls, and an
// internal-sftp subsystem so that ansible's ssh connection can transfer
// files. Tests that need it are skipped where sshd is not installed.
//
// Usage:
//
//	priv, pub := testsshd.GenerateKey(t, "passphrase")
//	srv := testsshd.Start(t, pub)
//	// ssh -p srv.Port srv.User@127.0.0.1 with priv now succeeds.
package testsshd
