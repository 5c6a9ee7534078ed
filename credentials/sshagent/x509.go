package sshagent

import "crypto/x509"

// x509IncorrectPassword is what ssh.ParseRawPrivateKeyWithPassphrase returns
// for a wrong passphrase, for both PEM and OpenSSH encrypted keys.
var x509IncorrectPassword = x509.IncorrectPasswordError
