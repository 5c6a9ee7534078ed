// Package cmdbuild turns typed descriptions of ansible-playbook, ansible and
// ansible-inventory invocations into argv slices, in the same order and form
// as ansible-runner 2.x's generate_ansible_command, so that for the same
// inputs both produce the same command line. It is pure: no I/O, no exec, no
// environment lookups. Extra variables are only ever passed as "-e @file",
// never inline, so secrets cannot reach argv; validation errors are
// *SpecError values that name the field but never echo its value. Split and
// Quote read and render command lines the way Python's shlex does, which is
// how ansible-runner reads env/cmdline and the args file.
//
//	argv, err := cmdbuild.Playbook{
//		Inventory: []string{"/pdd/inventory"},
//		Switches:  cmdbuild.Switches{Limit: "web"},
//		Playbook:  "site.yml",
//	}.Args()
//	// argv: [ansible-playbook -i /pdd/inventory --limit web site.yml]
package cmdbuild
