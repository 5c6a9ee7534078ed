package main

import (
	"bytes"
	"context"
	"os/exec"
	"testing"
)

// The program runs on its bundled inventory and prints what both files
// contributed, merged.
func TestInventorySync(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	var out bytes.Buffer
	if err := run(context.Background(), &out, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"db1    127.0.0.3 groups=[db monitoring prod]",
		"web2   127.0.0.2:2222 groups=[prod web]",
		"prod       hosts=[db1 web1 web2] children=[web db] vars=map[tier:production]",
		"monitoring hosts=[db1 mon1]",
		"vars on all: map[ansible_connection:local]",
	} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// A missing source is an error, not an empty inventory.
func TestInventorySyncMissingSource(t *testing.T) {
	if err := run(context.Background(), &bytes.Buffer{}, []string{"/nonexistent/inventory"}); err == nil {
		t.Fatal("no error for a missing source")
	}
}
