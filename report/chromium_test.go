package report

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/arunner/arunner/runner"
)

// These tests run testdata/play, a real playbook on four local hosts named
// by their outcome, through runner.Run and through the reference
// ansible-runner, and open both reports in headless Chromium: a screenshot
// goes to testdata/*.png (kept out of git), and the page's DOM must hold
// one bar per (host, task) with its outcome and the failure's message as
// text.

// wantBars are testdata/play's bars, as "host/task/outcome", sorted.
var wantBars = func() []string {
	var out []string
	for _, host := range []string{"ok", "changed", "failed", "skipped"} {
		outcome := map[string]string{"greet": "ok", "touch a file": "ok", "loop over items": "ok", "fail here": "skipped", "after the failure": "ok"}
		switch host {
		case "changed":
			outcome["touch a file"] = "changed"
		case "failed":
			outcome["fail here"] = "failed"
			delete(outcome, "after the failure") // the host is out of the play
		case "skipped":
			outcome["loop over items"] = "skipped"
		}
		for task, o := range outcome {
			out = append(out, host+"/"+task+"/"+o)
		}
	}
	slices.Sort(out)
	return out
}()

const wantFailure = `failed/fail here/boom on failed: </script><script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">`

func TestReportInChromium(t *testing.T) {
	chromium := needChromium(t)
	if _, err := exec.LookPath("ansible-playbook"); err != nil {
		t.Skip("ansible-playbook not on PATH")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// The reference runs beside ours, on its own copy.
	refPDD := copyPlay(t)
	ref := exec.CommandContext(ctx, "ansible-runner", "run", refPDD, "-p", "site.yml", "--ident", "ref")
	var refOut bytes.Buffer
	ref.Stdout, ref.Stderr = &refOut, &refOut
	ref.WaitDelay = 5 * time.Second // its children may hold the pipe after a kill
	require.NoError(t, ref.Start(), "ansible-runner is required next to ansible-core")
	var refErr error
	refDone := make(chan struct{})
	go func() { refErr = ref.Wait(); close(refDone) }()
	t.Cleanup(func() { cancel(); <-refDone }) // a failing test kills it and waits

	res, err := runner.Run(ctx, runner.Config{
		PrivateDataDir: copyPlay(t),
		Ident:          "ours",
		Target:         runner.Playbook{Path: "site.yml"},
	})
	var exit *runner.ExitError
	require.True(t, errors.As(err, &exit), "err = %v", err)
	require.Equal(t, 2, exit.RC)

	page := filepath.Join(t.TempDir(), "ours.html")
	writeFile(t, page, func(f *os.File) error { return Write(f, res) })
	got := openInChromium(t, chromium, page, "testdata/report-arunner.png")
	assert.Equal(t, wantBars, got.Bars)
	assert.Equal(t, []string{wantFailure}, got.Failures)
	assert.Equal(t, "Run ours: failed", got.Title, "no script ran")
	assert.Zero(t, got.Scripts)
	assert.Zero(t, got.Invisible, "every bar is on screen, at least 3px wide")
	assert.Equal(t, []string{"fatal: [failed]"}, got.RedFatal, "ansible's colours")

	<-refDone
	require.True(t, refErr == nil || errors.As(refErr, new(*exec.ExitError)), "ansible-runner: %v\n%s", refErr, refOut.Bytes())
	page = filepath.Join(t.TempDir(), "ref.html")
	writeFile(t, page, func(f *os.File) error { return WriteDir(f, filepath.Join(refPDD, "artifacts", "ref")) })
	got = openInChromium(t, chromium, page, "testdata/report-ansible-runner.png")
	assert.Equal(t, wantBars, got.Bars)
	assert.Equal(t, []string{wantFailure}, got.Failures)
	assert.Equal(t, "Run ref: failed", got.Title)
	assert.Equal(t, []string{"fatal: [failed]"}, got.RedFatal)
}

// needChromium returns chromium's path. Without it the test is skipped,
// unless CI is set: CI installs it (make deps-test).
func needChromium(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("chromium")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not on PATH and CI is set: install the Debian package chromium (make deps-test)")
	}
	t.Skip("chromium is not on PATH: install the Debian package chromium to open the report in a browser")
	return ""
}

// copyPlay copies testdata/play to a new private data dir.
func copyPlay(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("testdata/play")))
	return dir
}

func writeFile(t *testing.T, path string, write func(*os.File) error) {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, write(f))
	require.NoError(t, f.Close())
}

// dom is what the test reads of a page in the browser.
type dom struct {
	Bars      []string // "host/task/outcome", sorted
	Failures  []string // "host/task/message"
	Title     string
	Scripts   int
	Invisible int // bars narrower than 3px or outside the window
	// RedFatal is the text of the output's lines that ansible coloured
	// red, as the browser colours them.
	RedFatal []string
}

const readDOM = `(() => {
	const bars = [...document.querySelectorAll('.bar')];
	return {
		Bars: bars.map(b => [b.dataset.host, b.dataset.task, b.dataset.outcome].join('/')).sort(),
		Failures: [...document.querySelectorAll('.failure')].map(f =>
			[f.dataset.host, f.dataset.task, f.querySelector('.msg').textContent].join('/')),
		Title: document.title,
		Scripts: document.scripts.length,
		Invisible: bars.filter(b => { const r = b.getBoundingClientRect(); return r.width < 3 || r.right > window.innerWidth; }).length,
		RedFatal: [...document.querySelectorAll('.stdout span')]
			.filter(s => getComputedStyle(s).color === 'rgb(205, 49, 49)' && s.textContent.startsWith('fatal'))
			.map(s => s.textContent.split(':').slice(0, 2).join(':')),
	};
})()`

// openInChromium opens page in headless Chromium, saves a screenshot of
// the whole page to shot and returns what the DOM holds. Chromium gets a
// temporary dir for its profile, and for HOME, XDG_CONFIG_HOME and
// XDG_CACHE_HOME, where its crash handler and caches would go otherwise;
// no process whose command line names that dir is left when this returns.
func openInChromium(t *testing.T, chromium, page, shot string) dom {
	t.Helper()
	tmp, err := os.MkdirTemp("", "report-chromium-")
	require.NoError(t, err)
	defer os.RemoveAll(tmp)
	defer reap(t, tmp)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromium), chromedp.UserDataDir(filepath.Join(tmp, "profile")),
		chromedp.Env("HOME="+tmp, "TMPDIR="+tmp, "XDG_CONFIG_HOME="+filepath.Join(tmp, "config"), "XDG_CACHE_HOME="+filepath.Join(tmp, "cache")),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	require.NoError(t, chromedp.Do(bctx, chromedp.Navigate("file://"+page), chromedp.WaitVisible("#timeline .bar")))
	got, err := chromedp.Run(bctx, chromedp.Evaluate[dom](readDOM))
	require.NoError(t, err)
	shotPNG, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.Greater(t, failedPixels(t, shotPNG), 100, "the screenshot shows the failed bar")
	require.NoError(t, os.WriteFile(shot, shotPNG, 0o644))
	t.Logf("screenshot: %s", shot)
	bcancel()
	acancel()
	return got
}

// failedPixels counts the pixels of a PNG in the failed bars' colour.
func failedPixels(t *testing.T, b []byte) int {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	n := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			if r, g, b, _ := img.At(x, y).RGBA(); r>>8 == 0xcf && g>>8 == 0x22 && b>>8 == 0x2e {
				n++
			}
		}
	}
	return n
}

// reap makes sure that no process naming dir is left: chromedp kills the
// browser, but a child of it (the zygote, the network service, the crash
// handler) may outlive it a moment or, rarely, for good. Any still there
// after a few seconds is killed, and the test fails.
func reap(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids := naming(dir)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Errorf("chromium left %d processes behind (killed)", len(pids))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// naming lists the processes whose command line holds dir: Chromium
// passes its --user-data-dir to its children, and the crash handler gets
// its database's path, under XDG_CONFIG_HOME.
func naming(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(cmdline), dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}
