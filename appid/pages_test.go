package appid

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/logging"
	"github.com/appidgate/appidgate/localappid"
)

// formOf returns the action and fields of the form in page whose button says button.
func formOf(t *testing.T, page, button string) (string, url.Values) {
	t.Helper()
	forms := regexp.MustCompile(`(?s)<form method="post" action="([^"]*)">(.*?)</form>`).FindAllStringSubmatch(page, -1)
	for _, f := range forms {
		if !strings.Contains(f[2], ">"+button+"</button>") {
			continue
		}
		fields := url.Values{}
		for _, in := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(f[2], -1) {
			fields.Set(in[1], in[2])
		}
		return f[1], fields
	}
	t.Fatalf("no form with a %q button in:\n%s", button, page)
	return "", nil
}

// TestForbiddenPage: the 403 page says who is signed in, what the route needs and whom to ask, says
// "Unauthorized!" once, and its policy lets the sign-in-as-someone-else form follow the provider's logout.
func TestForbiddenPage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{auth: func(c *Config) { c.AccessContact = "mailto:access@example.com?subject=Access" }})
	b := e.newBrowser(t)
	got := b.login(e, "/admin", "alice")
	if got.status != http.StatusForbidden {
		t.Fatalf("alice at /admin: %d, want 403", got.status)
	}
	for _, want := range []string{"Alice", "alice@example.com", localappid.AliceID, "the role admin",
		`<a href="mailto:access@example.com?subject=Access">access@example.com</a>`, "Sign in as someone else"} {
		if !strings.Contains(got.body, want) {
			t.Errorf("the 403 page lacks %q:\n%s", want, got.body)
		}
	}
	if n := strings.Count(got.body, "Unauthorized!"); n != 1 {
		t.Errorf("the 403 page says Unauthorized! %d times, want once", n)
	}
	if csp := got.header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'; frame-ancestors 'none'; style-src 'sha256-") ||
		strings.Contains(csp, "form-action") {
		t.Errorf("403 CSP %q: want default-src 'none' and the style hash, without form-action (the logout redirects off-site)", csp)
	}

	// API clients keep their JSON answer.
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/admin", nil)
	req.Header.Set("Accept", "application/json")
	if api := b.do(req); api.status != http.StatusForbidden ||
		strings.TrimSpace(api.body) != `{"error":"forbidden","error_description":"Unauthorized!"}` {
		t.Errorf("API 403: %d %s", api.status, api.body)
	}
}

// TestSignInAsSomeoneElse: the 403 page's button logs out at the app and at the provider, comes back through
// the callback (the one URL the provider surely accepts) and asks for a password again, so that another user
// can sign in and land on the page that was refused.
func TestSignInAsSomeoneElse(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	refused := b.login(e, "/admin?tab=1", "alice")
	if refused.status != http.StatusForbidden {
		t.Fatalf("alice at /admin: %d, want 403", refused.status)
	}
	action, fields := formOf(t, refused.body, "Sign in as someone else")
	if action != "/logout" || fields.Get("return_to") != "/afterauth" {
		t.Fatalf("the form posts %v to %q, want return_to=/afterauth to /logout", fields, action)
	}
	req, _ := http.NewRequest(http.MethodPost, e.app.URL+action, strings.NewReader(fields.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.app.URL)
	out := b.do(req)
	if out.status != http.StatusSeeOther || !strings.Contains(out.location, url.QueryEscape(e.app.URL+"/afterauth")) {
		t.Fatalf("logout: %d %q, want 303 to the provider's logout, back to the callback", out.status, out.location)
	}
	back := b.follow(out)
	if back.status != http.StatusFound || back.location != e.app.URL+"/afterauth" {
		t.Fatalf("provider logout: %d %q, want the callback", back.status, back.location)
	}
	start := b.follow(back)
	if start.status != http.StatusFound || !strings.HasPrefix(start.location, e.idp.Provider().OAuthServerURL()+"/authorization") {
		t.Fatalf("the callback without parameters: %d %q, want a new login", start.status, start.location)
	}
	form := b.follow(start)
	if form.status != http.StatusOK || !strings.Contains(form.body, `name="password"`) {
		t.Fatalf("the provider did not ask for a password: %d", form.status)
	}
	cb := b.submitLogin(form, "carol", "carol")
	landed := b.follow(b.follow(cb))
	if landed.status != http.StatusOK || landed.body != "admin area" || landed.url.RequestURI() != "/admin?tab=1" {
		t.Errorf("carol landed on %s: %d %q, want /admin?tab=1", landed.url, landed.status, landed.body)
	}
	// The remembered page is used once: the callback alone now starts a login to "/".
	if again := b.get(e.app.URL + "/afterauth"); again.status != http.StatusFound ||
		!strings.Contains(again.location, "/authorization") {
		t.Errorf("the bare callback: %d %q", again.status, again.location)
	}
}

// TestLogoutPages: GET /logout asks a signed-in user to confirm and shows who they are; without a session it
// shows the signed-out page, which is also where a logout ends when the provider cannot be reached.
func TestLogoutPages(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	if got := b.get(e.app.URL + "/logout"); got.status != http.StatusOK || !strings.Contains(got.body, "You are logged out") ||
		strings.Contains(got.body, "<form") || strings.Contains(got.body, "may still sign you in") {
		t.Errorf("GET /logout without a session: %d %s", got.status, got.body)
	}
	b.login(e, "/auth_route", "alice")
	page := b.get(e.app.URL + "/logout?return_to=/profile")
	if page.status != http.StatusOK || !strings.Contains(page.body, "Alice") {
		t.Errorf("GET /logout signed in: %d %s", page.status, page.body)
	}
	if action, fields := formOf(t, page.body, "Log out"); action != "/logout" || fields.Get("return_to") != "/profile" {
		t.Errorf("the logout form posts %v to %q", fields, action)
	}

	// A provider that cannot be reached (its metadata never loaded) cannot end its own session.
	e = newTestEnv(t, envOption{})
	e.idp.Close()
	b = e.newBrowser(t)
	out := postLogout(b, e, e.app.URL)
	if out.status != http.StatusSeeOther || out.location != "/logout?provider_session=kept&return_to=%2Fnoauth_route" {
		t.Fatalf("logout with the provider down: %d %q, want the signed-out page", out.status, out.location)
	}
	done := b.follow(out)
	for _, want := range []string{"You are logged out", "may still sign you in again", `href="/noauth_route"`} {
		if !strings.Contains(done.body, want) {
			t.Errorf("signed-out page lacks %q:\n%s", want, done.body)
		}
	}
}

// TestFailurePage: a provider that cannot be reached gives browsers a page naming what failed, a link to try
// the same page again and the request id of the log line; API clients keep their JSON.
func TestFailurePage(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	e.idp.Close()
	h := logging.Requests(slog.New(slog.DiscardHandler), e.app.Config.Handler)
	req := httptest.NewRequest(http.MethodGet, "/auth_route?x=1", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set(logging.RequestIDHeader, "req-42")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	for _, want := range []string{"Could not reach the identity provider", `href="/auth_route?x=1"`, "Try again",
		"<code>req-42</code>"} {
		if !strings.Contains(body, want) {
			t.Errorf("failure page lacks %q:\n%s", want, body)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, pageCSP+"; style-src 'sha256-") {
		t.Errorf("CSP %q", csp)
	}

	req = httptest.NewRequest(http.MethodGet, "/auth_route", nil)
	req.Header.Set("Accept", "application/json")
	rec = httptest.NewRecorder()
	e.auth.respondError(rec, req, http.StatusServiceUnavailable, "Could not reach the identity provider", "Later.")
	if want := `{"error":"temporarily_unavailable","error_description":"Could not reach the identity provider: Later."}`; strings.TrimSpace(rec.Body.String()) != want {
		t.Errorf("JSON %s, want %s", rec.Body, want)
	}
}

// TestTemplatesDir: APPIDGATE_TEMPLATES_DIR replaces pages; a bad template stops start-up naming the setting and
// the file, both from the environment and in New.
func TestTemplatesDir(t *testing.T) {
	t.Parallel()
	good := t.TempDir()
	if err := os.WriteFile(filepath.Join(good, "forbidden.html"), []byte(`<h1>Unauthorized!</h1> ask {{.Contact}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t, envOption{auth: func(c *Config) { c.TemplatesDir = good; c.AccessContact = "Dana" }})
	if got := e.newBrowser(t).login(e, "/admin", "alice"); got.status != http.StatusForbidden ||
		got.body != "<h1>Unauthorized!</h1> ask Dana" {
		t.Errorf("the replaced 403 page: %d %q", got.status, got.body)
	}

	bad := t.TempDir()
	for name, content := range map[string]string{"error.html": "{{if}}", "welcome.html": "hi"} {
		if err := os.WriteFile(filepath.Join(bad, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	env := validEnv()
	env["APPIDGATE_TEMPLATES_DIR"] = bad
	_, err := ConfigFromLookup(lookupFrom(env))
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("ConfigFromLookup: %v, want a ConfigError", err)
	}
	named := map[string]bool{}
	for _, p := range ce.Problems {
		if p.Setting == "APPIDGATE_TEMPLATES_DIR" {
			for _, f := range []string{"error.html", "welcome.html"} {
				if strings.Contains(p.Reason, filepath.Join(bad, f)) {
					named[f] = true
				}
			}
		}
	}
	if len(named) != 2 {
		t.Errorf("problems %v do not name both bad files", ce.Problems)
	}

	cfg := testAppConfig(e.idp, "http://127.0.0.1:1", make([]byte, 32), e.clock)
	cfg.TemplatesDir = bad
	if _, err := New(t.Context(), cfg); !errors.As(err, &ce) || ce.Problems[0].Setting != "TemplatesDir" {
		t.Errorf("New with bad templates: %v, want a ConfigError naming TemplatesDir", err)
	}
}

// TestDescribePolicy: the 403 page says simple policies in words and shows others by name.
func TestDescribePolicy(t *testing.T) {
	t.Parallel()
	for _, p := range []struct {
		policy Policy
		want   string
	}{
		{AnyRole(), "at least one role"},
		{Role("admin"), "the role admin"},
		{Scope("view"), "the scope view"},
		{AllOf(Role("a"), Scope("b")), "role:a,scope:b"},
		{AnyOf(Role("a"), Role("b")), "any(role:a|role:b)"},
	} {
		if got := describePolicy(p.policy.String()); got != p.want {
			t.Errorf("describePolicy(%s) = %q, want %q", p.policy, got, p.want)
		}
	}
}
