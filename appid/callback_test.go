package appid

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/localappid"
)

// tokenResponseTransport rewrites successful token endpoint responses with edit.
type tokenResponseTransport struct {
	edit func(body []byte) []byte
}

func (tt *tokenResponseTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/token") || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body = tt.edit(body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// replayingTransport answers a code it has seen before with the tokens of its first redemption, as a provider
// that does not enforce one-time codes would: only the app itself can then refuse a replayed callback.
type replayingTransport struct {
	mu   sync.Mutex
	seen map[string][]byte // code -> token response
}

func (rt *replayingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, "/token") {
		return http.DefaultTransport.RoundTrip(req)
	}
	form, _ := io.ReadAll(req.Body)
	req.Body.Close()
	values, _ := url.ParseQuery(string(form))
	code := values.Get("code")
	rt.mu.Lock()
	cached, ok := rt.seen[code]
	rt.mu.Unlock()
	if ok {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(bytes.NewReader(cached)), ContentLength: int64(len(cached)), Request: req}, nil
	}
	req.Body = io.NopCloser(bytes.NewReader(form))
	req.ContentLength = int64(len(form))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rt.mu.Lock()
	if rt.seen == nil {
		rt.seen = map[string][]byte{}
	}
	rt.seen[code] = body
	rt.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func TestAppRefusesAReplayedStateItself(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: &replayingTransport{}}
	}})
	b := e.newBrowser(t)
	start := b.get(e.app.URL + "/auth_route")
	loginCookies := b.client.Jar.Cookies(start.url)
	cb := b.authorize(start, "alice")
	if first := b.follow(cb); first.status != http.StatusFound {
		t.Fatalf("first callback: got %d: %s", first.status, first.body)
	}
	thief := e.newBrowser(t)
	thief.client.Jar.SetCookies(start.url, loginCookies)
	if again := thief.follow(cb); again.status != http.StatusBadRequest ||
		!strings.Contains(again.body, "already used") {
		t.Errorf("replayed callback with a copied login cookie: got %d %q, want 400 already used", again.status,
			again.body)
	}
	assertNoSession(t, e, thief)
}

func TestAccessTokenAtTheCallbackMustNotBeAnIDToken(t *testing.T) {
	t.Parallel()
	swap := &tokenResponseTransport{edit: func(body []byte) []byte {
		var tok map[string]any
		json.Unmarshal(body, &tok)
		tok["access_token"] = tok["id_token"]
		out, _ := json.Marshal(tok)
		return out
	}}
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: swap}
	}})
	b := e.newBrowser(t)
	assertTokensRefused(t, e, b)
}

func TestTokenTimesAtTheCallback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		providerOffset time.Duration // the provider's clock minus the app's
	}{
		{"expired tokens", -(DefaultClockSkew + time.Hour + time.Minute)}, // the provider's tokens live 1 h
		{"tokens issued in the future", DefaultClockSkew + 5*time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, envOption{provider: func(c *localappid.Config) {
				now := c.Now
				c.Now = func() time.Time { return now().Add(tc.providerOffset) }
			}})
			b := e.newBrowser(t)
			assertTokensRefused(t, e, b)
		})
	}
}

func TestProviderErrorIsShownOnlyToItsLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		state         func(own string) string
		otherBrowser  bool // the answer arrives in another browser, holding a copy of the login cookie if copyCookie
		copyCookie    bool
		sendTwice     bool
		wantReflected bool
	}{
		{"the state of this browser's login", func(own string) string { return own }, false, false, false, true},
		{"the same answer again", func(own string) string { return own }, false, false, true, false},
		{"the same answer again with a copy of the login cookie", func(own string) string { return own }, true,
			true, true, false},
		{"no state", func(string) string { return "" }, false, false, false, false},
		{"a forged state", func(string) string { return "forged-state-0123456789" }, false, false, false, false},
		{"another browser", func(own string) string { return own }, true, false, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t, envOption{})
			b := e.newBrowser(t)
			start := b.get(e.app.URL + "/auth_route")
			loginCookies := b.client.Jar.Cookies(start.url)
			cb := b.authorize(start, "alice")
			callback, _ := cb.url.Parse(cb.location)
			q := url.Values{"error": {"access_denied"}, "error_description": {"<script>Call 555-0100"}}
			if s := tc.state(callback.Query().Get("state")); s != "" {
				q.Set("state", s)
			}
			target := e.app.URL + "/afterauth?" + q.Encode()
			if tc.sendTwice {
				b.get(target)
			}
			if tc.otherBrowser {
				b = e.newBrowser(t)
				if tc.copyCookie {
					b.client.Jar.SetCookies(start.url, loginCookies)
				}
			}
			got := b.get(target)
			if got.status != http.StatusForbidden || !strings.Contains(got.body, "Login failed") {
				t.Errorf("got %d %q, want 403 Login failed", got.status, got.body)
			}
			if reflected := strings.Contains(got.body, "Call 555-0100"); reflected != tc.wantReflected {
				t.Errorf("provider text shown: %v, want %v: %s", reflected, tc.wantReflected, got.body)
			}
			if strings.Contains(got.body, "<script>") {
				t.Error("the error page reflects markup unescaped")
			}
		})
	}
}

// renewRecorder is a session.Store that records the Renew option of every Save.
type renewRecorder struct {
	session.Store
	mu     sync.Mutex
	renews []bool
}

func (s *renewRecorder) Save(w http.ResponseWriter, r *http.Request, data []byte, opts session.SaveOptions) error {
	s.mu.Lock()
	s.renews = append(s.renews, opts.Renew)
	s.mu.Unlock()
	return s.Store.Save(w, r, data, opts)
}

func TestLoginStartsANewSession(t *testing.T) {
	t.Parallel()
	rec := &renewRecorder{}
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		codec, err := session.NewCodec(c.SessionKeys...)
		if err != nil {
			t.Fatal(err)
		}
		rec.Store = session.NewCookieStore(codec, session.CookieOptions{Now: c.Now})
		c.Store = rec
	}})
	if got := e.newBrowser(t).login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("login: %d", got.status)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.renews) != 1 || !rec.renews[0] {
		t.Errorf("login saved sessions with Renew %v, want [true] (a new session, against fixation)", rec.renews)
	}
}

func TestOnUserSeesDeniedSessionUsers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		c.OnUser = func(r *http.Request, u *User) {
			mu.Lock()
			seen = append(seen, u.Email)
			mu.Unlock()
		}
	}})
	b := e.newBrowser(t)
	start := b.get(e.app.URL + "/auth_route")
	if got := b.follow(b.follow(b.authorize(start, "bob"))); got.status != http.StatusForbidden {
		t.Fatalf("bob: got %d, want 403", got.status)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || !strings.Contains(seen[0], "bob") {
		t.Errorf("OnUser saw %q, want bob once", seen)
	}
}
