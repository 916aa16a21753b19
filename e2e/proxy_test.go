package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
)

// flaskPython is an interpreter that can import Flask (Debian's python3-flask, installed by .ci/run), or "".
// A python3 earlier on PATH (pyenv, a virtualenv) may lack Debian's packages, so /usr/bin/python3 is tried too.
func flaskPython() string {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import flask").Run() == nil {
			return py
		}
	}
	return ""
}

// requireFlask returns the interpreter for the test Flask app, skipping the test without one (failing on CI,
// where .ci/run installs it).
func requireFlask(t *testing.T) string {
	t.Helper()
	py := flaskPython()
	if py == "" {
		if onCI() {
			t.Fatal("e2e: no python3 with Flask on CI: .ci/run installs python3-flask")
		}
		t.Skip("e2e: no python3 with Flask (apt-get install python3-flask)")
	}
	return py
}

// startFlaskBehindProxy runs `appidgate proxy ... -- python3 flaskapp.py`: the one-container shape, where the
// proxy starts the app as its child.
func startFlaskBehindProxy(t *testing.T) (*demo, *testkit.Buffer) {
	t.Helper()
	py := requireFlask(t)
	app, err := filepath.Abs(filepath.Join("testdata", "flaskapp.py"))
	if err != nil {
		t.Fatal(err)
	}
	upstream := fmt.Sprintf("http://127.0.0.1:%d", testkit.FreePort(t))
	return startAppidgate(t, "proxy", "--upstream", upstream, "--public", "/noauth_route,/public/", "--api", "/api/",
		"--", py, app)
}

// TestFlaskBehindProxy: the reference app's routes, served by a Flask app with no login of its own, behind
// appidgate proxy in one container: alice gets the page and her identity, bob 403, a browser without a session
// the provider's login, an API call 401, the open route opens, and SIGTERM ends proxy and app cleanly.
func TestFlaskBehindProxy(t *testing.T) {
	t.Parallel()
	// SIGTERM (startAppidgate's cleanup sends it) must end both: the proxy exits 0 (checked there) and its child
	// is gone. Registered first, this runs last.
	var logs *testkit.Buffer
	t.Cleanup(func() {
		if logs == nil {
			return
		}
		pid := childPid(logs.String())
		if pid == 0 {
			t.Errorf("the proxy's log names no upstream pid:\n%s", logs.String())
			return
		}
		deadline := time.Now().Add(5 * time.Second)
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				t.Errorf("the Flask app (pid %d) outlived the proxy", pid)
				syscall.Kill(pid, syscall.SIGKILL)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	d, l := startFlaskBehindProxy(t)
	logs = l
	browser := startBrowser(t)
	authorize := d.Provider + "/authorization"

	t.Run("alice", func(t *testing.T) {
		tab := newProfile(t, browser)
		wantPage(t, tab, open(t, tab, d.App+"/auth_route"), authorize, http.StatusOK, "Sign in")
		wantPage(t, tab, submitLogin(t, tab, "alice", "alice"), d.App+"/auth_route", http.StatusOK, authRouteText)
		open(t, tab, d.App+"/whoami")
		var echo struct {
			Headers map[string]string `json:"headers"`
			Environ map[string]string `json:"environ"`
			Cookies map[string]string `json:"cookies"`
		}
		if err := json.Unmarshal([]byte(pageText(tab)), &echo); err != nil {
			t.Fatalf("/whoami: %v: %q", err, pageText(tab))
		}
		if echo.Headers["X-Appidgate-Email"] != "alice@example.com" || echo.Headers["X-Appidgate-Roles"] != "user" ||
			echo.Headers["X-Appidgate-Assertion"] == "" {
			t.Errorf("the Flask app saw %v, want alice's identity and an assertion", echo.Headers)
		}
		for name := range echo.Cookies {
			if strings.Contains(name, "appidgate") {
				t.Errorf("the proxy's cookie %s reached the app", name)
			}
		}
	})
	t.Run("bob has no role", func(t *testing.T) {
		tab := newProfile(t, browser)
		open(t, tab, d.App+"/auth_route")
		wantPage(t, tab, submitLogin(t, tab, "bob", "bob"), d.App+"/auth_route", http.StatusForbidden, unauthorizedText)
	})
	t.Run("open route, API, smuggled identity", func(t *testing.T) {
		client := &http.Client{Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		get := func(path string, header ...string) (*http.Response, string) {
			req, _ := http.NewRequest(http.MethodGet, d.App+path, nil)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header[header[i]] = []string{header[i+1]}
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, string(body)
		}
		if resp, body := get("/noauth_route"); resp.StatusCode != http.StatusOK || body != noauthRouteText {
			t.Errorf("/noauth_route: %d %q", resp.StatusCode, body)
		}
		if resp, _ := get("/api/whoami"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("/api/whoami without a session: %d, want 401", resp.StatusCode)
		}
		if resp, _ := get("/auth_route", "Accept", "text/html"); resp.StatusCode != http.StatusFound ||
			!strings.HasPrefix(resp.Header.Get("Location"), d.Provider) {
			t.Errorf("/auth_route without a session: %d %q, want 302 to the provider", resp.StatusCode,
				resp.Header.Get("Location"))
		}
		// Metrics label proxied requests by the rule that admitted them, never by the raw path.
		if _, metrics := get("/metrics"); !strings.Contains(metrics, `route="proxy /noauth_route"`) ||
			strings.Contains(metrics, `route="/noauth_route"`) {
			t.Errorf("/metrics has no series for the rule /noauth_route:\n%s", metrics)
		} else if !strings.Contains(metrics, `appidgate_upstream_requests_total{code="200",route="proxy /noauth_route"} 1`) ||
			!strings.Contains(metrics, `appidgate_upstream_request_duration_seconds_count{route="proxy /noauth_route"} 1`) {
			// The request refused with 401 above never reached the upstream; the open one did, once.
			t.Errorf("/metrics does not count the upstream's answer to /noauth_route once:\n%s", metrics)
		}
		// WSGI folds X_Forwarded_User and X-Forwarded-User into one variable: neither may reach the app.
		resp, body := get("/public/whoami", "X_Forwarded_User", "evil", "X-Forwarded-User", "evil",
			"X-Appidgate-User", "evil", "x_appidgate_roles", "admin")
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "evil") || strings.Contains(body, "admin") {
			t.Errorf("/public/whoami with smuggled identity headers: %d %s", resp.StatusCode, body)
		}
	})

}

// childPid reads the upstream's pid from the proxy's JSON start-up line "appidgate proxy started".
func childPid(log string) int {
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		var line struct {
			Msg string `json:"msg"`
			Pid int    `json:"upstream_pid"`
		}
		if json.Unmarshal([]byte(sc.Bytes()), &line) == nil && line.Msg == "appidgate proxy started" {
			return line.Pid
		}
	}
	return 0
}
