// Command deploy is the kind of code runnertest is for: a small deploy
// function that runs a playbook through runner.Run and reports what
// happened per host. Its test (main_test.go) covers success, a failed
// host, an unreachable host, a vault password prompt, a cancel and a
// timeout with a fake ansible, no ansible installed.
//
//	go run ./examples/deploy -pdd PRIVATE_DATA_DIR [-vault-password-file FILE] [-timeout 10m]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/arunner/arunner/events"
	"github.com/arunner/arunner/runner"
)

func main() {
	pdd := flag.String("pdd", "", "private data dir holding project/site.yml and inventory/")
	vaultFile := flag.String("vault-password-file", "", "file holding the vault password")
	timeout := flag.Duration("timeout", 0, "longest the deploy may take (0: no limit)")
	flag.Parse()
	d := Deployer{PrivateDataDir: *pdd, Timeout: *timeout}
	if *vaultFile != "" {
		pw, err := os.ReadFile(*vaultFile)
		if err != nil {
			log.Fatal(err)
		}
		d.VaultPassword = strings.TrimSpace(string(pw))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := d.Deploy(ctx)
	fmt.Print(rep)
	if err != nil {
		log.Fatal(err)
	}
}

// Deployer deploys by running site.yml in a private data dir.
type Deployer struct {
	PrivateDataDir string
	// VaultPassword answers ansible's vault password prompt.
	VaultPassword string
	// Timeout ends a deploy that takes longer; 0 means no limit.
	Timeout time.Duration
	// Tune, when set, changes each run's Config before it starts: tests
	// point it at a fake ansible (runnertest.Fake.Apply).
	Tune func(*runner.Config)
}

// Report is what a deploy did, per host.
type Report struct {
	Changed     []string          // hosts where something changed
	Failed      map[string]string // failed hosts and the first failure's msg
	Unreachable []string          // hosts that could not be reached
}

func (r *Report) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "changed: %s\n", strings.Join(r.Changed, " "))
	for _, h := range slices.Sorted(mapsKeys(r.Failed)) {
		fmt.Fprintf(&sb, "failed: %s: %s\n", h, r.Failed[h])
	}
	fmt.Fprintf(&sb, "unreachable: %s\n", strings.Join(r.Unreachable, " "))
	return sb.String()
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// ErrHostsFailed is returned when the playbook failed on some host; the
// Report says which.
var ErrHostsFailed = errors.New("deploy failed on some hosts")

// Deploy runs site.yml and returns what it did. A canceled ctx cancels the
// run (errors.Is(err, context.Canceled)); Timeout ends it with
// runner.ErrTimeout.
func (d *Deployer) Deploy(ctx context.Context) (*Report, error) {
	rep := &Report{Failed: map[string]string{}}
	cfg := runner.Config{
		PrivateDataDir: d.PrivateDataDir,
		Target:         runner.Playbook{Path: "site.yml"},
		JobTimeout:     d.Timeout,
		EventHandler: func(ev *events.Event) bool {
			switch ev.Event {
			case "runner_on_ok":
				if ev.Changed() && !slices.Contains(rep.Changed, ev.Host()) {
					rep.Changed = append(rep.Changed, ev.Host())
				}
			case "runner_on_failed":
				if _, seen := rep.Failed[ev.Host()]; !seen && !ev.IgnoreErrors() {
					rep.Failed[ev.Host()] = msgOf(ev)
				}
			case "runner_on_unreachable":
				rep.Unreachable = append(rep.Unreachable, ev.Host())
			}
			return true
		},
	}
	if d.VaultPassword != "" {
		cfg.Passwords = []runner.Password{{Pattern: `Vault password.*:\s*$`, Response: d.VaultPassword}}
	}
	if d.Tune != nil {
		d.Tune(&cfg)
	}
	res, err := runner.Run(ctx, cfg)
	switch {
	case err != nil && res != nil && res.Status == runner.StatusFailed && (len(rep.Failed) > 0 || len(rep.Unreachable) > 0):
		return rep, fmt.Errorf("%w: %w", ErrHostsFailed, err)
	case err != nil:
		return rep, fmt.Errorf("deploy: %w", err)
	}
	return rep, nil
}

func msgOf(ev *events.Event) string {
	var res struct {
		Msg string `json:"msg"`
	}
	if err := json.Unmarshal(ev.Res(), &res); err != nil {
		return ""
	}
	return res.Msg
}
