package appid

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/localappid/localappidtest"
)

// The reference app's texts.
const (
	protectedText = "This route requires authentication and authorization - Powered by IBM Cloud App ID!"
	openText      = "This route is open to all!"
)

// recordingObserver counts Observer events.
type recordingObserver struct {
	mu     sync.Mutex
	counts map[string]int
}

func (o *recordingObserver) add(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[string]int{}
	}
	o.counts[key]++
}

func (o *recordingObserver) count(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[key]
}

func (o *recordingObserver) LoginFinished(result string) { o.add("login:" + result) }
func (o *recordingObserver) AuthorizationDecided(policy, result string) {
	o.add("decision:" + policy + ":" + result)
}
func (o *recordingObserver) RefreshFinished(result string) { o.add("refresh:" + result) }
func (o *recordingObserver) SessionStoreError(op string)   { o.add("store:" + op) }

// testEnv is a local App ID provider and an app protected by Auth, both on loopback ports.
type testEnv struct {
	idp      *localappid.Server
	app      *httptest.Server
	auth     *Auth
	clock    *testkit.Clock
	observer *recordingObserver
}

type envOption struct {
	provider func(*localappid.Config)
	auth     func(*Config)
}

// startTestProvider starts a local provider on the shared clock and signing key, changed by mutate when set, and
// closes it when the test ends.
func startTestProvider(t testing.TB, clock *testkit.Clock, mutate func(*localappid.Config)) *localappid.Server {
	t.Helper()
	pcfg := localappid.DefaultConfig()
	pcfg.Now = clock.Now
	pcfg.PasswordHashCost = 4
	pcfg.SigningKey = testSigningKey()
	if mutate != nil {
		mutate(&pcfg)
	}
	idp, err := localappid.Listen("127.0.0.1:0", pcfg)
	if err != nil {
		t.Fatalf("localappid.Listen: %v", err)
	}
	t.Cleanup(func() { idp.Close() })
	return idp
}

// testAppConfig is the app's Config against idp, for an app served at base (its callback base+"/afterauth").
func testAppConfig(idp *localappid.Server, base string, key []byte, clock *testkit.Clock) Config {
	return Config{
		ClientID:           localappid.DemoClientID,
		ClientSecret:       localappid.DemoClientSecret,
		OAuthServerURL:     idp.Provider().OAuthServerURL(),
		RedirectURL:        base + "/afterauth",
		SessionKeys:        [][]byte{key},
		IBMCloudAPIKey:     localappid.DemoAPIKey,
		IAMTokenURL:        idp.Provider().IAMTokenURL(),
		ManagementURL:      idp.Provider().ManagementURL(),
		SessionIdleTimeout: 12 * time.Hour,
		Logger:             slog.New(slog.DiscardHandler),
		Now:                clock.Now,
	}
}

// newTestEnv starts the provider and the app: / redirects to /auth_route (Check), /noauth_route is open,
// /profile needs a login, /admin the admin role, /api/data a bearer token with scope view.
func newTestEnv(t testing.TB, opt envOption) *testEnv {
	t.Helper()
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	idp := startTestProvider(t, clock, opt.provider)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	key := make([]byte, 32)
	rand.Read(key)
	obs := &recordingObserver{}
	cfg := testAppConfig(idp, base, key, clock)
	cfg.Observer = obs
	if opt.auth != nil {
		opt.auth(&cfg)
	}
	auth, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mux := http.NewServeMux()
	auth.Mount(mux)
	text := func(s string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) })
	}
	mux.Handle("GET /{$}", http.RedirectHandler("/auth_route", http.StatusFound))
	mux.Handle("GET /auth_route", auth.Check(text(protectedText)))
	mux.Handle("GET /noauth_route", text(openText))
	mux.Handle("GET /profile", auth.Require(Authenticated())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := UserFrom(r.Context())
		if !ok {
			http.Error(w, "no user in context", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, u.Name+" <"+u.Email+"> roles="+strings.Join(u.Roles, ",")+" scopes="+strings.Join(u.Scopes, ","))
	})))
	mux.Handle("GET /claims", auth.Require(Authenticated())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		json.NewEncoder(w).Encode(u.Claims)
	})))
	mux.Handle("GET /token", auth.Require(Authenticated())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		io.WriteString(w, u.AccessToken())
	})))
	mux.Handle("GET /api/token", auth.RequireBearer(Scope("view"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		io.WriteString(w, u.AccessToken())
	})))
	mux.Handle("GET /admin", auth.Require(Role("admin"))(text("admin area")))
	mux.Handle("GET /api/data", auth.RequireBearer(Scope("view"))(text(`{"data":1}`)))
	app := httptest.NewUnstartedServer(mux)
	app.Listener.Close()
	app.Listener = ln
	app.Start()
	t.Cleanup(app.Close)
	return &testEnv{idp: idp, app: app, auth: auth, clock: clock, observer: obs}
}

// browser is one user's HTTP client with its own cookie jar. It never follows redirects by itself.
type browser struct {
	t      testing.TB
	client *http.Client
}

func (e *testEnv) newBrowser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, client: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is what a test inspects of an answer.
type response struct {
	status   int
	header   http.Header
	body     string
	location string
	url      *url.URL
}

func (b *browser) do(req *http.Request) *response {
	b.t.Helper()
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: string(body),
		location: resp.Header.Get("Location"), url: req.URL}
}

func (b *browser) get(rawURL string) *response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// follow resolves r's Location against its URL and gets it.
func (b *browser) follow(r *response) *response {
	b.t.Helper()
	if r.status < 300 || r.status > 399 {
		b.t.Fatalf("expected a redirect from %s, got %d: %s", r.url, r.status, r.body)
	}
	next, err := r.url.Parse(r.location)
	if err != nil {
		b.t.Fatalf("bad Location %q: %v", r.location, err)
	}
	return b.get(next.String())
}

// submitLogin fills the provider's login form in page and posts it; it returns the provider's answer, a
// redirect to the app's callback when the password is right.
func (b *browser) submitLogin(page *response, username, password string) *response {
	b.t.Helper()
	req, err := localappidtest.LoginRequest(page.body, page.url, username, password)
	if err != nil {
		b.t.Fatalf("%v (status %d): %s", err, page.status, page.body)
	}
	return b.do(req)
}

// authorize takes the redirect to the provider (from the app) to the point where the provider redirects back
// to the callback, signing in as username when the provider asks.
func (b *browser) authorize(toProvider *response, username string) *response {
	b.t.Helper()
	page := b.follow(toProvider)
	if page.status == http.StatusOK {
		page = b.submitLogin(page, username, username)
	}
	if page.status != http.StatusFound || !strings.Contains(page.location, "/afterauth?") {
		b.t.Fatalf("expected the provider to redirect to the callback, got %d %q: %s", page.status, page.location,
			page.body)
	}
	return page
}

// login signs username in through path and returns the answer of the app at the end of the round trip.
func (b *browser) login(e *testEnv, path, username string) *response {
	b.t.Helper()
	start := b.get(e.app.URL + path)
	if start.status != http.StatusFound || !strings.HasPrefix(start.location, e.idp.Provider().OAuthServerURL()) {
		b.t.Fatalf("GET %s: expected a redirect to the provider, got %d %q", path, start.status, start.location)
	}
	cb := b.follow(b.authorize(start, username))
	if cb.status != http.StatusFound {
		b.t.Fatalf("callback: expected 302, got %d: %s", cb.status, cb.body)
	}
	return b.follow(cb)
}
