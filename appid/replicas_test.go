package appid

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/appid/session/redisstore"
	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// replicaSet is one provider and several instances of one app behind a round-robin front, as Code Engine runs
// them behind its load balancer: each instance has its own Auth and memory, and they share only the settings
// (and, in Redis mode, a Redis).
type replicaSet struct {
	front     *testEnv // the front as the app users see: its app URL is the load balancer
	instances []*httptest.Server
	auths     []*Auth
	refreshes atomic.Int64 // refresh-token grants sent to the provider by any instance
}

// replicaOptions configures newReplicaSet.
type replicaOptions struct {
	// store returns instance i's session store; nil keeps sessions in cookies.
	store    func(t *testing.T, codec *session.Codec, secure bool) session.Store
	auth     func(*Config)
	provider func(*localappid.Config) // changes the provider's config when set
}

// refreshCounter counts the refresh-token grants that pass through it.
type refreshCounter struct{ refreshes *atomic.Int64 }

func (c refreshCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/token") && req.Body != nil {
		body, _ := io.ReadAll(req.Body)
		req.Body.Close()
		if form, _ := url.ParseQuery(string(body)); form.Get("grant_type") == "refresh_token" {
			c.refreshes.Add(1)
		}
		req.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	return http.DefaultTransport.RoundTrip(req)
}

// newReplicaSet starts the provider, n instances and the front. Each instance answers with an X-Instance header
// naming it; /auth_route is the reference's Check.
func newReplicaSet(t *testing.T, n int, opt replicaOptions) *replicaSet {
	t.Helper()
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	idp := startTestProvider(t, clock, opt.provider)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	frontURL := "http://" + ln.Addr().String()
	key := make([]byte, 32)
	rand.Read(key)
	rs := &replicaSet{}
	var backends []*url.URL
	for i := range n {
		cfg := testAppConfig(idp, frontURL, key, clock)
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second, Transport: refreshCounter{&rs.refreshes}}
		if opt.store != nil {
			codec, err := session.NewCodec(key)
			if err != nil {
				t.Fatal(err)
			}
			cfg.Store = opt.store(t, codec, false)
		}
		if opt.auth != nil {
			opt.auth(&cfg)
		}
		auth, err := New(t.Context(), cfg)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		mux := http.NewServeMux()
		auth.Mount(mux)
		mux.Handle("GET /auth_route", auth.Check(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, protectedText)
		})))
		name := fmt.Sprint(i)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Instance", name)
			mux.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		u, _ := url.Parse(srv.URL)
		backends = append(backends, u)
		rs.instances = append(rs.instances, srv)
		rs.auths = append(rs.auths, auth)
	}
	var next atomic.Int64
	front := httptest.NewUnstartedServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(backends[int(next.Add(1)-1)%len(backends)])
		pr.Out.Host = pr.In.Host // the instances see the public host, as behind Code Engine's load balancer
	}})
	front.Listener.Close()
	front.Listener = ln
	front.Start()
	t.Cleanup(front.Close)
	rs.front = &testEnv{idp: idp, app: front, auth: rs.auths[0], clock: clock, observer: &recordingObserver{}}
	return rs
}

// on sends a copy of req with the browser's cookies for the front to instance i directly.
func (rs *replicaSet) on(b *browser, i int, method, path string) *response {
	b.t.Helper()
	req, _ := http.NewRequest(method, rs.instances[i].URL+path, nil)
	front, _ := url.Parse(rs.front.app.URL)
	req.Host = front.Host
	for _, c := range b.client.Jar.Cookies(front) {
		req.AddCookie(c)
	}
	if method == http.MethodPost {
		req.Header.Set("Origin", rs.front.app.URL)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}).Do(req)
	if err != nil {
		b.t.Fatalf("%s %s on instance %d: %v", method, path, i, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &response{status: resp.StatusCode, header: resp.Header, body: string(body),
		location: resp.Header.Get("Location"), url: req.URL}
}

// copyOf returns a browser holding the same cookies for the front as b: an attacker's copy of b's session.
func (rs *replicaSet) copyOf(t *testing.T, b *browser) *browser {
	front, _ := url.Parse(rs.front.app.URL)
	thief := rs.front.newBrowser(t)
	thief.client.Jar.SetCookies(front, b.client.Jar.Cookies(front))
	return thief
}

// statuses returns what /auth_route answers the browser on each instance.
func (rs *replicaSet) statuses(b *browser) []int {
	var got []int
	for i := range rs.instances {
		got = append(got, rs.on(b, i, http.MethodGet, "/auth_route").status)
	}
	return got
}

func allEqual(got []int, want int) bool {
	for _, s := range got {
		if s != want {
			return false
		}
	}
	return true
}

// redisStores returns a store factory for one Redis shared by every instance (each with its own client, as
// separate processes have): a real redis-server when it is on PATH, else miniredis.
func redisStores(t *testing.T) func(t *testing.T, codec *session.Codec, secure bool) session.Store {
	t.Helper()
	addr := ""
	if _, err := exec.LookPath("redis-server"); err == nil {
		addr = startRedis(t)
	} else {
		t.Log("redis-server is not on PATH: using miniredis")
		addr = miniredis.RunT(t).Addr()
	}
	return func(t *testing.T, codec *session.Codec, secure bool) session.Store {
		client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
		t.Cleanup(func() { client.Close() })
		return redisstore.NewRedisStore(client, codec, redisstore.RedisOptions{Secure: secure})
	}
}

// startRedis runs a throwaway redis-server on a free loopback port until the test ends.
func startRedis(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--save", "",
		"--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); c.Ping(t.Context()).Err() != nil; {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer within 10s", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return addr
}

// TestReplicasCookieSessions: a session made on one instance works on every instance; after a logout on one,
// a copy of the old cookie is refused there at once, and on the others once the revalidation window passed.
func TestReplicasCookieSessions(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t, 3, replicaOptions{})
	alice := rs.front.newBrowser(t)
	if got := alice.login(rs.front, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login through the front: %d %s", got.status, got.body)
	}
	if got := rs.statuses(alice); !allEqual(got, http.StatusOK) {
		t.Fatalf("the session on each instance: %v, want 200 on all", got)
	}
	thief := rs.copyOf(t, alice)
	if got := rs.on(alice, 0, http.MethodPost, "/logout"); got.status != http.StatusSeeOther {
		t.Fatalf("logout on instance 0: %d %s", got.status, got.body)
	}
	if got := rs.on(thief, 0, http.MethodGet, "/auth_route"); got.status != http.StatusFound {
		t.Errorf("the copied cookie on the instance that logged out: %d, want 302 to login at once", got.status)
	}
	// Within the window the other instances cannot know (the documented limit of cookie mode); once it passed,
	// they revalidate the session with the provider, which revoked its refresh token at the logout. The window
	// is well within the access token's lifetime, so that the expiry is not what ends the copy.
	window := rs.auths[1].cfg.RevalidateInterval
	if window <= 0 || window >= localappid.DefaultAccessTokenTTL/2 {
		t.Fatalf("revalidation interval %s, want one well within the access token's %s", window,
			localappid.DefaultAccessTokenTTL)
	}
	rs.front.clock.Advance(window)
	if got := rs.statuses(thief); !allEqual(got, http.StatusFound) {
		t.Errorf("the copied cookie %s after the logout: %v, want 302 on every instance", window, got)
	}
}

// TestReplicasRedisSessions: with Redis, a logout on one instance ends the session on all of them at once.
func TestReplicasRedisSessions(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t, 3, replicaOptions{store: redisStores(t)})
	alice := rs.front.newBrowser(t)
	if got := alice.login(rs.front, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login through the front: %d %s", got.status, got.body)
	}
	if got := rs.statuses(alice); !allEqual(got, http.StatusOK) {
		t.Fatalf("the session on each instance: %v, want 200 on all", got)
	}
	thief := rs.copyOf(t, alice)
	if got := rs.on(alice, 1, http.MethodPost, "/logout"); got.status != http.StatusSeeOther {
		t.Fatalf("logout on instance 1: %d %s", got.status, got.body)
	}
	if got := rs.statuses(thief); !allEqual(got, http.StatusFound) {
		t.Errorf("the copied cookie right after the logout: %v, want 302 on every instance", got)
	}
}

// parallelAfterExpiry sends n requests of b's session at once through the front, after its access token
// expired, and returns their statuses; b keeps the renewed cookies.
func (rs *replicaSet) parallelAfterExpiry(t *testing.T, b *browser, n int) []int {
	rs.front.clock.Advance(localappid.DefaultAccessTokenTTL + time.Second)
	front, _ := url.Parse(rs.front.app.URL)
	cookies := b.client.Jar.Cookies(front)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, rs.front.app.URL+"/auth_route", nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			req.Header.Set("Accept", "text/html")
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
			mu.Lock()
			b.client.Jar.SetCookies(front, resp.Cookies())
			mu.Unlock()
		})
	}
	wg.Wait()
	return statuses
}

// TestReplicasRefreshOnceWithRedis: 20 requests of one user whose access token expired, spread over three
// instances sharing Redis, make exactly one refresh call; every one is served and the user stays signed in.
func TestReplicasRefreshOnceWithRedis(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t, 3, replicaOptions{store: redisStores(t)})
	alice := rs.front.newBrowser(t)
	if got := alice.login(rs.front, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login through the front: %d %s", got.status, got.body)
	}
	if got := rs.parallelAfterExpiry(t, alice, 20); !allEqual(got, http.StatusOK) {
		t.Errorf("20 parallel requests after expiry: %v, want 200 for all", got)
	}
	if got := rs.refreshes.Load(); got != 1 {
		t.Errorf("the provider saw %d refresh calls, want exactly 1", got)
	}
	if got := rs.statuses(alice); !allEqual(got, http.StatusOK) {
		t.Errorf("after the refresh: %v, want 200 on every instance", got)
	}
}

// TestReplicasRefreshInCookieMode: the same 20 requests in cookie mode, where replicas share nothing: each
// replica redeems the refresh token at most once, the provider's reuse grace (localappid's
// RefreshTokenReuseGrace, as Okta's and Auth0's) answers the others alike, and the user is not signed out.
func TestReplicasRefreshInCookieMode(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t, 3, replicaOptions{})
	alice := rs.front.newBrowser(t)
	if got := alice.login(rs.front, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login through the front: %d %s", got.status, got.body)
	}
	if got := rs.parallelAfterExpiry(t, alice, 20); !allEqual(got, http.StatusOK) {
		t.Errorf("20 parallel requests after expiry: %v, want 200 for all", got)
	}
	if got := rs.refreshes.Load(); got < 1 || got > 3 {
		t.Errorf("the provider saw %d refresh calls, want one per replica at most", got)
	}
	if got := rs.statuses(alice); !allEqual(got, http.StatusOK) {
		t.Errorf("after the refresh: %v, want 200 on every instance", got)
	}
	// The renewed session refreshes again at its next expiry: the provider did not revoke the family.
	if got := rs.parallelAfterExpiry(t, alice, 3); !allEqual(got, http.StatusOK) {
		t.Errorf("at the next expiry: %v, want 200 for all", got)
	}
}

// TestARevokedSessionAsksTheProviderOnce: once the provider refused a session's refresh token, the replica ends
// the session: a copy of a logged-out cookie cannot make every one of its requests call the provider.
func TestARevokedSessionAsksTheProviderOnce(t *testing.T) {
	t.Parallel()
	rs := newReplicaSet(t, 2, replicaOptions{})
	alice := rs.front.newBrowser(t)
	if got := alice.login(rs.front, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	thief := rs.copyOf(t, alice)
	if got := rs.on(alice, 0, http.MethodPost, "/logout"); got.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", got.status)
	}
	rs.front.clock.Advance(rs.auths[1].cfg.RevalidateInterval)
	before := rs.refreshes.Load()
	for range 20 {
		if got := rs.on(thief, 1, http.MethodGet, "/auth_route"); got.status != http.StatusFound {
			t.Fatalf("thief: %d", got.status)
		}
	}
	if n := rs.refreshes.Load() - before; n > 1 {
		t.Fatalf("20 requests of one revoked session sent %d refresh grants to the provider, want at most 1", n)
	}
}

// cancelAfterRefresh cancels the leader request's context once the provider answered its refresh grant, as when
// the user closes the tab while the refresh runs.
type cancelAfterRefresh struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	grants int
}

func (c *cancelAfterRefresh) RoundTrip(req *http.Request) (*http.Response, error) {
	isRefresh := false
	if strings.HasSuffix(req.URL.Path, "/token") && req.Body != nil {
		body, _ := io.ReadAll(req.Body)
		f, _ := url.ParseQuery(string(body))
		isRefresh = f.Get("grant_type") == "refresh_token"
		req.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if isRefresh {
		c.mu.Lock()
		c.grants++
		if c.cancel != nil {
			c.cancel()
			c.cancel = nil
		}
		c.mu.Unlock()
	}
	return resp, err
}

// TestRedisRefreshSurvivesItsRequest: the request that refreshed a Redis session went away (a closed tab) while the
// refresh ran: what the provider issued still reaches Redis, and the user stays signed in with a provider that
// rotates refresh tokens strictly.
func TestRedisRefreshSurvivesItsRequest(t *testing.T) {
	t.Parallel()
	stores := redisStores(t)
	tr := &cancelAfterRefresh{}
	e := newTestEnv(t, envOption{
		provider: func(c *localappid.Config) { c.RefreshTokenReuseGrace = 0 }, // strict rotation
		auth: func(c *Config) {
			codec, _ := session.NewCodec(c.SessionKeys...)
			c.Store = stores(t, codec, false)
			c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: tr}
		},
	})
	b := e.newBrowser(t)
	if got := b.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	e.clock.Advance(localappid.DefaultAccessTokenTTL + time.Minute)
	u0, _ := url.Parse(e.app.URL)
	req := httptest.NewRequest(http.MethodGet, "/auth_route", nil)
	for _, c := range b.client.Jar.Cookies(u0) {
		req.AddCookie(c)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tr.mu.Lock()
	tr.cancel = cancel
	tr.mu.Unlock()
	_, err := e.auth.Authorize(httptest.NewRecorder(), req.WithContext(ctx), Authenticated())
	t.Logf("leader (cancelled mid-refresh): err=%v", err)
	// Past this replica's refresh grace (or on another replica): the next request of the same browser.
	e.clock.Advance(2 * time.Minute)
	got := b.get(e.app.URL + "/auth_route")
	t.Logf("refresh grants: %d", tr.grants)
	if got.status != http.StatusOK {
		t.Fatalf("after a refresh whose request was cancelled, the user is signed out: %d", got.status)
	}
}
