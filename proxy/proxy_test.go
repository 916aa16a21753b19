package proxy_test

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/appid/session/redisstore"
	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/localappid/localappidtest"
	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// providerKey is the local provider's signing key in every test, generated once.
var providerKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// env is a local provider, an upstream app and the proxy in front of it, all on loopback.
type env struct {
	t        testing.TB
	idp      *localappid.Server
	upstream *httptest.Server
	proxy    *httptest.Server
	clock    *testClock // the provider's and the proxy's
}

// testClock is the real time moved forward by what the test advanced it, shared by the provider and appid so
// that tokens expire for both at once.
type testClock struct{ offset atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *testClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// envOptions configures newEnv.
type envOptions struct {
	routes      string // a routes file's content; empty: /noauth_route and /public/ public, /api/ an API
	trusted     []netip.Prefix
	upstream    http.Handler // nil: upstreamApp
	identity    proxy.IdentityHeaders
	returnHosts []string
	publicURL   string                   // the proxy's public URL, when another server (nginx) fronts it; empty: its own
	redis       bool                     // sessions in Redis (miniredis) rather than in cookies
	bodyIdle    time.Duration            // the proxy's BodyIdleTimeout; zero: its default
	keepToken   bool                     // appid's KeepAccessToken
	provider    func(*localappid.Config) // changes the local provider's configuration, when set
	faLog       *slog.Logger             // the forward-auth endpoints' logger; nil: discarded
	live        *proxy.LiveRoutes        // the routes, reloadable; when set, routes is not used
	auditLog    *slog.Logger             // appid's AuditLogger; nil: no audit records
}

// upstreamApp is the app behind the proxy: it echoes what it received and offers the streaming cases.
func upstreamApp() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "query": r.URL.RawQuery, "headers": r.Header})
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %s", n, hex.EncodeToString(h.Sum(nil)))
	})
	mux.HandleFunc("GET /events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: event %d\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "upgrade required", http.StatusUpgradeRequired)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n')
		fmt.Fprintf(rw, "echo %s", line)
		rw.Flush()
	})
	return mux
}

const defaultRoutes = `routes:
  - path: /noauth_route
    public: true
  - path: /public/
    public: true
  - path: /api/
    api: true
  - path: /admin
    policy: role:admin
`

func newEnv(t testing.TB, opt envOptions) *env {
	t.Helper()
	clock := &testClock{}
	pcfg := localappid.DefaultConfig()
	pcfg.PasswordHashCost = 4
	pcfg.SigningKey = providerKey()
	pcfg.Now = clock.Now
	if opt.provider != nil {
		opt.provider(&pcfg)
	}
	idp, err := localappid.Listen("127.0.0.1:0", pcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Close() })
	app := opt.upstream
	if app == nil {
		app = upstreamApp()
	}
	upstream := httptest.NewServer(app)
	t.Cleanup(upstream.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	if opt.publicURL != "" {
		base = opt.publicURL
	}
	key := make([]byte, 32)
	rand.Read(key)
	var store session.Store
	if opt.redis {
		codec, err := session.NewCodec(key)
		if err != nil {
			t.Fatal(err)
		}
		client := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
		t.Cleanup(func() { client.Close() })
		store = redisstore.NewRedisStore(client, codec, redisstore.RedisOptions{Now: clock.Now})
	}
	auth, err := appid.New(t.Context(), appid.Config{
		ClientID: localappid.DemoClientID, ClientSecret: localappid.DemoClientSecret,
		OAuthServerURL: idp.Provider().OAuthServerURL(), RedirectURL: base + "/afterauth",
		SessionKeys: [][]byte{key}, IBMCloudAPIKey: localappid.DemoAPIKey,
		IAMTokenURL: idp.Provider().IAMTokenURL(), ManagementURL: idp.Provider().ManagementURL(),
		Logger: slog.New(slog.DiscardHandler), Now: clock.Now, Store: store, KeepAccessToken: opt.keepToken,
		AuditLogger: opt.auditLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	text := opt.routes
	if text == "" {
		text = defaultRoutes
	}
	var routes *proxy.Routes
	if opt.live == nil {
		if routes, err = proxy.ParseRoutes("routes.yaml", []byte(text)); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := proxy.DeriveAssertionKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	up, _ := url.Parse(upstream.URL)
	signer, err := proxy.NewAssertionSigner(proxy.AssertionConfig{Issuer: base, Audience: upstream.URL, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxy.New(proxy.Config{Upstream: up, Auth: auth, Routes: routes, LiveRoutes: opt.live, Identity: opt.identity,
		Assertion: signer, TrustedProxies: opt.trusted, Logger: slog.New(slog.DiscardHandler),
		DialTimeout: time.Second, BodyIdleTimeout: opt.bodyIdle})
	if err != nil {
		t.Fatal(err)
	}
	faLog := opt.faLog
	if faLog == nil {
		faLog = slog.New(slog.DiscardHandler)
	}
	fa, err := proxy.NewForwardAuth(proxy.Config{Auth: auth, Routes: routes, LiveRoutes: opt.live, Identity: opt.identity,
		Assertion: signer, TrustedProxies: opt.trusted, ReturnHosts: opt.returnHosts, Logger: faLog})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	auth.Mount(mux)
	fa.Mount(mux)
	mux.Handle("GET "+assertion.JWKSPath, signer.JWKSHandler())
	mux.Handle("/", p)
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return &env{t: t, idp: idp, upstream: upstream, proxy: srv, clock: clock}
}

// client is one browser: a cookie jar, never following redirects by itself.
type client struct {
	t testing.TB
	c *http.Client
}

func (e *env) newClient() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(req *http.Request) answer {
	c.t.Helper()
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html")
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(body)}
}

func (c *client) get(rawURL string, header ...string) answer {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return c.do(req)
}

// login signs username in through the proxy's /auth_route and returns the final answer.
func (c *client) login(e *env, username string) answer {
	c.t.Helper()
	return c.loginFrom(e, e.proxy.URL+"/auth_route", username)
}

// loginFrom signs username in starting at start, following redirects, and returns the final answer.
func (c *client) loginFrom(e *env, start, username string) answer {
	c.t.Helper()
	a := c.get(start)
	cur, err := url.Parse(start)
	if err != nil {
		c.t.Fatal(err)
	}
	for range 6 {
		if a.status != http.StatusFound && a.status != http.StatusSeeOther {
			break
		}
		u, err := cur.Parse(a.header.Get("Location"))
		if err != nil {
			c.t.Fatal(err)
		}
		cur = u
		a = c.get(u.String())
		if a.status == http.StatusOK && strings.Contains(a.body, `name="password"`) {
			req, err := localappidtest.LoginRequest(a.body, u, username, username)
			if err != nil {
				c.t.Fatal(err)
			}
			a = c.do(req)
		}
	}
	return a
}

// dial opens a raw connection to the proxy for requests a client library would not send, closed when the test
// ends, with deadline bounding its reads and writes; host is the proxy's host:port.
func (e *env) dial(t testing.TB, deadline time.Duration) (conn net.Conn, host string) {
	t.Helper()
	u, _ := url.Parse(e.proxy.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(deadline))
	return conn, u.Host
}

// seen decodes the upstream's echo.
func seen(t testing.TB, a answer) (path string, h http.Header) {
	t.Helper()
	var echo struct {
		Path    string      `json:"path"`
		Headers http.Header `json:"headers"`
	}
	if err := json.Unmarshal([]byte(a.body), &echo); err != nil {
		t.Fatalf("the upstream's echo: %v (%d %q)", err, a.status, a.body)
	}
	return echo.Path, echo.Headers
}

func TestProxyAdmitsByRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	alice := e.newClient()
	if got := alice.login(e, "alice"); got.status != http.StatusOK {
		t.Fatalf("alice's login: %d %s", got.status, got.body)
	}
	_, h := seen(t, alice.get(e.proxy.URL+"/auth_route"))
	if h.Get("X-Appidgate-User") != localappid.AliceID || h.Get("X-Appidgate-Email") != "alice@example.com" ||
		h.Get("X-Appidgate-Roles") != "user" || h.Get(assertion.Header) == "" {
		t.Errorf("alice's identity at the upstream: %v", h)
	}
	if got := alice.get(e.proxy.URL + "/admin"); got.status != http.StatusForbidden {
		t.Errorf("alice on /admin: %d, want 403", got.status)
	}
	bob := e.newClient()
	if got := bob.login(e, "bob"); got.status != http.StatusForbidden {
		t.Errorf("bob (no role) on /auth_route: %d, want 403", got.status)
	}
	anon := e.newClient()
	if got := anon.get(e.proxy.URL + "/auth_route"); got.status != http.StatusFound ||
		!strings.HasPrefix(got.header.Get("Location"), e.idp.Provider().OAuthServerURL()) {
		t.Errorf("anonymous browser: %d %q, want 302 to the provider", got.status, got.header.Get("Location"))
	}
	if got := anon.get(e.proxy.URL+"/auth_route", "Accept", "application/json"); got.status != http.StatusUnauthorized {
		t.Errorf("anonymous API call: %d, want 401", got.status)
	}
	if got := anon.get(e.proxy.URL + "/api/data"); got.status != http.StatusUnauthorized ||
		!strings.Contains(got.header.Get("Content-Type"), "json") {
		t.Errorf("anonymous browser on an API route: %d %s, want 401 JSON", got.status, got.header.Get("Content-Type"))
	}
	if got := anon.get(e.proxy.URL + "/noauth_route"); got.status != http.StatusOK {
		t.Errorf("public route: %d, want 200", got.status)
	}
}

// TestProxyPathBypasses: what is not exactly public after cleaning needs a login, whatever the spelling.
func TestProxyPathBypasses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	anon := e.newClient()
	for _, p := range []string{
		"/public/../admin", "/public/%2e%2e/admin", "/public%2f..%2fadmin", "//admin", "/admin;/public",
		"/admin?x=/public/", "/admin#/public/", "/./admin", "/PUBLIC/x", "/noauth_route/../auth_route",
		"/noauth_routeX", "/%2fpublic/x", "/public%2F..%2Fadmin", "/public/%252e%252e/admin",
	} {
		t.Run(p, func(t *testing.T) {
			got := anon.get(e.proxy.URL+p, "Accept", "application/json")
			if got.status == http.StatusOK {
				t.Errorf("GET %s: 200 without a login", p)
			}
		})
	}
	// Dot segments hidden in escapes are resolved by a redirect, so that the upstream sees the path the rule was
	// chosen for; what cannot be read one way only is refused.
	if got := anon.get(e.proxy.URL + "/public/%2e%2e/admin?x=1"); got.status != http.StatusPermanentRedirect ||
		got.header.Get("Location") != "/admin?x=1" {
		t.Errorf("/public/%%2e%%2e/admin: %d %q, want 308 to /admin?x=1", got.status, got.header.Get("Location"))
	}
	for _, p := range []string{"/public%2fx", "/public/..;/admin", "/admin;/public"} {
		if got := anon.get(e.proxy.URL + p); got.status != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", p, got.status)
		}
	}
	for _, p := range []string{"/noauth_route", "/public", "/public/x", "/noauth_route?next=/admin"} {
		if got := anon.get(e.proxy.URL + p); got.status != http.StatusOK {
			t.Errorf("GET %s (public): %d, want 200", p, got.status)
		}
	}
}

// TestProxyStripsSpoofedIdentity: identity headers a client sends never reach the upstream, in any spelling,
// on any route, and a Connection header cannot remove the proxy's own.
func TestProxyStripsSpoofedIdentity(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{identity: proxy.IdentityHeaders{OAuth2Proxy: true}})
	alice := e.newClient()
	if got := alice.login(e, "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	spoof := []string{
		"X-Appidgate-User", "evil", "x-appidgate-roles", "admin", "X_Appidgate_User", "evil",
		"X-Forwarded-User", "evil", "X_Forwarded_User", "evil", "x_forwarded_email", "evil@example.com",
		"X-Forwarded-Groups", "admin", "X-Auth-Request-User", "evil", "X-Appidgate-Assertion", "forged",
		"Authorization", "Bearer forged", "X_Forwarded_For", "6.6.6.6",
		"X-Original-URL", "/evil", "X-Rewrite-URL", "/evil", "X-HTTP-Method-Override", "evil", "X-Real-IP", "6.6.6.6",
		"True-Client-IP", "6.6.6.6",
		"Connection", "X-Appidgate-User, X-Forwarded-User, X-Appidgate-Assertion",
	}
	for _, route := range []string{"/auth_route", "/public/x"} {
		c := alice
		if route == "/public/x" {
			c = e.newClient()
		}
		req, _ := http.NewRequest(http.MethodGet, e.proxy.URL+route, nil)
		for i := 0; i+1 < len(spoof); i += 2 {
			req.Header[spoof[i]] = append(req.Header[spoof[i]], spoof[i+1]) // raw keys, as a client may send
		}
		_, h := seen(t, c.do(req))
		for name, values := range h {
			for _, v := range values {
				if strings.Contains(v, "evil") || v == "forged" || v == "Bearer forged" || v == "admin" ||
					strings.Contains(v, "6.6.6.6") {
					t.Errorf("%s: the upstream got %s: %s", route, name, v)
				}
			}
		}
		if route == "/auth_route" && (h.Get("X-Appidgate-User") != localappid.AliceID ||
			h.Get("X-Forwarded-User") != localappid.AliceID || h.Get(assertion.Header) == "") {
			t.Errorf("the proxy's own headers are missing: %v", h)
		}
		if strings.Contains(h.Get("Cookie"), "appidgate_") {
			t.Errorf("%s: the proxy's cookies reached the upstream: %q", route, h.Get("Cookie"))
		}
	}
}

// TestProxyForwardedHeaders: X-Forwarded-* describe the connection the proxy sees, unless it comes from a
// trusted proxy.
func TestProxyForwardedHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		wantFor string
		proto   string
	}{
		{"untrusted peer", nil, "127.0.0.1", "http"},
		{"trusted peer", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "203.0.113.7, 127.0.0.1", "https"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{trusted: tc.trusted})
			_, h := seen(t, e.newClient().get(e.proxy.URL+"/public/x", "X-Forwarded-For", "203.0.113.7",
				"X-Forwarded-Proto", "https", "X-Forwarded-Host", "app.example.com"))
			if h.Get("X-Forwarded-For") != tc.wantFor || h.Get("X-Forwarded-Proto") != tc.proto {
				t.Errorf("X-Forwarded-For %q, -Proto %q; want %q, %q", h.Get("X-Forwarded-For"),
					h.Get("X-Forwarded-Proto"), tc.wantFor, tc.proto)
			}
		})
	}
}

// TestProxyVerifiableAssertion: the upstream can verify who sent the request with package assertion.
func TestProxyVerifiableAssertion(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got *assertion.Identity
	var verifyErr error
	var verifier *assertion.Verifier
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		got, verifyErr = verifier.Verify(r)
	})
	e := newEnv(t, envOptions{upstream: app})
	v, err := assertion.NewVerifier(assertion.Config{JWKSURL: e.proxy.URL + assertion.JWKSPath,
		Issuer: e.proxy.URL, Audience: e.upstream.URL})
	if err != nil {
		t.Fatal(err)
	}
	verifier = v
	alice := e.newClient()
	alice.login(e, "alice")
	mu.Lock()
	defer mu.Unlock()
	if verifyErr != nil || got == nil || got.Subject != localappid.AliceID || !got.HasRole("user") {
		t.Errorf("the upstream verified %+v, %v; want alice with role user", got, verifyErr)
	}
}

func TestProxyStreams(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{routes: "default: authenticated\nroutes:\n  - path: /\n    public: true\n"})
	c := e.newClient()

	t.Run("a 64 MB upload", func(t *testing.T) {
		const size = 64 << 20
		h := sha256.New()
		body := io.TeeReader(io.LimitReader(zeroReader{}, size), h)
		req, _ := http.NewRequest(http.MethodPost, e.proxy.URL+"/upload", body)
		got := c.do(req)
		if want := fmt.Sprintf("%d %s", size, hex.EncodeToString(h.Sum(nil))); got.status != 200 || got.body != want {
			t.Errorf("upload: %d %q, want %q", got.status, got.body, want)
		}
	})
	t.Run("server-sent events arrive as sent", func(t *testing.T) {
		resp, err := http.Get(e.proxy.URL + "/events")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		start := time.Now()
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || line != "data: event 0\n" {
			t.Fatalf("first event: %q, %v", line, err)
		}
		if took := time.Since(start); took > 250*time.Millisecond {
			t.Errorf("the first event took %s: the proxy buffered the stream", took)
		}
	})
	t.Run("a websocket upgrade", func(t *testing.T) {
		conn, host := e.dial(t, 5*time.Second)
		fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", host)
		r := bufio.NewReader(conn)
		resp, err := http.ReadResponse(r, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade: %v %v", resp, err)
		}
		fmt.Fprintf(conn, "hello\n")
		if line, err := r.ReadString('\n'); err != nil || line != "echo hello\n" {
			t.Errorf("through the upgraded connection: %q, %v", line, err)
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestProxyUpstreamDown: an upstream that is down gives a 502 page (JSON for APIs) at once, and the proxy's own
// routes keep working.
func TestProxyUpstreamDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.upstream.Close()
	c := e.newClient()
	start := time.Now()
	if got := c.get(e.proxy.URL + "/noauth_route"); got.status != http.StatusBadGateway ||
		!strings.Contains(got.body, "<html") {
		t.Errorf("public route, upstream down: %d %q, want a 502 page", got.status, got.body)
	}
	if got := c.get(e.proxy.URL+"/public/x", "Accept", "application/json"); got.status != http.StatusBadGateway ||
		!strings.Contains(got.header.Get("Content-Type"), "json") {
		t.Errorf("API client, upstream down: %d %s, want 502 JSON", got.status, got.header.Get("Content-Type"))
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("502s took %s", took)
	}
	if got := c.get(e.proxy.URL + "/auth_route"); got.status != http.StatusFound {
		t.Errorf("login still starts with the upstream down: %d, want 302", got.status)
	}
}

// TestProxyPassesTheAccessToken: with AccessToken, the upstream gets the user's access token, which the session
// keeps only when appid is told to (KeepAccessToken); it never gets the client's own.
func TestProxyPassesTheAccessToken(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("session keeps it: %v", keep), func(t *testing.T) {
			e := newEnv(t, envOptions{identity: proxy.IdentityHeaders{AccessToken: true}, keepToken: keep})
			alice := e.newClient()
			alice.login(e, "alice")
			_, h := seen(t, alice.get(e.proxy.URL+"/auth_route", "X-Appidgate-Access-Token", "evil"))
			token := h.Get("X-Appidgate-Access-Token")
			if token == "evil" || keep != (strings.Count(token, ".") == 2) {
				t.Errorf("the upstream got X-Appidgate-Access-Token %q", token)
			}
		})
	}
}
