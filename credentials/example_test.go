package credentials_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"

	"github.com/arunner/arunner/credentials"
)

func ExampleInject() {
	in, err := credentials.Inject("/tmp/pdd/env",
		credentials.Machine{Username: "deploy", BecomeMethod: "sudo", BecomePassword: "s3cret"},
		credentials.Vault{VaultPassword: "v4ult", VaultID: "prod"},
		credentials.AWS{Username: "AKIAEXAMPLE", Password: "aws-s3cret"},
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("-u %s --become-method %s ask-become-pass=%v vault-ids=%v\n",
		in.Flags.User, in.Flags.BecomeMethod, in.Flags.AskBecomePass, in.Flags.VaultIDs)
	for _, prompt := range []string{"BECOME password: ", "Vault password (prod): "} {
		for _, p := range in.Prompts {
			if regexp.MustCompile(p.Pattern).MatchString(prompt) {
				fmt.Printf("%q is answered (%d bytes)\n", prompt, len(p.Response))
				break
			}
		}
	}
	safe := credentials.SafeEnv(in.Env, in.Secrets)
	fmt.Println(safe["AWS_ACCESS_KEY_ID"], safe["AWS_SECRET_ACCESS_KEY"])
	// Output:
	// -u deploy --become-method sudo ask-become-pass=true vault-ids=[prod]
	// "BECOME password: " is answered (6 bytes)
	// "Vault password (prod): " is answered (5 bytes)
	// AKIAEXAMPLE **********
}

func ExampleParseCredentialType() {
	ct, err := credentials.ParseCredentialType([]byte(`
fields:
  - {id: url, label: API URL, type: string, format: url}
  - {id: token, label: Token, type: string, secret: true}
required: [url, token]
`), []byte(`
file:
  template: "url={{ url }}\ntoken={{ token }}\n"
env:
  MY_API_CONFIG: "{{ tower.filename }}"
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	ct.Name = "My API"
	in, err := credentials.Inject("/tmp/pdd/env", credentials.Custom{Type: ct, Inputs: map[string]any{
		"url": "https://api.example.com", "token": "t0ken",
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	path := in.Env["MY_API_CONFIG"]
	fmt.Println(filepath.Dir(path), in.Files[path].Mode)
	fmt.Printf("%s\n", in.Files[path].Content)
	// Output:
	// /tmp/pdd/env -rw-------
	// url=https://api.example.com
	// token=t0ken
}

func ExampleParseCredentialType_bannedEnv() {
	_, err := credentials.ParseCredentialType([]byte(`fields: [{id: pw, secret: true}]`),
		[]byte(`env: {ANSIBLE_BECOME_PASSWORD: "{{ pw }}"}`))
	fmt.Println(errors.Is(err, credentials.ErrBannedEnv))
	fmt.Println(err)
	// Output:
	// true
	// credentials: custom: injectors.env.ANSIBLE_BECOME_PASSWORD: environment variable is reserved
}

func ExampleCredentialType_Validate() {
	ct, _ := credentials.ParseCredentialType([]byte(`
fields:
  - {id: region, type: string, choices: [eu, us]}
required: [region]
`), nil)
	fmt.Println(ct.Validate(map[string]any{"region": "mars"}))
	fmt.Println(ct.Validate(map[string]any{}))
	// Output:
	// credentials: custom: region: invalid: must be one of eu, us
	// credentials: custom: region: required
}

func ExampleSafeEnv() {
	safe := credentials.SafeEnv(map[string]string{
		"AWS_ACCESS_KEY_ID":     "AKIAEXAMPLE",
		"AWS_SECRET_ACCESS_KEY": "abc",
		"DATABASE_URL":          "postgres://app:pw@db.example.com/app",
		"ANSIBLE_FORCE_COLOR":   "True",
		"GREETING":              "hello hunter2",
	}, []string{"hunter2"})
	keys := make([]string, 0, len(safe))
	for k := range safe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s=%s\n", k, safe[k])
	}
	// Output:
	// ANSIBLE_FORCE_COLOR=True
	// AWS_ACCESS_KEY_ID=AKIAEXAMPLE
	// AWS_SECRET_ACCESS_KEY=**********
	// DATABASE_URL=**********
	// GREETING=hello **********
}

func ExampleNewRedactor() {
	r := credentials.NewRedactor("hunter2", "line1\nline2")
	fmt.Println(r.String("password is hunter2"))
	fmt.Println(r.String(`{"stdout": "line1\nline2"}`))
	// Output:
	// password is **********
	// {"stdout": "**********"}
}

func ExampleInjection_Redacted() {
	in, _ := credentials.Inject("/tmp/pdd/env", credentials.Vault{VaultPassword: "v4ult"})
	rec := in.Redacted()
	fmt.Println(rec.Flags.AskVaultPass, rec.Prompts[0].Response, len(rec.Secrets))
	// Output:
	// true ********** 0
}

func ExampleMachine_Format() {
	creds := []credentials.Credential{
		credentials.Machine{Username: "deploy", BecomeMethod: "sudo", BecomePassword: "s3cret"},
		credentials.Vault{VaultPassword: "v4ult", VaultID: "prod"},
	}
	fmt.Printf("%+v\n", creds)
	fmt.Printf("%#v\n", creds[1])
	// Output:
	// [{Username:deploy Password: SSHKeyData: SSHKeyUnlock: BecomeMethod:sudo BecomeUsername: BecomePassword:**********} {VaultPassword:********** VaultID:prod}]
	// credentials.Vault{VaultPassword:"**********", VaultID:"prod"}
}
