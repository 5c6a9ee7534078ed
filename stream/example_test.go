package stream_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/arunner/arunner/runner"
	"github.com/arunner/arunner/stream"
)

// exampleJob lays out a private data dir whose "ansible-playbook" is a
// shell script printing one line, so that the example needs no ansible.
func exampleJob() (runner.Config, func()) {
	dir, err := os.MkdirTemp("", "stream-example-")
	if err != nil {
		log.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "job", "project"), 0o700)
	os.WriteFile(filepath.Join(dir, "job", "project", "site.yml"), []byte("[]\n"), 0o600)
	bin := filepath.Join(dir, "ansible-playbook")
	os.WriteFile(bin, []byte("#!/bin/sh\necho hello from the worker\n"), 0o700)
	return runner.Config{PrivateDataDir: filepath.Join(dir, "job"), Ident: "example", Target: runner.Playbook{Path: "site.yml"}, Binary: bin},
		func() { os.RemoveAll(dir) }
}

// A controller and a worker in one program, joined by pipes: what
// `arunner transmit | arunner worker | arunner process` does across
// machines.
func Example() {
	cfg, cleanup := exampleJob()
	defer cleanup()
	ctx := context.Background()

	jobR, jobW := io.Pipe()
	resR, resW := io.Pipe()
	job := cfg
	go func() { jobW.CloseWithError(stream.Transmit(jobW, job)) }()
	go func() {
		_, err := stream.Worker(ctx, jobR, resW, stream.WorkerOptions{})
		resW.CloseWithError(err)
	}()

	cfg.StatusHandler = func(u runner.StatusUpdate) { fmt.Println("status:", u.Status) }
	res, err := stream.Process(ctx, resR, cfg)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rc:", res.RC, "artifacts:", filepath.Base(res.ArtifactDir))
	// Output:
	// status: starting
	// status: running
	// status: successful
	// rc: 0 artifacts: example
}

// Transmit writes the job: its kwargs line, the private data dir as a zip,
// and eof.
func ExampleTransmit() {
	cfg, cleanup := exampleJob()
	defer cleanup()
	cfg.Binary = ""
	cfg.Target = runner.Playbook{Path: "site.yml", Switches: runner.Switches{Limit: "web"}}
	if err := stream.Transmit(os.Stdout, cfg); err != nil {
		log.Fatal(err)
	}
}

// RunSSH runs the job on another machine, where arunner (or ansible-runner)
// is installed, through an SSH client of golang.org/x/crypto/ssh.
func ExampleRunSSH() {
	key, err := os.ReadFile("/etc/controller/id_ed25519")
	if err != nil {
		log.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		log.Fatal(err)
	}
	hostKeys, err := knownhosts.New("/etc/controller/known_hosts")
	if err != nil {
		log.Fatal(err)
	}
	client, err := ssh.Dial("tcp", "node1:22", &ssh.ClientConfig{
		User: "runner", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: hostKeys,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	res, err := stream.RunSSH(context.Background(), client, "arunner worker --keepalive-seconds 10", runner.Config{
		PrivateDataDir: "/srv/jobs/42",
		Target:         runner.Playbook{Path: "site.yml"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Status)
}

// TransmitWith and OnlyKwargs send the kwargs line and eof alone, for a
// worker whose private data dir already holds the job.
func ExampleTransmitWith() {
	cfg, cleanup := exampleJob()
	defer cleanup()
	cfg.Binary = ""
	if err := stream.TransmitWith(os.Stdout, cfg, stream.TransmitOptions{OnlyKwargs: true}); err != nil {
		log.Fatal(err)
	}
	// Output:
	// {"kwargs":{"ident":"example","playbook":"site.yml"}}
	// {"eof": true}
}

// CleanWorkerDirs removes what workers killed hard left in the temp dir
// (their private data dirs, env/ secrets included), as the next Worker
// does on its own; a live worker's dir is left alone.
func ExampleCleanWorkerDirs() {
	removed, err := stream.CleanWorkerDirs("")
	if err != nil {
		log.Fatal(err)
	}
	for _, dir := range removed {
		fmt.Println("removed", dir)
	}
}
