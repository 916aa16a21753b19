package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/appidgate/appidgate/internal/testkit"
)

// axeEnv names axe-core's axe.min.js, or the folder of the npm package, when it is not in a usual place.
const axeEnv = "APPIDGATE_AXE_CORE"

// screenshotsEnv names the folder for the pages' screenshots; unset, none are taken (they are for people looking
// at the pages after a change, and making them is a third of the test's time). e2e/screenshots is ignored by git.
const screenshotsEnv = "APPIDGATE_SCREENSHOTS_DIR"

// Widths the pages are looked at: a desktop and a phone (390 px, an iPhone 12 to 15).
const (
	desktopWidth, desktopHeight = 1280, 800
	phoneWidth, phoneHeight     = 390, 844
)

// findAxe returns the path of axe.min.js: $APPIDGATE_AXE_CORE, else where .ci/run installs it
// (npm install --prefix ~/.cache/appidgate-npm axe-core@4), else a node_modules of the repository or a global one.
func findAxe() (string, error) {
	if p := os.Getenv(axeEnv); p != "" {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			p = filepath.Join(p, "axe.min.js")
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %v", axeEnv, os.Getenv(axeEnv), err)
		}
		return p, nil
	}
	var dirs []string
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".cache", "appidgate-npm", "node_modules", "axe-core"))
	}
	if root, err := moduleRoot(); err == nil {
		dirs = append(dirs, filepath.Join(root, "node_modules", "axe-core"))
	}
	dirs = append(dirs, "/usr/local/lib/node_modules/axe-core", "/usr/lib/node_modules/axe-core")
	for _, d := range dirs {
		if p := filepath.Join(d, "axe.min.js"); fileExists(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("no axe-core (looked in %s)", strings.Join(dirs, ", "))
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// pageChecker looks at each page as people and their tools do: at a desktop and at a phone width (and the phone
// in dark mode), with screenshots when asked for, axe-core's rules in light and in dark mode with no serious or critical
// violation, no horizontal scrolling at the phone width, the stylesheet applied (the policy's hash allows it),
// and a visible focus for the keyboard.
type pageChecker struct {
	axe   string // axe.min.js
	dir   string // screenshots; empty: none
	shots int
}

// newPageChecker finds axe-core and the screenshots folder, if any. Without axe-core the test is skipped, or fails on
// CI, where .ci/run installs it.
func newPageChecker(t *testing.T) *pageChecker {
	t.Helper()
	requireChromium(t)
	path, err := findAxe()
	if err != nil {
		if onCI() {
			t.Fatalf("e2e: CI=true but %v: .ci/run installs it with npm", err)
		}
		t.Skipf("e2e: %v; install it with npm install --prefix ~/.cache/appidgate-npm axe-core@4 (or set %s)", err, axeEnv)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv(screenshotsEnv)
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &pageChecker{axe: string(src), dir: dir}
}

// check runs every look at the page shown in tab, naming it name in screenshots and failures.
func (c *pageChecker) check(t *testing.T, tab context.Context, name string) {
	t.Helper()
	c.shots++
	base := fmt.Sprintf("%02d-%s", c.shots, name)
	c.emulate(t, tab, desktopWidth, desktopHeight, "light")
	styled, err := chromedp.Run(tab, chromedp.Evaluate[string](
		`getComputedStyle(document.documentElement).getPropertyValue("--accent").trim()`))
	if err != nil || styled == "" {
		t.Errorf("%s: the stylesheet is not applied (blocked by the content security policy?): %q %v", name, styled, err)
	}
	c.screenshot(t, tab, base+"-1280")
	c.axeCheck(t, tab, name+" at 1280 px")
	c.focusCheck(t, tab, name)

	c.emulate(t, tab, phoneWidth, phoneHeight, "light")
	widths, err := chromedp.Run(tab, chromedp.Evaluate[[]int](
		`[document.documentElement.scrollWidth, window.innerWidth]`))
	if err != nil {
		t.Errorf("%s: reading the page width: %v", name, err)
	} else if widths[0] > widths[1] {
		t.Errorf("%s scrolls sideways at %d px: the page is %d px wide", name, widths[1], widths[0])
	}
	c.screenshot(t, tab, base+"-390")
	c.emulate(t, tab, phoneWidth, phoneHeight, "dark")
	c.screenshot(t, tab, base+"-390-dark")
	c.axeCheck(t, tab, name+" at 390 px, dark")
	c.emulate(t, tab, desktopWidth, desktopHeight, "light")
}

// emulate sets the viewport (a phone, with its viewport meta tag honoured, below the desktop width) and the
// preferred colour scheme.
func (c *pageChecker) emulate(t *testing.T, tab context.Context, width, height int64, scheme string) {
	t.Helper()
	var opts []chromedp.EmulateViewportOption
	if width < desktopWidth {
		opts = append(opts, chromedp.EmulateMobile)
	}
	err := chromedp.Do(tab, chromedp.EmulateViewport(width, height, opts...))
	if err == nil {
		_, err = chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
	}
	if err != nil {
		t.Fatalf("e2e: emulating %d px, %s: %v", width, scheme, err)
	}
}

// screenshot writes a PNG of the whole page into the screenshots folder, when there is one.
func (c *pageChecker) screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	if c.dir == "" {
		return
	}
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("e2e: screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(c.dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Errorf("e2e: screenshot %s: %v", name, err)
		return
	}
	t.Logf("screenshot: %s", p)
}

// axeViolation is what the test reports of one of axe-core's findings.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeCheck runs axe-core on the page, failing on serious and critical violations and logging the others.
func (c *pageChecker) axeCheck(t *testing.T, tab context.Context, what string) {
	t.Helper()
	// A page checked in light and then in dark mode keeps the axe-core it got the first time: parsing its half a
	// megabyte of script again is the slowest part of the check.
	loaded, err := chromedp.Run(tab, chromedp.Evaluate[bool](`typeof axe !== "undefined"`))
	if err != nil {
		t.Fatalf("e2e: looking for axe-core in %s: %v", what, err)
	}
	if !loaded {
		if _, err := chromedp.Run(tab, chromedp.Evaluate[chromedp.Void](c.axe)); err != nil {
			t.Fatalf("e2e: injecting axe-core into %s: %v", what, err)
		}
	}
	violations, err := chromedp.Run(tab, chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help,
			nodes: v.nodes.map(n => n.target.join(" ") + ": " + (n.failureSummary || "").replace(/\s+/g, " "))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("e2e: running axe-core on %s: %v", what, err)
	}
	serious := 0
	for _, v := range violations {
		line := fmt.Sprintf("axe %s: %s (%s): %s\n    %s", what, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n    "))
		if v.Impact == "serious" || v.Impact == "critical" {
			serious++
			t.Error(line)
		} else {
			t.Log(line)
		}
	}
	t.Logf("axe %s: %d violations, %d serious or critical", what, len(violations), serious)
}

// focusCheck presses Tab and checks that the element it reaches is a control with a visible focus outline. A
// page without controls has nothing to check.
func (c *pageChecker) focusCheck(t *testing.T, tab context.Context, name string) {
	t.Helper()
	controls, err := chromedp.Run(tab, chromedp.Evaluate[int](
		`document.querySelectorAll('a[href], button, input:not([type="hidden"])').length`))
	if err != nil || controls == 0 {
		return
	}
	focus, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[document.activeElement.tagName,
		getComputedStyle(document.activeElement).outlineStyle]`))
	if err == nil && focus[0] == "BODY" {
		err = chromedp.Do(tab, chromedp.KeyEvent(kb.Tab))
		if err == nil {
			focus, err = chromedp.Run(tab, chromedp.Evaluate[[]string](`[document.activeElement.tagName,
				getComputedStyle(document.activeElement).outlineStyle]`))
		}
	}
	if err != nil {
		t.Fatalf("e2e: %s: moving the focus: %v", name, err)
	}
	switch {
	case focus[0] != "A" && focus[0] != "BUTTON" && focus[0] != "INPUT":
		t.Errorf("%s: the keyboard focus is on %s, want a link, button or field", name, focus[0])
	case focus[1] == "none":
		t.Errorf("%s: the focused %s has no visible outline", name, focus[0])
	}
	chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
}

// typeKeys sends keys to whatever has the focus.
func typeKeys(t *testing.T, tab context.Context, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := chromedp.Do(tab, chromedp.KeyEvent(k)); err != nil {
			t.Fatalf("e2e: typing: %v", err)
		}
	}
}

// activeElement describes the focused element, as tag#id "text".
func activeElement(t *testing.T, tab context.Context) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Evaluate[string](`(e => e.tagName + "#" + e.id + " " + JSON.stringify(e.textContent.trim()))(document.activeElement)`))
	if err != nil {
		t.Fatalf("e2e: reading the focus: %v", err)
	}
	return s
}

// TestPages visits every page appidgate and localappid show people, in two tabs of one browser and two processes
// (the demo, and a proxy whose provider and upstream are both down), and looks at each with pageChecker: the
// sign-in page (with and without an error), the profile, the logout confirmation, the signed-out page (also after
// a logout the provider could not take part in), the 403 page, the provider's own error page, the provider-down
// page and the upstream-down 502. Bob signs in and signs in as someone else with the keyboard alone.
func TestPages(t *testing.T) {
	t.Parallel()
	c := newPageChecker(t)
	d, _ := startAppidgateEnv(t, []string{"APPIDGATE_ACCESS_CONTACT=mailto:access@example.com"}, "demo")
	deadProvider := fmt.Sprintf("http://127.0.0.1:%d", testkit.FreePort(t))
	down, _ := startAppidgateEnv(t, []string{"APPIDGATE_IDP_URL=" + deadProvider}, "proxy",
		"--upstream", fmt.Sprintf("http://127.0.0.1:%d", testkit.FreePort(t)), "--public", "/noauth_route")
	authorize := d.Provider + "/authorization"

	// Two tabs side by side: one person's way through sign-in, roles and logout, and the pages of errors and
	// unreachable peers, which need no session. Each tab numbers its screenshots where the one-tab order had them.
	t.Run("signed in", func(t *testing.T) {
		t.Parallel()
		c := *c
		tab := startBrowser(t)
		wantPage(t, tab, open(t, tab, d.App+"/profile"), authorize, http.StatusOK, "Demo users")
		c.check(t, tab, "signin")
		wantPage(t, tab, submitLogin(t, tab, "alice", "not-alice"), authorize, http.StatusUnauthorized, wrongLoginText)
		c.check(t, tab, "signin-error")
		wantPage(t, tab, submitLogin(t, tab, "alice", "alice"), d.App+"/profile", http.StatusOK, "alice@example.com")
		c.check(t, tab, "profile")

		wantPage(t, tab, open(t, tab, d.App+"/logout"), d.App+"/logout", http.StatusOK, "You are signed in as Alice")
		c.check(t, tab, "logout")
		resp := clickAndWait(t, tab, `form[action="/logout"] button[type="submit"]`)
		wantPage(t, tab, resp, d.App+"/noauth_route", http.StatusOK, noauthRouteText)
		wantPage(t, tab, open(t, tab, d.App+"/logout"), d.App+"/logout", http.StatusOK, "You are logged out")
		c.check(t, tab, "signed-out")
		wantPage(t, tab, open(t, tab, d.App+"/logout?provider_session=kept&return_to=/noauth_route"), d.App+"/logout",
			http.StatusOK, "may still sign you in again")
		c.check(t, tab, "signed-out-provider-kept")

		// Bob, by keyboard alone: the sign-in form has the focus, Tab reaches the password, Enter signs in.
		wantPage(t, tab, open(t, tab, d.App+"/auth_route"), authorize, http.StatusOK, "Sign in")
		if got := activeElement(t, tab); !strings.HasPrefix(got, "INPUT#username") {
			t.Errorf("the sign-in page opens with the focus on %s, want the username field", got)
		}
		typeKeys(t, tab, "bob", kb.Tab, "bob")
		resp, err := chromedp.RunResponse(tab, chromedp.KeyEvent(kb.Enter))
		if err != nil {
			t.Fatalf("e2e: submitting the sign-in form with Enter: %v", err)
		}
		wantPage(t, tab, resp, d.App+"/auth_route", http.StatusForbidden, unauthorizedText)
		text := pageText(tab)
		for _, want := range []string{"Bob", "bob@example.com", "at least one role", "access@example.com"} {
			if !strings.Contains(text, want) {
				t.Errorf("the 403 page does not show %q: %q", want, text)
			}
		}
		if n := strings.Count(text, unauthorizedText); n != 1 {
			t.Errorf("the 403 page says %q %d times, want once: %q", unauthorizedText, n, text)
		}
		c.check(t, tab, "forbidden")
		// Tab to "Sign in as someone else", Enter: logged out here and at the provider, back at its sign-in form.
		const switchButton = `BUTTON# "Sign in as someone else"`
		for range 6 {
			if activeElement(t, tab) == switchButton {
				break
			}
			typeKeys(t, tab, kb.Tab)
		}
		if got := activeElement(t, tab); got != switchButton {
			t.Fatalf("Tab does not reach the sign-in-as-someone-else button (focus on %s)", got)
		}
		resp, err = chromedp.RunResponse(tab, chromedp.KeyEvent(kb.Enter))
		if err != nil {
			t.Fatalf("e2e: pressing Sign in as someone else: %v", err)
		}
		wantPage(t, tab, resp, authorize, http.StatusOK, "Sign in")
		wantPage(t, tab, submitLogin(t, tab, "carol", "carol"), d.App+"/auth_route", http.StatusOK, authRouteText)
	})
	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		c := *c
		c.shots = 7
		tab := startBrowser(t)
		bad := url.Values{"client_id": {"nobody"}, "response_type": {"code"}, "redirect_uri": {d.App + "/afterauth"}}
		wantPage(t, tab, open(t, tab, authorize+"?"+bad.Encode()), authorize, http.StatusBadRequest, "Invalid login request")
		c.check(t, tab, "provider-error")

		wantPage(t, tab, open(t, tab, down.App+"/auth_route"), down.App+"/auth_route", http.StatusServiceUnavailable,
			"Could not reach the identity provider")
		c.check(t, tab, "provider-down")
		wantPage(t, tab, open(t, tab, down.App+"/noauth_route"), down.App+"/noauth_route", http.StatusBadGateway,
			"Bad gateway")
		c.check(t, tab, "upstream-down")
	})
}
