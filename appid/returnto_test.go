package appid

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
)

func TestSanitizeReturnTo(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/auth_route", "/auth_route"},
		{"/auth_route?x=1&y=%2F", "/auth_route?x=1&y=%2F"},
		{"/a/b#frag", "/a/b"},
		{"/", "/"},
		{"", "/"},
		{"//evil.example", "/"},
		{"/\\evil.example", "/"},
		{"/%2f%2fevil.example", "/"},
		{"/%5cevil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/a\tb", "/"},
		{"/ok?next=//evil", "/ok?next=//evil"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := sanitizeReturnTo(tc.in); got != tc.want {
				t.Errorf("sanitizeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// assertSameOrigin fails unless target, resolved as a browser would against base, stays on base's origin.
func assertSameOrigin(t *testing.T, base *url.URL, payload, target string) {
	t.Helper()
	if !isPlainPath(target) {
		t.Errorf("payload %q: redirect target %q is not a plain same-origin path", payload, target)
		return
	}
	u, err := base.Parse(target)
	if err != nil || u.Scheme != base.Scheme || u.Host != base.Host {
		t.Errorf("payload %q: redirect target %q resolves to %v", payload, target, u)
	}
}

func TestSanitizeReturnToOpenRedirectCorpus(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("https://app.example.com/")
	for _, p := range testkit.OpenRedirectPayloads(t) {
		assertSameOrigin(t, base, p, sanitizeReturnTo(p))
	}
}

// TestOpenRedirectCorpusThroughLogin requests each payload as the target of a protected route, completes the
// login, and checks where the callback sends the browser.
func TestOpenRedirectCorpusThroughLogin(t *testing.T) {
	t.Parallel()
	payloads := testkit.OpenRedirectPayloads(t)
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK { // the provider now has an SSO session
		t.Fatalf("login: %d", got.status)
	}
	base, _ := url.Parse(e.app.URL)
	protected := e.auth.Check(http.NotFoundHandler())
	seen := map[string]bool{}
	var exercised int
	for _, p := range payloads {
		if seen[p] {
			continue
		}
		seen[p] = true
		target, err := url.ParseRequestURI(p)
		if err != nil {
			continue // net/http answers 400 to such a request line before any handler runs
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL, req.RequestURI = target, p
		rec := httptest.NewRecorder()
		protected.ServeHTTP(rec, req)
		if rec.Code != http.StatusFound {
			t.Fatalf("payload %q: got %d, want 302 to login", p, rec.Code)
		}
		b.client.Jar.SetCookies(base, rec.Result().Cookies())
		toProvider, _ := url.Parse(rec.Header().Get("Location"))
		cb := b.follow(b.authorize(&response{status: http.StatusFound, location: toProvider.String(), url: toProvider}, "alice"))
		if cb.status != http.StatusFound {
			t.Fatalf("payload %q: callback got %d %q", p, cb.status, cb.body)
		}
		assertSameOrigin(t, base, p, cb.location)
		exercised++
	}
	// Most payloads are request targets net/http accepts (494 of the corpus's 565 distinct ones, 9 of the 15
	// built in): fewer than half reaching the login means the test no longer tests.
	if exercised*2 < len(seen) {
		t.Errorf("only %d of %d payloads reached the login; the corpus or the test is broken", exercised, len(seen))
	}
	t.Logf("%d distinct payloads went through login and came back same-origin", exercised)
}
