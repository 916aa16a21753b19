package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/appidgate/appidgate/internal/frontproxytest"
	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/localappid/localappidtest"
)

// The replicas test's shape: how many sessions, how long their access tokens live (short, so that they expire
// and are refreshed during the test), and how many clients send requests at once.
const (
	replicaCount     = 3
	replicaSessions  = 30
	replicaTokenTTL  = 2 * time.Second
	replicaWorkers   = 6
	replicaPace      = 20 * time.Millisecond
	replicaStopBound = 10 * time.Second
	// replicaDrain is the replicas' APPIDGATE_SHUTDOWN_DELAY: short, as nginx does not watch /readyz, but not
	// zero, so that every stop goes through the drain a platform's load balancer relies on.
	replicaDrain = 250 * time.Millisecond
)

// testReplicas runs three `appidgate proxy` replicas (the real binary) behind nginx round robin, as
// Code Engine runs instances behind its load balancer, with sessions in Redis and in cookies, and checks what
// users would notice under load: one refresh per session across replicas with Redis, no failed request during a
// rolling restart nor during the two-step key rotation, logout and back-channel logout on every replica, Redis
// paused (503 at once, no hang) and killed and restarted from its append-only file (sessions survive).
func testReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the replicas test runs processes for about 15 s")
	}
	frontproxytest.Look(t, "nginx", "/usr/sbin/nginx")
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed (.ci/run installs it)")
		}
		t.Skip("redis-server is not installed")
	}
	// The two modes share nothing (provider, nginx, replicas and ports are each their own) and mostly wait on
	// token lifetimes and restarts: side by side they take the time of one (see TestRollout).
	bin, err := testkit.Binary(t.TempDir(), "github.com/appidgate/appidgate/cmd/appidgate")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, mode := range []string{"redis", "cookies"} {
		wg.Go(func() {
			t.Run(mode, func(t *testing.T) { runReplicas(t, bin, mode == "redis") })
		})
	}
	wg.Wait()
}

func runReplicas(t *testing.T, bin string, withRedis bool) {
	began := time.Now()
	front := testkit.FreePort(t)
	idp := startCountingProvider(t, fmt.Sprintf("http://127.0.0.1:%d/backchannel_logout", front))
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "upstream ok")
	}))
	t.Cleanup(upstream.Close)

	rs := &replicaSet{t: t, bin: bin, front: fmt.Sprintf("127.0.0.1:%d", front)}
	base := []string{
		"APPID_CLIENT_ID=" + localappid.DemoClientID,
		"APPID_CLIENT_SECRET=" + localappid.DemoClientSecret,
		"APPID_OAUTH_SERVER_URL=" + idp.provider.OAuthServerURL(),
		"APPID_REDIRECT_URI=http://" + rs.front + "/afterauth",
		"IBM_CLOUD_APIKEY=" + localappid.DemoAPIKey,
		"IAM_TOKEN_URL=" + idp.provider.IAMTokenURL(),
		"APPIDGATE_UPSTREAM=" + upstream.URL,
		"APPIDGATE_SHUTDOWN_TIMEOUT=5s",
		"APPIDGATE_SHUTDOWN_DELAY=" + replicaDrain.String(),
		"APPIDGATE_LOG_FORMAT=json",
	}
	var rds *redisProcess
	if withRedis {
		rds = startRedis(t)
		base = append(base, "APPIDGATE_REDIS_URL=redis://"+rds.addr+"/0")
	}
	oldKey, newKey := randomKey(), randomKey()
	rs.base = base
	upstreams := ""
	for i := range replicaCount {
		port := testkit.FreePort(t)
		rs.replicas = append(rs.replicas, &replica{port: port})
		upstreams += fmt.Sprintf("    server 127.0.0.1:%d max_fails=0;\n", port)
		rs.start(i, "SESSION_SECRET_KEY="+oldKey)
	}
	t.Cleanup(func() {
		rs.stopAll()
		if t.Failed() {
			for i, r := range rs.replicas {
				t.Logf("replica %d output (the end):\n%s", i, lastLines(r.logs.String(), 40))
			}
		}
	})
	frontproxytest.Nginx(t, fmt.Sprintf(`  upstream appidgate {
%s  }
  server {
    listen 127.0.0.1:%d;
    location / {
      proxy_pass http://appidgate;
      proxy_set_header Host $http_host;
      proxy_next_upstream error timeout;
    }
  }
`, upstreams, front), front)
	frontURL := "http://" + rs.front

	// Sign in: a few users, many sessions each, as browsers through the front, a few at a time.
	sessions := make([]*userSession, replicaSessions)
	signIns := make(chan struct{}, 6)
	var signedIn sync.WaitGroup
	for i := range sessions {
		user := "alice"
		if i%5 == 0 {
			user = "carol"
		}
		signIns <- struct{}{}
		signedIn.Go(func() {
			defer func() { <-signIns }()
			var err error
			if sessions[i], err = signInThrough(frontURL, user); err != nil {
				t.Error(err)
			}
		})
	}
	if signedIn.Wait(); t.Failed() {
		t.FailNow()
	}
	loggedIn := time.Now()
	totals := &loadFigures{}

	// Refresh storm: every session's access token has expired; each session sends requests at once to every
	// replica. With Redis the replicas take the session's lock: the provider sees one refresh per session.
	time.Sleep(time.Until(loggedIn.Add(replicaTokenTTL + 500*time.Millisecond)))
	before := idp.refreshes.Load()
	storm := &loadFigures{}
	// A few sessions at a time: the front's nginx has 64 connections, two per request in flight.
	for batch := range slices.Chunk(sessions, 4) {
		var wg sync.WaitGroup
		for _, s := range batch {
			for range 2 * replicaCount {
				wg.Go(func() { storm.record(s, s.get(frontURL+"/")) })
			}
		}
		wg.Wait()
	}
	refreshes := idp.refreshes.Load() - before
	t.Logf("refresh storm: %d requests from %d sessions, %d failed, %d refreshes (%.2f per session)",
		storm.requests.Load(), len(sessions), storm.failures.Load(), refreshes, float64(refreshes)/float64(len(sessions)))
	storm.check(t, "refresh storm")
	if withRedis && refreshes != int64(len(sessions)) {
		t.Errorf("refresh storm: the provider saw %d refreshes for %d sessions, want exactly one each", refreshes, len(sessions))
	}
	totals.add(storm)

	// A rolling restart under load: no request fails.
	load := startLoad(frontURL+"/", sessions)
	rs.rollingRestart([]time.Duration{500 * time.Millisecond, 500 * time.Millisecond}, "SESSION_SECRET_KEY="+oldKey)
	figures := load.stop()
	t.Logf("rolling restart: %d requests, %d failed", figures.requests.Load(), figures.failures.Load())
	figures.check(t, "rolling restart")
	totals.add(figures)

	// The two-step key rotation under load: first every replica accepts the new key while sealing with the old
	// one, then every replica seals with the new key and still accepts the old one. Sessions re-sealed by the
	// refreshes in between are opened by every replica: nobody is sent to the login.
	load = startLoad(frontURL+"/", sessions)
	before = idp.refreshes.Load()
	rs.rollingRestart(nil, "SESSION_SECRET_KEY="+oldKey, "APPIDGATE_SESSION_PREVIOUS_KEYS="+newKey)
	// Step 2 with a pause after the first replica, long enough for every access token to expire: sessions are
	// refreshed, so re-sealed, by the replica on the new key while the others still seal with the old one, and
	// each side opens the other's.
	rs.rollingRestart([]time.Duration{replicaTokenTTL + time.Second}, "SESSION_SECRET_KEY="+newKey, "APPIDGATE_SESSION_PREVIOUS_KEYS="+oldKey)
	figures = load.stop()
	resealed := idp.refreshes.Load() - before
	t.Logf("two-step key rotation: %d requests, %d failed, %d refreshes (re-sealed sessions) during it",
		figures.requests.Load(), figures.failures.Load(), resealed)
	if resealed < int64(len(sessions)) {
		t.Errorf("two-step key rotation: only %d refreshes during it, want every session re-sealed at least once", resealed)
	}
	figures.check(t, "two-step key rotation")
	totals.add(figures)

	// Logout through each replica: the browser is logged out on every replica, and with Redis a copy of its
	// cookie taken before the logout opens nothing anywhere either.
	for i, r := range rs.replicas {
		s := sessions[1+i] // alice's sessions, not carol's
		copied := s.cookieHeader(frontURL)
		if p := s.postDirect(r.port, rs.front, "/logout"); p.status != http.StatusFound && p.status != http.StatusSeeOther {
			t.Fatalf("logout through replica %d: %d %s", i, p.status, p.body)
		}
		for j, other := range rs.replicas {
			if p := s.getDirect(other.port, rs.front, "/", ""); p.status == http.StatusOK {
				t.Errorf("after logout through replica %d, replica %d still serves the browser's session", i, j)
			}
			if withRedis {
				if p := s.getDirect(other.port, rs.front, "/", copied); p.status == http.StatusOK {
					t.Errorf("after logout through replica %d, replica %d serves a copy of the logged-out cookie", i, j)
				}
			}
		}
	}

	if withRedis {
		// Back-channel logout: the provider ends carol's sessions; the logout token reaches one replica through
		// the front, and every replica refuses every one of carol's sessions.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := idp.provider.EndUserSessions(ctx, localappid.CarolID)
		cancel()
		if err != nil {
			t.Fatalf("back-channel logout: %v", err)
		}
		for _, s := range sessions[1+replicaCount:] { // not the ones logged out above
			for j, r := range rs.replicas {
				p := s.getDirect(r.port, rs.front, "/", "")
				if got := p.status == http.StatusOK; got == (s.user == "carol") {
					t.Errorf("after carol's back-channel logout, replica %d answers %s's session with %d", j, s.user, p.status)
				}
			}
		}

		// Redis paused: requests that need it fail with 503 within the store's timeout, none hangs, on every
		// replica at once; they succeed again once it continues.
		alice := sessions[len(sessions)-1]
		rds.signal(t, syscall.SIGSTOP)
		var asked sync.WaitGroup
		for j, r := range rs.replicas {
			asked.Go(func() {
				start := time.Now()
				p := alice.getDirect(r.port, rs.front, "/", "")
				if took := time.Since(start); p.status != http.StatusServiceUnavailable || took > 5*time.Second {
					t.Errorf("with Redis paused, replica %d answered %d after %v, want 503 within 5s", j, p.status, took.Round(time.Millisecond))
				}
			})
		}
		asked.Wait()
		rds.signal(t, syscall.SIGCONT)
		waitFor(t, "a session served again after Redis continued", func() bool {
			return alice.get(frontURL+"/").status == http.StatusOK
		})

		// Redis killed and restarted from its append-only file: the sessions survive.
		rds.kill(t)
		rds.start(t)
		for i, s := range sessions[1+replicaCount:] {
			if s.user == "alice" {
				waitFor(t, fmt.Sprintf("alice's session %d served after Redis restarted", i), func() bool {
					return s.get(frontURL+"/").status == http.StatusOK
				})
			}
		}
	}

	// The control: a one-step rotation (a new sealing key on one replica while the others do not know it) does
	// log users out, so the figures above would show it if the two steps did not prevent it.
	load = startLoad(frontURL+"/", sessions[1+replicaCount:])
	rs.stop(0)
	rs.start(0, "SESSION_SECRET_KEY="+randomKey(), "APPIDGATE_SESSION_PREVIOUS_KEYS="+newKey)
	// Users are logged out once their access tokens expire and replica 0 re-seals their sessions: wait for the
	// first failure, or long enough that every token has expired.
	for deadline := time.Now().Add(replicaTokenTTL + 2*time.Second); load.figures.failures.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	control := load.stop()
	t.Logf("one-step key rotation (control): %d requests, %d failed, %d of %d sessions sent to the login",
		control.requests.Load(), control.failures.Load(), len(control.failed), len(sessions)-1-replicaCount)
	if control.failures.Load() == 0 {
		t.Errorf("one-step key rotation: no request failed; the rotation phase above cannot tell one step from two")
	}
	t.Logf("replicas (%s): %d requests, %d failed, %d refreshes for %d sessions in total, in %v",
		map[bool]string{true: "redis", false: "cookies"}[withRedis], totals.requests.Load(), totals.failures.Load(),
		idp.refreshes.Load(), len(sessions), time.Since(began).Round(100*time.Millisecond))
}

// countingProvider is localappid on its own loopback origin with short-lived access tokens, counting the
// refresh-token grants it answers; it sends back-channel logout tokens to backchannel.
type countingProvider struct {
	provider  *localappid.Provider
	refreshes atomic.Int64
}

func startCountingProvider(t *testing.T, backchannel string) *countingProvider {
	t.Helper()
	c := &countingProvider{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if form, _ := url.ParseQuery(string(body)); form.Get("grant_type") == "refresh_token" {
				c.refreshes.Add(1)
			}
			r.Body = io.NopCloser(strings.NewReader(string(body)))
		}
		c.provider.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := localappid.DefaultConfig()
	cfg.BaseURL = srv.URL
	cfg.AccessTokenTTL = replicaTokenTTL
	cfg.Clients[0].BackchannelLogoutURI = backchannel
	var err error
	if c.provider, err = localappid.New(cfg); err != nil {
		t.Fatal(err)
	}
	return c
}

// replica is one `appidgate proxy` process on its own port.
type replica struct {
	port   int
	cmd    *exec.Cmd
	exited chan error
	logs   *testkit.Buffer
}

// replicaSet is the replicas behind the front, started with base plus each start's own settings.
type replicaSet struct {
	t        *testing.T
	bin      string // the appidgate binary
	front    string // host:port of nginx, the public origin
	base     []string
	replicas []*replica
}

// start runs replica i with extra settings and waits until it is ready.
func (rs *replicaSet) start(i int, extra ...string) {
	t := rs.t
	t.Helper()
	r := rs.replicas[i]
	r.cmd = exec.Command(rs.bin, "proxy")
	r.cmd.Env = append(append(testkit.CleanEnv(os.Environ()), rs.base...), extra...)
	r.cmd.Env = append(r.cmd.Env, fmt.Sprintf("APPIDGATE_LISTEN_ADDR=127.0.0.1:%d", r.port))
	r.logs = &testkit.Buffer{}
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting replica %d: %v", i, err)
	}
	r.exited = make(chan error, 1)
	go func() { r.exited <- r.cmd.Wait() }()
	ready := fmt.Sprintf("http://127.0.0.1:%d/readyz", r.port)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case err := <-r.exited:
			r.cmd = nil
			t.Fatalf("replica %d exited before it was ready: %v\n%s", i, err, r.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %d not ready within 15s:\n%s", i, r.logs.String())
		}
	}
}

// stop sends replica i SIGTERM and waits for it to exit 0.
func (rs *replicaSet) stop(i int) {
	r := rs.replicas[i]
	if r.cmd == nil {
		return
	}
	if err := testkit.Terminate(r.cmd, r.exited, replicaStopBound); err != nil {
		rs.t.Errorf("replica %d: %v\n%s", i, err, r.logs.String())
	}
	r.cmd = nil
}

// stopAll stops every replica at once, as a platform deleting the application does.
func (rs *replicaSet) stopAll() {
	var wg sync.WaitGroup
	for i := range rs.replicas {
		wg.Go(func() { rs.stop(i) })
	}
	wg.Wait()
}

// rollingRestart replaces the replicas one at a time with ones started with extra, each ready before the next
// one stops, as a platform's rolling update does; after replica i is ready it waits pauses[i], when given.
func (rs *replicaSet) rollingRestart(pauses []time.Duration, extra ...string) {
	for i := range rs.replicas {
		rs.stop(i)
		rs.start(i, extra...)
		if i < len(pauses) {
			time.Sleep(pauses[i])
		}
	}
}

// userSession is one signed-in browser: its cookie jar, shared by the requests it sends at once.
type userSession struct {
	user   string
	jar    *cookiejar.Jar
	client *http.Client // does not follow redirects: a redirect to the login is a failure
}

// replicaTransport is shared by every session: kept-alive connections to the front, as browsers keep them.
var replicaTransport = &http.Transport{MaxIdleConnsPerHost: 64}

// signInThrough logs user in through the front, following redirects like a browser, and returns the session.
func signInThrough(frontURL, user string) (*userSession, error) {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := browser.Get(frontURL + "/")
	if err != nil {
		return nil, fmt.Errorf("%s opening %s: %v", user, frontURL, err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	req, err := localappidtest.LoginRequest(string(page), resp.Request.URL, user, user)
	if err != nil {
		return nil, fmt.Errorf("%s's login page (%d at %s): %v", user, resp.StatusCode, resp.Request.URL, err)
	}
	if resp, err = browser.Do(req); err != nil {
		return nil, fmt.Errorf("%s signing in: %v", user, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "upstream ok" {
		return nil, fmt.Errorf("%s signing in: %d at %s: %s", user, resp.StatusCode, resp.Request.URL, body)
	}
	return &userSession{user: user, jar: jar, client: &http.Client{
		Jar: jar, Timeout: 15 * time.Second, Transport: replicaTransport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// answer is what one request got.
type answer struct {
	status int
	body   string
	err    error
}

func (s *userSession) do(req *http.Request) answer {
	resp, err := s.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if loc := resp.Header.Get("Location"); loc != "" {
		body = append(body, " (Location: "+loc+")"...)
	}
	return answer{status: resp.StatusCode, body: string(body)}
}

// get sends a GET with the session's cookies through the front.
func (s *userSession) get(u string) answer {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return s.do(req)
}

// cookieHeader is the Cookie header the browser would send to frontURL now.
func (s *userSession) cookieHeader(frontURL string) string {
	u, _ := url.Parse(frontURL)
	var parts []string
	for _, c := range s.jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// getDirect sends a GET for path straight to the replica on port, as the front would (Host is the front's), with
// the browser's cookies, or with cookie when it is set.
func (s *userSession) getDirect(port int, front, path, cookie string) answer {
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), nil)
	req.Host = front
	if cookie == "" {
		cookie = s.cookieHeader("http://" + front)
	}
	req.Header.Set("Cookie", cookie)
	client := &http.Client{Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return answer{status: resp.StatusCode, body: string(body)}
}

// postDirect posts the logout form straight to the replica on port, as a same-origin page of the front would,
// and keeps the cookies it clears.
func (s *userSession) postDirect(port int, front, path string) answer {
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d%s", port, path), strings.NewReader(""))
	req.Host = front
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+front)
	req.Header.Set("Cookie", s.cookieHeader("http://"+front))
	resp, err := (&http.Client{Timeout: 15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	frontURL, _ := url.Parse("http://" + front)
	s.jar.SetCookies(frontURL, resp.Cookies())
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return answer{status: resp.StatusCode, body: string(body)}
}

// loadFigures counts requests and failures, the sessions that met a failure, and keeps the first failures to
// show.
type loadFigures struct {
	requests, failures atomic.Int64
	mu                 sync.Mutex
	firsts             []string
	failed             map[*userSession]bool
}

// record counts s's answer a; anything but the upstream's 200 is a failure (a redirect means the user was
// logged out).
func (f *loadFigures) record(s *userSession, a answer) {
	f.requests.Add(1)
	if a.err == nil && a.status == http.StatusOK && a.body == "upstream ok" {
		return
	}
	f.failures.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failed == nil {
		f.failed = map[*userSession]bool{}
	}
	f.failed[s] = true
	if len(f.firsts) < 5 {
		f.firsts = append(f.firsts, fmt.Sprintf("%d %v %.200s", a.status, a.err, a.body))
	}
}

func (f *loadFigures) check(t *testing.T, phase string) {
	t.Helper()
	if f.requests.Load() == 0 {
		t.Errorf("%s: no request was sent; the phase proves nothing", phase)
	}
	if n := f.failures.Load(); n > 0 {
		t.Errorf("%s: %d of %d requests failed; the first: %s", phase, n, f.requests.Load(), strings.Join(f.firsts, " | "))
	}
}

func (f *loadFigures) add(o *loadFigures) {
	f.requests.Add(o.requests.Load())
	f.failures.Add(o.failures.Load())
}

// loadRun is a bounded load: replicaWorkers clients sending requests of the sessions in turn until stopped, each
// waiting replicaPace between its requests: a steady stream through every restart (about 300 requests a
// second) that leaves the machine's processors to the replicas and the other tests.
type loadRun struct {
	figures *loadFigures
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func startLoad(u string, sessions []*userSession) *loadRun {
	ctx, cancel := context.WithCancel(context.Background())
	l := &loadRun{figures: &loadFigures{}, cancel: cancel}
	for w := range replicaWorkers {
		l.wg.Go(func() {
			for i := w; ctx.Err() == nil; i += replicaWorkers {
				s := sessions[i%len(sessions)]
				l.figures.record(s, s.get(u))
				select {
				case <-ctx.Done():
				case <-time.After(replicaPace):
				}
			}
		})
	}
	return l
}

func (l *loadRun) stop() *loadFigures {
	l.cancel()
	l.wg.Wait()
	return l.figures
}

// redisProcess is a redis-server with an append-only file (every write synced), so that it can be killed and
// restarted on the same port with its data.
type redisProcess struct {
	addr, dir string
	cmd       *exec.Cmd
	exited    chan error
	logs      *testkit.Buffer
}

func startRedis(t *testing.T) *redisProcess {
	t.Helper()
	r := &redisProcess{addr: fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t)), dir: t.TempDir()}
	r.start(t)
	t.Cleanup(func() {
		if r.cmd != nil {
			r.cmd.Process.Signal(syscall.SIGCONT)
			r.kill(t)
		}
	})
	return r
}

func (r *redisProcess) start(t *testing.T) {
	t.Helper()
	_, port, _ := strings.Cut(r.addr, ":")
	r.cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", port, "--dir", r.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "yes")
	r.logs = &testkit.Buffer{}
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	r.exited = make(chan error, 1)
	go func(cmd *exec.Cmd, exited chan error) { exited <- cmd.Wait() }(r.cmd, r.exited)
	c := redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: -1})
	defer c.Close()
	waitFor(t, "redis-server answering on "+r.addr, func() bool { return c.Ping(context.Background()).Err() == nil })
}

func (r *redisProcess) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("redis-server: %v: %v", sig, err)
	}
}

func (r *redisProcess) kill(t *testing.T) {
	t.Helper()
	r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10s", what)
		}
	}
}

// randomKey is a session key made for one test.
func randomKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}
