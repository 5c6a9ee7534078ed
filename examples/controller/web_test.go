package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebPage launches a job from the page in headless Chromium and watches
// its live output reach the recap. CONTROLLER_SCREENSHOT names a PNG file
// to keep a screenshot of the page in (outside git); by default it goes to
// the test's temp dir.
func TestWebPage(t *testing.T) {
	needAnsible(t)
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		missing(t, "chromium is not installed")
	}
	a := openApp(t, backends()[0].opts(t))
	inv, project := setup(t, a, map[string]string{"site.yml": sitePlaybook, "sleep.yml": `- hosts: web1
  gather_facts: false
  tasks:
    - name: sleep
      ansible.builtin.command: sleep 4243.5
`})
	a.create("job_templates", Template{Name: "site", ProjectID: project, InventoryID: inv, Playbook: "site.yml"})
	a.create("job_templates", Template{Name: "sleep", ProjectID: project, InventoryID: inv, Playbook: "sleep.yml"})

	// Chromium's profile, its crash handler's database and caches (under
	// HOME and XDG_*) and its singleton socket (under TMPDIR) stay in the
	// test's temp dir.
	home := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.WindowSize(1100, 700), chromedp.UserDataDir(filepath.Join(home, "profile")),
		chromedp.Env("HOME="+home, "TMPDIR="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_CACHE_HOME="+filepath.Join(home, "cache")))
	ctx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	// The first Run starts the browser, whose life is that call's context:
	// the time limit goes on the steps after it.
	if err := chromedp.Do(ctx, chromedp.Navigate(a.URL)); err != nil {
		t.Fatal(err)
	}
	step, cancelStep := context.WithTimeout(ctx, 90*time.Second)
	defer cancelStep()
	if err := chromedp.Do(step,
		chromedp.WaitVisible(`button[data-template="1"]`),
		chromedp.Click(`button[data-template="1"]`),
		chromedp.WaitVisible(`#recap-table td`),
	); err != nil {
		t.Fatal(err)
	}
	output, err := chromedp.Run(step, chromedp.Text(`#output`))
	if err != nil {
		t.Fatal(err)
	}
	recap, err := chromedp.Run(step, chromedp.Text(`#recap`))
	if err != nil {
		t.Fatal(err)
	}
	coloured, err := chromedp.Run(step, chromedp.Evaluate[int](`document.querySelectorAll('#output span[style*="color"]').length`))
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(step, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(output, "PLAY RECAP") || !strings.Contains(output, "TASK [say hello]") {
		t.Errorf("output on the page:\n%s", output)
	}
	if coloured == 0 {
		t.Error("no ANSI colour reached the page")
	}
	if !strings.Contains(recap, "web1") || !strings.Contains(recap, "web2") {
		t.Errorf("recap on the page: %q", recap)
	}
	// Launch the sleeping template and cancel it from the page.
	if err := chromedp.Do(step, chromedp.Click(`button[data-template="2"]`)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(step, chromedp.Poll[bool](`document.getElementById("output").textContent.includes("TASK [sleep]")`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(step, chromedp.Click(`#cancel`), chromedp.WaitVisible(`#title .canceled`)); err != nil {
		t.Fatal(err)
	}
	if processWith("4243.5") {
		t.Error("the canceled job's sleep is still running")
	}
	path := os.Getenv("CONTROLLER_SCREENSHOT")
	if path == "" {
		path = filepath.Join(t.TempDir(), "page.png")
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
