// Package e2e tests appidgate end to end: it builds the real binary, runs `appidgate demo` as a separate process
// (the reference app on http://localhost:PORT with the embedded local App ID provider on http://127.0.0.1:OTHER),
// and drives a real headless Chromium through the login, role check, session cookie and logout flows.
//
// The app and the provider are different sites to the browser, so these tests show what unit tests cannot: that
// the SameSite=Lax login and session cookies survive the cross-site redirect back to /afterauth, that pending
// logins in two tabs do not clobber each other, and that logout also ends the provider's single sign-on session.
//
// The tests need a Chromium binary: `chromium` on PATH or /usr/bin/chromium (Debian: apt-get install chromium).
// Without one they are skipped, except when the environment has CI=true, where a missing browser fails them so
// that a broken install is not hidden. `go test -short` skips them too. Set E2E_SCREENSHOT_DIR to keep
// screenshots of the pages the browser ended on.
//
// TestPages looks at every page appidgate and localappid show people at 1280 and 390 px (and 390 px in dark
// mode), writes screenshots of them into $APPIDGATE_SCREENSHOTS_DIR when it is set (e2e/screenshots is ignored by
// git) and runs axe-core in the browser, failing on serious or critical violations. It needs the npm package
// axe-core (.ci/run: npm install --prefix ~/.cache/appidgate-npm axe-core@4; or APPIDGATE_AXE_CORE naming
// axe.min.js): without it the test is skipped, except on CI, where it fails.
package e2e
