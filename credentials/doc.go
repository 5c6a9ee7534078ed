// Package credentials turns typed credentials into what a run needs, the way
// AWX injects them: ansible-playbook flags, terminal prompts and their
// answers, SSH keys for an in-process agent, environment variables, 0600
// files and extra vars, for every credential kind AWX ships (Machine, Vault,
// SCM, Net, AWS, GCE, AzureRM, OpenStack, VMware, Satellite, RHV, Controller,
// Insights, Kubernetes, Terraform) and for custom credential types written
// in AWX's inputs/injectors language. It is pure: Inject only computes an
// Injection; the runner writes the files, answers the prompts and redacts
// Injection.Secrets (see SafeEnv and Redactor) from everything it records.
//
//	in, err := credentials.Inject(filepath.Join(pdd, "env"),
//		credentials.Machine{Username: "deploy", BecomePassword: pw},
//		credentials.Vault{VaultPassword: vpw, VaultID: "prod"})
//	if err != nil { return err }
//	// in.Flags -> command line, in.Prompts -> prompt matcher,
//	// in.Env/in.Files -> process, credentials.SafeEnv(env, in.Secrets) -> record
package credentials
