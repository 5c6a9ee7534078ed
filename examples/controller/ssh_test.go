package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startSSHD runs sshd on loopback accepting authorizedKey for the current
// user, as arunner's own tests do (internal/testsshd, which an example
// module cannot import), and stops it when the test ends.
func startSSHD(t *testing.T, authorizedKey []byte) (port int) {
	t.Helper()
	const sshd = "/usr/sbin/sshd"
	if _, err := os.Stat(sshd); err != nil {
		missing(t, sshd+" is not installed")
	}
	if os.Geteuid() == 0 {
		_ = os.MkdirAll("/run/sshd", 0o755) // sshd's privilege-separation dir
	}
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host_key")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, authorizedKey, 0o600); err != nil {
		t.Fatal(err)
	}
	port = freePort(t)
	conf := filepath.Join(dir, "sshd_config")
	if err := os.WriteFile(conf, []byte(strings.Join([]string{
		"Port " + strconv.Itoa(port), "ListenAddress 127.0.0.1", "HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "pid"), "AuthorizedKeysFile " + keys,
		"PasswordAuthentication no", "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password",
		"StrictModes no", "UsePAM no", "",
	}, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(sshd, "-D", "-e", "-f", conf)
	cmd.Stdout, cmd.Stderr = &log, &log
	// Its own group, so that cleanup reaches the per-connection children;
	// it dies with the test binary.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("sshd:\n%s", log.String())
		}
	})
	if err := waitListening(fmt.Sprintf("127.0.0.1:%d", port), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return port
}

func TestProjectUpdateOverSSH(t *testing.T) {
	needAnsible(t)
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	private, _ := os.ReadFile(keyFile)
	public, _ := os.ReadFile(keyFile + ".pub")
	port := startSSHD(t, public)
	repo := filepath.Join(t.TempDir(), "repo")
	gitRepo(t, repo, map[string]string{"site.yml": sitePlaybook})
	user := os.Getenv("USER")
	if user == "" {
		user = "root"
	}

	a := openApp(t, backends()[0].opts(t))
	cred, _ := a.create("credentials", Credential{Name: "git", Kind: "scm",
		Inputs: map[string]any{"ssh_key_data": string(private), "accept_host_key": true}})
	project, update := a.create("projects", Project{Name: "site", CredentialID: cred,
		SCMURL: fmt.Sprintf("ssh://%s@127.0.0.1:%d%s", user, port, repo)})
	j := a.wait(update, 60*time.Second, "successful", "failed", "error")
	if j.Status != "successful" {
		t.Fatalf("project update %s rc %d: %s", j.Status, j.RC, j.Explanation)
	}
	if _, err := os.Stat(filepath.Join(a.Dispatcher.DataDir, "projects", fmt.Sprint(project), "site.yml")); err != nil {
		t.Fatal(err)
	}
	var p Project
	a.call("GET", fmt.Sprintf("/api/projects/%d", project), nil, http.StatusOK, &p)
	head, _ := exec.Command("git", "-C", repo, "rev-parse", "HEAD").Output()
	if p.Revision != strings.TrimSpace(string(head)) {
		t.Fatalf("project revision %q, want %q", p.Revision, head)
	}
	if b, _ := json.Marshal(j); bytes.Contains(b, []byte("PRIVATE KEY")) {
		t.Fatal("the job record holds the key")
	}
}
