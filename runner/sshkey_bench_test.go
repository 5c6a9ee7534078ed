package runner

import (
	"context"
	"os"
	"testing"

	"github.com/arunner/arunner/credentials"
)

// BenchmarkRunEncryptedKey runs the "ok" fake with one passphrase-protected
// key (an OpenSSH key, whose bcrypt KDF costs far more than the fake): the
// time per op is mostly what it costs to decrypt the key, so it shows how
// many times a run does.
func BenchmarkRunEncryptedKey(b *testing.B) {
	key, err := os.ReadFile("../credentials/testdata/id_locked")
	if err != nil {
		b.Fatal(err)
	}
	const phrase = "unlock-phrase-7" // see credentials/testdata/README
	for _, tc := range []struct {
		name string
		set  func(*Config)
	}{
		{"machine credential", func(cfg *Config) {
			cfg.Credentials = []credentials.Credential{credentials.Machine{SSHKeyData: string(key), SSHKeyUnlock: phrase}}
		}},
		{"Config.SSHKeys", func(cfg *Config) {
			cfg.SSHKeys = []SSHKey{{PEM: key, Passphrase: []byte(phrase), Comment: "bench"}}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				cfg := fakeConfig(b, "ok")
				tc.set(&cfg)
				b.StartTimer()
				if _, err := Run(context.Background(), cfg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
