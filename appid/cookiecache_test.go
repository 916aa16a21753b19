package appid

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid/session"
)

// TestPlantedFirstCookieNeverKeysTheCache: a cookie planted before the real one (a sibling subdomain, an http
// page) with a value net/http refuses must not become the key under which the victim's session is cached: the
// attacker sending it alone later is not the victim.
func TestPlantedFirstCookieNeverKeysTheCache(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	victim := e.newBrowser(t)
	if got := victim.login(e, "/profile", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	u, _ := url.Parse(e.app.URL)
	var sess string
	for _, c := range victim.client.Jar.Cookies(u) {
		if c.Name == session.DefaultCookieName {
			sess = c.Value
		}
	}
	if sess == "" {
		t.Fatal("no session cookie")
	}
	// What a cookie planted by a sibling subdomain (Domain=.example, longer Path so it is sent first) looks like:
	// the attacker chooses its value; a backslash makes net/http's checks (Load) skip it, CacheKey does not.
	planted := `attacker\chosen` + strings.Repeat("A", 100)
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/profile", nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cookie", session.DefaultCookieName+"="+planted+"; "+session.DefaultCookieName+"="+sess)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Logf("victim request with planted cookie: %d", resp.StatusCode)

	// The attacker now sends only the value they planted, a few minutes later (past touchInterval).
	e.clock.Advance(2 * time.Minute)
	req, _ = http.NewRequest(http.MethodGet, e.app.URL+"/profile", nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cookie", session.DefaultCookieName+"="+planted)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 200)
	n, _ := resp.Body.Read(buf)
	resp.Body.Close()
	t.Logf("Set-Cookie to the attacker: %.60s...", resp.Header.Get("Set-Cookie"))
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("attacker with only the planted value was admitted as the victim: %d %s", resp.StatusCode, buf[:n])
	}
}

// TestCacheKeysAreBounded: a signed-in user sending huge junk cookies beside the real one cannot make the cache
// of verified sessions hold more than the sealed values it opened.
func TestCacheKeysAreBounded(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	if got := b.login(e, "/profile", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	u, _ := url.Parse(e.app.URL)
	var sess string
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == session.DefaultCookieName {
			sess = c.Value
		}
	}
	for i := range 20 {
		junk := strings.Repeat("\\", 500_000) + string(rune('a'+i))
		req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/profile", nil)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Cookie", session.DefaultCookieName+"="+junk+"; "+session.DefaultCookieName+"="+sess)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// Every one of those requests opened the same sealed cookie: the cache holds it once, under that value.
	if n := e.auth.sessions.verified.Len(); n != 1 {
		t.Fatalf("the cache holds %d sessions after 20 requests of one session with junk cookies, want 1", n)
	}
}

// TestAuthorizedUserIsTheCallersOwn: a caller that changes its user's roles in place changes nothing for later
// requests of the same session, which share its cached state.
func TestAuthorizedUserIsTheCallersOwn(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	if got := b.get(e.app.URL + "/admin"); got.status != http.StatusForbidden {
		t.Fatalf("alice on /admin before: %d, want 403", got.status)
	}
	u0, _ := url.Parse(e.app.URL)
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	for _, c := range b.client.Jar.Cookies(u0) {
		if c.Name == session.DefaultCookieName {
			req.AddCookie(c)
		}
	}
	u, err := e.auth.Authorize(httptest.NewRecorder(), req, Authenticated())
	if err != nil || len(u.Roles) == 0 {
		t.Fatalf("Authorize: %v %v", u, err)
	}
	u.Roles[0] = "admin" // e.g. a handler normalizing role names in place
	if got := b.get(e.app.URL + "/admin"); got.status == http.StatusOK {
		t.Fatalf("a caller's change to its own copy of the user granted admin to later requests: %d", got.status)
	}
}
