package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The example runs end to end and leaves web1's facts in the store.
func TestExample(t *testing.T) {
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	store := t.TempDir()
	if err := run(context.Background(), store); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(store, "web1"))
	if err != nil {
		t.Fatalf("web1's facts are not in the store: %v", err)
	}
	var rec struct {
		Facts map[string]any `json:"facts"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Facts["deployed_by"] != "factcache-example" {
		t.Errorf("deployed_by = %v", rec.Facts["deployed_by"])
	}
}
