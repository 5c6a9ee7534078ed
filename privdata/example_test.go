package privdata_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"syscall"
	"testing/fstest"
	"time"

	"github.com/arunner/arunner/privdata"
)

func ExampleLoad() {
	d, err := privdata.Load("testdata/full")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.EnvVars["FLAG"], d.EnvVars["OCT"])
	fmt.Println(d.Passwords[0].Pattern, "->", len(d.Passwords), "prompts")
	fmt.Println(d.Settings.IdleTimeout, d.Settings.JobTimeout, d.Settings.FactCache)
	fmt.Println(filepath.Base(d.ExtraVarsPath), d.ExtraVars["greeting"])
	// Output:
	// True 511
	// Enter passphrase for .* -> 3 prompts
	// 30s 1.5s facts
	// extravars hello
}

func ExampleLoad_error() {
	dir, _ := os.MkdirTemp("", "pdd")
	defer os.RemoveAll(dir)
	_ = os.Mkdir(filepath.Join(dir, "env"), 0o700)
	_ = os.WriteFile(filepath.Join(dir, "env", "settings"), []byte("idle_timeout: 5\njob_timeout: soon\n"), 0o600)

	_, err := privdata.Load(dir)
	var fe *privdata.FileError
	if errors.As(err, &fe) {
		fmt.Println(filepath.Base(fe.Path), fe.Line, fe.Key)
	}
	// Output:
	// settings 2 job_timeout
}

// A named pipe whose writer never comes holds LoadContext only until its
// context ends.
func ExampleLoadContext() {
	dir, _ := os.MkdirTemp("", "pdd")
	defer os.RemoveAll(dir)
	_ = os.Mkdir(filepath.Join(dir, "env"), 0o700)
	_ = syscall.Mkfifo(filepath.Join(dir, "env", "extravars"), 0o600)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := privdata.LoadContext(ctx, dir, privdata.LoadOptions{})
	var fe *privdata.FileError
	if errors.As(err, &fe) {
		fmt.Println(filepath.Base(fe.Path), errors.Is(err, context.DeadlineExceeded))
	}
	// Output:
	// extravars true
}

func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "pdd")
	defer os.RemoveAll(dir)

	d, err := privdata.Write(dir, privdata.Layout{
		ExtraVars: map[string]any{"who": "world"},
		Passwords: []privdata.Password{{Pattern: "Vault password:", Response: "s3cret"}},
		Inventory: privdata.Inventory{Content: "localhost ansible_connection=local\n"},
		ProjectFiles: map[string][]byte{
			"site.yml": []byte("- hosts: all\n  tasks:\n    - debug: msg={{ who }}\n"),
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = filepath.WalkDir(dir, func(path string, e os.DirEntry, err error) error {
		info, _ := e.Info()
		rel, _ := filepath.Rel(dir, path)
		fmt.Println(info.Mode(), rel)
		return nil
	})
	fmt.Println(d.Inventory == filepath.Join(dir, "inventory"), d.ExtraVarsPath == filepath.Join(dir, "env", "extravars"))
	// Output:
	// drwx------ .
	// drwx------ env
	// -rw------- env/extravars
	// -rw------- env/passwords
	// drwx------ inventory
	// -rw------- inventory/hosts
	// drwx------ project
	// -rw------- project/site.yml
	// true true
}

// An inventory directory: the hosts file, plus group_vars/ and host_vars/
// that ansible reads along with it.
func ExampleWrite_inventory() {
	dir, _ := os.MkdirTemp("", "pdd")
	defer os.RemoveAll(dir)

	d, err := privdata.Write(dir, privdata.Layout{
		Inventory: privdata.Inventory{
			Content: "[web]\nweb1 ansible_host=192.0.2.10\n",
			Files: map[string][]byte{
				"group_vars/all.yml": []byte("ansible_user: deploy\n"),
				"group_vars/web.yml": []byte("http_port: 8080\n"),
				"host_vars/web1.yml": []byte("http_port: 8081\n"),
				"monitoring.yml":     []byte("all:\n  children:\n    monitoring:\n      hosts:\n        web1:\n"),
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	_ = filepath.WalkDir(d.Inventory, func(path string, e os.DirEntry, err error) error {
		info, _ := e.Info()
		rel, _ := filepath.Rel(dir, path)
		fmt.Println(info.Mode(), rel)
		return nil
	})
	// Output:
	// drwx------ inventory
	// drwx------ inventory/group_vars
	// -rw------- inventory/group_vars/all.yml
	// -rw------- inventory/group_vars/web.yml
	// drwx------ inventory/host_vars
	// -rw------- inventory/host_vars/web1.yml
	// -rw------- inventory/hosts
	// -rw------- inventory/monitoring.yml
}

// A project bundled in the program: ProjectFS copies an fs.FS, such as an
// embed.FS (//go:embed project) passed through fs.Sub(bundled, "project").
func ExampleWrite_projectFS() {
	dir, _ := os.MkdirTemp("", "pdd")
	defer os.RemoveAll(dir)

	bundled := fstest.MapFS{
		"project/site.yml":                 {Data: []byte("- hosts: all\n  roles: [app]\n")},
		"project/roles/app/tasks/main.yml": {Data: []byte("- ping:\n")},
	}
	project, _ := fs.Sub(bundled, "project")
	d, err := privdata.Write(dir, privdata.Layout{ProjectFS: project})
	if err != nil {
		log.Fatal(err)
	}
	_ = filepath.WalkDir(d.ProjectDir, func(path string, e os.DirEntry, err error) error {
		info, _ := e.Info()
		rel, _ := filepath.Rel(dir, path)
		fmt.Println(info.Mode(), rel)
		return nil
	})
	// Output:
	// drwx------ project
	// drwx------ project/roles
	// drwx------ project/roles/app
	// drwx------ project/roles/app/tasks
	// -rw------- project/roles/app/tasks/main.yml
	// -rw------- project/site.yml
}

func ExampleNewArtifacts() {
	pdd, _ := os.MkdirTemp("", "pdd")
	defer os.RemoveAll(pdd)

	a, err := privdata.NewArtifacts(filepath.Join(pdd, "artifacts"), "run1")
	if err != nil {
		log.Fatal(err)
	}
	_ = a.WriteCommand([]string{"ansible-playbook", "site.yml"}, filepath.Join(pdd, "project"), map[string]string{"LANG": "C"})
	_ = a.WriteEvent(2, "b", []byte(`{"counter": 2}`))
	_ = a.WriteEvent(10, "c", []byte(`{"counter": 10}`))
	_ = a.WriteEvent(1, "a", []byte(`{"counter": 1}`))
	_ = a.WriteRC(0)
	_ = a.WriteStatus("successful")

	for data, err := range privdata.ReadEvents(a.JobEventsDir()) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(string(data))
	}
	rc, _ := os.ReadFile(filepath.Join(a.Dir, "rc"))
	fmt.Printf("rc=%q\n", rc)
	// Output:
	// {"counter": 1}
	// {"counter": 2}
	// {"counter": 10}
	// rc="0"
}

func ExampleRotate() {
	root, _ := os.MkdirTemp("", "artifacts")
	defer os.RemoveAll(root)
	for _, id := range []string{"old", "new"} {
		if _, err := privdata.NewArtifacts(root, id); err != nil {
			log.Fatal(err)
		}
	}
	// Make "old" older, then keep one entry: the current run counts.
	_ = os.Chtimes(filepath.Join(root, "old"), time.Unix(0, 0), time.Unix(0, 0))
	if err := privdata.Rotate(root, 1); err != nil {
		log.Fatal(err)
	}
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		fmt.Println(e.Name())
	}
	// Output:
	// new
}

func ExampleValidateIdent() {
	fmt.Println(privdata.ValidateIdent("6e3b0d48-run"))
	fmt.Println(privdata.ValidateIdent("../etc"))
	// Output:
	// <nil>
	// privdata: invalid ident: "../etc" contains '/' or NUL
}

// A run that writes many events holds the job_events directory open and
// writes each file relative to it, from as many goroutines as it likes.
func ExampleArtifacts_OpenEventWriter() {
	pdd, _ := os.MkdirTemp("", "pdd")
	defer os.RemoveAll(pdd)

	a, err := privdata.NewArtifacts(filepath.Join(pdd, "artifacts"), "run1")
	if err != nil {
		log.Fatal(err)
	}
	w, err := a.OpenEventWriter()
	if err != nil {
		log.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if err := w.Write(i, fmt.Sprintf("u%d", i), fmt.Appendf(nil, `{"counter": %d}`, i)); err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(a.JobEventsDir(), "*.json"))
	for _, n := range names {
		fmt.Println(filepath.Base(n))
	}
	// Output:
	// 1-u1.json
	// 2-u2.json
	// 3-u3.json
}

// OpenArtifacts and ReadFinished read a finished run back, arunner's or
// ansible-runner's; ReadEventFiles names each event file, so that a caller
// that cannot decode one can say which.
func ExampleOpenArtifacts() {
	pdd, _ := os.MkdirTemp("", "pdd")
	defer os.RemoveAll(pdd)
	w, _ := privdata.NewArtifacts(filepath.Join(pdd, "artifacts"), "run1")
	_ = w.WriteCommand([]string{"ansible-playbook", "site.yml"}, "/srv/project", nil)
	_ = w.WriteEvent(1, "a", []byte(`{"counter": 1}`))
	_ = w.WriteRC(2)
	_ = w.WriteStatus("failed")

	a, err := privdata.OpenArtifacts(filepath.Join(pdd, "artifacts", "run1"))
	if err != nil {
		log.Fatal(err)
	}
	fin, err := a.ReadFinished()
	if err != nil {
		log.Fatal(err) // errors.Is(err, privdata.ErrNotFinished): still running, or not artifacts
	}
	fmt.Println(fin.Status, fin.RC, fin.Command, fin.Cwd)
	for f, err := range privdata.ReadEventFiles(a.JobEventsDir()) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(filepath.Base(f.Path), string(f.Data))
	}

	_, err = (&privdata.Artifacts{Dir: pdd}).ReadFinished()
	fmt.Println(errors.Is(err, privdata.ErrNotFinished))
	// Output:
	// failed 2 [ansible-playbook site.yml] /srv/project
	// 1-a.json {"counter": 1}
	// true
}
