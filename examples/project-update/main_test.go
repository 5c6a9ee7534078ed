package main

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"testing"
)

// Both updates report the revision upstream had at the time: the checkout,
// then the fast-forward to the second commit.
func TestProjectUpdate(t *testing.T) {
	for _, bin := range []string{"ansible-playbook", "git"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skip(bin + " not on PATH")
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	first := regexp.MustCompile(`(?m)^checked out ([0-9a-f]{12}) \(upstream ([0-9a-f]{12})\)$`).FindStringSubmatch(out.String())
	second := regexp.MustCompile(`(?m)^updated ([0-9a-f]{12}) -> ([0-9a-f]{12}) \(upstream ([0-9a-f]{12}), changed=true\)$`).FindStringSubmatch(out.String())
	if first == nil || second == nil {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
	if first[1] != first[2] {
		t.Errorf("first checkout at %s, upstream at %s", first[1], first[2])
	}
	if second[1] != first[1] || second[2] != second[3] || second[2] == first[1] {
		t.Errorf("second update %s -> %s, upstream %s", second[1], second[2], second[3])
	}
}
