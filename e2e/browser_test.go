package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/appidgate/appidgate/internal/testkit"
)

// testTimeout bounds each test's tabs: every step of a test shares it.
const testTimeout = 60 * time.Second

// diagnosisGrace is how long a failed step waits for the browser's explanation, which arrives after the failure.
const diagnosisGrace = 500 * time.Millisecond

// debianChromium is where Debian's chromium package puts its launcher.
const debianChromium = "/usr/bin/chromium"

// findChromium returns the Chromium launcher: `chromium` on PATH, else Debian's path.
func findChromium() (string, bool) {
	if p, err := exec.LookPath("chromium"); err == nil {
		return p, true
	}
	if fi, err := os.Stat(debianChromium); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return debianChromium, true
	}
	return "", false
}

// requireChromium returns the Chromium launcher, or skips the test when there is none (with -short too). On CI
// a missing browser fails the test instead: CI installs it, and a skip would hide a broken install.
func requireChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("e2e: starts a browser and the appidgate binary; skipped with -short")
	}
	path, ok := findChromium()
	if !ok {
		if onCI() {
			t.Fatalf("e2e: CI=true but no chromium binary (looked for chromium on PATH and %s): CI must install it (apt-get install chromium)", debianChromium)
		}
		t.Skipf("e2e: no chromium binary (looked for chromium on PATH and %s); install it with apt-get install chromium to run the browser tests", debianChromium)
	}
	return path
}

// sharedBrowser is the one headless Chromium of the test binary, started by the first test that needs it and
// stopped by TestMain: starting a browser costs about a second, a new browser context (cookies of its own, like a
// separate person's browser) a fraction of that.
type sharedBrowser struct {
	once   sync.Once
	ctx    context.Context // the browser's first tab; tabs made from it share nothing with each other but the process
	err    error
	output *testkit.Buffer // Chromium's stdout and stderr, and chromedp's errors
	stop   func()
}

// chromium is the package's shared browser.
var chromium = &sharedBrowser{output: &testkit.Buffer{}, stop: func() {}}

// start starts Chromium at path once; later calls return the outcome of the first.
func (b *sharedBrowser) start(path string) (context.Context, error) {
	b.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox, // the tests run as root in CI containers, where the sandbox cannot start
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.WindowSize(1024, 768),
			chromedp.CombinedOutput(b.output),
		)
		// Not a test's context: the browser outlives the test that started it. TestMain stops it; the exec
		// allocator gives it a temporary profile directory and removes it then.
		ctx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		// The browser's own errors go with its output, which a failing test prints.
		ctx, cancelBrowser := chromedp.NewContext(ctx, chromedp.WithErrorf(func(format string, args ...any) {
			b.output.WriteString("chromedp: " + fmt.Sprintf(format, args...) + "\n")
		}))
		b.stop = func() {
			cancelBrowser()
			cancelAlloc()
		}
		if b.err = chromedp.Do(ctx); b.err == nil { // starts the browser and its first tab
			b.ctx = ctx
		}
	})
	return b.ctx, b.err
}

// startBrowser skips the test when no Chromium is installed (fails it on CI), then returns a tab in a new
// browser context of the package's browser: a fresh profile, with cookies of its own. The tab closes when the
// test ends, or its steps fail after testTimeout. Call it after startDemo: cleanups run last-in first-out, so
// the tab closes its connections before the demo is asked to drain them.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := requireChromium(t)
	browser, err := chromium.start(path)
	if err != nil {
		t.Fatalf("e2e: starting %s: %v\nchromium output (last 4 KiB):\n%s", path, err, lastBytes(chromium.output.String(), 4<<10))
	}
	tab, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(tab, testTimeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		if t.Failed() {
			t.Logf("chromium output (last 4 KiB):\n%s", lastBytes(chromium.output.String(), 4<<10))
		}
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("e2e: opening a tab in a new browser context: %v", err)
	}
	return ctx
}

// newProfile opens a tab in a new browser context of the browser: its own cookies, like a separate person's
// browser, so sub-tests do not share the provider's single sign-on session. Tabs opened from the returned
// context share its cookies.
func newProfile(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("e2e: opening a tab in a new browser context: %v", err)
	}
	return ctx
}

// newTab opens another tab in the same browser context as ctx (same cookies).
func newTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("e2e: opening a second tab: %v", err)
	}
	return tab
}

// open navigates the tab to url and returns the response of the document it ends on, after any redirects.
func open(t *testing.T, tab context.Context, url string) *network.Response {
	t.Helper()
	resp, err := chromedp.Run(tab, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("e2e: opening %s: %v", url, err)
	}
	return resp
}

// submitLogin fills the provider's login form shown in the tab and submits it, returning the response of the
// document the browser ends on after the redirects (back at the app, or the form again).
func submitLogin(t *testing.T, tab context.Context, username, password string) *network.Response {
	t.Helper()
	err := chromedp.Do(tab,
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.Clear(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
	)
	if err != nil {
		t.Fatalf("e2e: filling the provider's login form: %v (page: %s)", err, pageText(tab))
	}
	return clickAndWait(t, tab, `button[type="submit"]`)
}

// clickAndWait clicks the element matching css and returns the response of the document the navigation ends on.
// When the navigation fails, the browser's own explanation (console and blocked loads) goes into the failure.
func clickAndWait(t *testing.T, tab context.Context, css string) *network.Response {
	t.Helper()
	watchCtx, stopWatching := context.WithCancel(tab)
	defer stopWatching()
	problems := watchProblems(t, watchCtx)
	resp, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(css)))
	if err != nil {
		// The browser reports why (console entry, issue) just after the load fails: give it a moment to.
		time.Sleep(diagnosisGrace)
		t.Fatalf("e2e: clicking %s: %v\nthe browser said:\n%s", css, err, problems)
	}
	return resp
}

// browserProblems collects what the browser reports while a step runs: console and security log entries
// (such as Content Security Policy violations) and failed or blocked loads.
type browserProblems struct {
	mu    sync.Mutex
	lines []string
}

func (p *browserProblems) add(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, line)
}

func (p *browserProblems) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) == 0 {
		return "  (nothing)"
	}
	return "  " + strings.Join(p.lines, "\n  ")
}

// watchProblems records the tab's problems until ctx ends.
func watchProblems(t *testing.T, ctx context.Context) *browserProblems {
	t.Helper()
	p := &browserProblems{}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			p.add(fmt.Sprintf("%s %s: %s (%s)", ev.Entry.Level, ev.Entry.Source, strings.TrimSpace(ev.Entry.Text), ev.Entry.URL))
		case *audits.EventIssueAdded:
			line := "issue " + string(ev.Issue.Code)
			if csp := ev.Issue.Details.ContentSecurityPolicyIssueDetails; csp != nil {
				line += fmt.Sprintf(": Content-Security-Policy %q blocked %s", csp.ViolatedDirective, csp.BlockedURL)
			}
			p.add(line)
		case *network.EventLoadingFailed:
			p.add(fmt.Sprintf("load failed (%s): %s blocked=%q canceled=%v", ev.Type, ev.ErrorText, ev.BlockedReason, ev.Canceled))
		}
	})
	if err != nil {
		t.Fatalf("e2e: listening to the browser: %v", err)
	}
	if _, err := chromedp.Call(ctx, audits.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("e2e: enabling the browser's issue reports: %v", err)
	}
	return p
}

// pageText is the visible text of the tab's page, or a note saying why it could not be read.
func pageText(tab context.Context) string {
	text, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return fmt.Sprintf("(could not read the page: %v)", err)
	}
	return text
}

// location is the tab's current URL.
func location(t *testing.T, tab context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(tab, chromedp.Location())
	if err != nil {
		t.Fatalf("e2e: reading the location: %v", err)
	}
	return loc
}

// wantPage fails the test unless resp is the document at url (ignoring the query) with status and its text holds
// text.
func wantPage(t *testing.T, tab context.Context, resp *network.Response, url string, status int64, text string) {
	t.Helper()
	got, _, _ := strings.Cut(resp.URL, "?")
	if got != url || resp.Status != status {
		t.Fatalf("e2e: ended on %s with status %d, want %s with %d (page: %q)", resp.URL, resp.Status, url, status, pageText(tab))
	}
	if text != "" && !strings.Contains(pageText(tab), text) {
		t.Fatalf("e2e: page %s does not show %q; it shows %q", resp.URL, text, pageText(tab))
	}
}

// saveScreenshot writes a PNG of the whole page into the test's temporary directory and, when E2E_SCREENSHOT_DIR
// is set, there too, so that a person can look at what the browser rendered.
func saveScreenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("e2e: screenshot %s: %v", name, err)
		return
	}
	dirs := []string{t.TempDir()}
	if dir := os.Getenv("E2E_SCREENSHOT_DIR"); dir != "" {
		dirs = append(dirs, dir)
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Errorf("e2e: screenshot %s: %v", name, err)
			continue
		}
		p := filepath.Join(dir, name+".png")
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Errorf("e2e: screenshot %s: %v", name, err)
			continue
		}
		t.Logf("screenshot: %s", p)
	}
}

func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
