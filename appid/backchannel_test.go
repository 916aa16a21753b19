package appid

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/go-jose/go-jose/v4"
	"github.com/redis/go-redis/v9"

	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/appid/session/redisstore"
	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// logoutClaims are the claims of a valid logout token of f for fakeClientID issued at now, naming provider
// session sid of user user-1.
func logoutClaims(f *fakeIssuer, now time.Time, sid string) map[string]any {
	return map[string]any{"iss": f.issuer, "aud": fakeClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti": rand.Text(), "sid": sid, "sub": "user-1",
		"events": map[string]any{backchannelLogoutEvent: map[string]any{}}}
}

// signLogout returns claims as a JWS signed with key under kid with alg, and typ in the header unless empty.
func signLogout(t *testing.T, claims map[string]any, alg jose.SignatureAlgorithm, key any, kid, typ string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

// unsigned returns claims as a JWT with alg "none", which go-jose refuses to produce: the header and payload
// are its own JSON, base64url-encoded, and the signature is empty.
func unsigned(claims map[string]any) string {
	header, _ := json.Marshal(map[string]string{"alg": "none", "typ": "logout+jwt"})
	payload, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

// postLogoutToken posts form (logout_token=token unless form is given) to a's back-channel logout endpoint, as
// the provider does: no cookie, and here from another site's origin, which must not matter.
func postLogoutToken(a *Auth, form url.Values) *httptest.ResponseRecorder {
	mux := http.NewServeMux()
	a.Mount(mux)
	req := httptest.NewRequest(http.MethodPost, DefaultBackchannelLogoutPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://provider.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	return rec
}

// TestBackchannelLogoutTokenVerification: each rule of Back-Channel Logout 1.0 §2.6 broken alone gets 400
// {"error":"invalid_request"}; a valid token gets 200 with Cache-Control: no-store.
func TestBackchannelLogoutTokenVerification(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/oauth/v4/tenant")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	now := clock.Now()
	publicKeyBytes, err := x509.MarshalPKIXPublicKey(&f.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	with := func(change func(map[string]any)) map[string]any {
		c := logoutClaims(f, now, "op-sid")
		change(c)
		return c
	}
	signed := func(c map[string]any) string { return signLogout(t, c, jose.RS256, f.key, f.kid, "logout+jwt") }
	valid := func(t *testing.T) string { return signed(logoutClaims(f, now, "op-sid")) }
	tests := []struct {
		name  string
		token func(t *testing.T) string
		want  int
	}{
		{"valid: sid and sub", valid, http.StatusOK},
		{"valid: sub only", func(t *testing.T) string { return signed(with(func(c map[string]any) { delete(c, "sid") })) }, http.StatusOK},
		{"valid: sid only", func(t *testing.T) string { return signed(with(func(c map[string]any) { delete(c, "sub") })) }, http.StatusOK},
		{"valid: aud as an array", func(t *testing.T) string {
			return signed(with(func(c map[string]any) { c["aud"] = []string{"other", fakeClientID} }))
		}, http.StatusOK},
		{"valid: no exp, recent iat (providers of the drafts)", func(t *testing.T) string {
			return signed(with(func(c map[string]any) { delete(c, "exp") }))
		}, http.StatusOK},
		{"valid: typ JWT", func(t *testing.T) string {
			return signLogout(t, logoutClaims(f, now, "op-sid"), jose.RS256, f.key, f.kid, "JWT")
		}, http.StatusOK},
		{"valid: no typ", func(t *testing.T) string {
			return signLogout(t, logoutClaims(f, now, "op-sid"), jose.RS256, f.key, f.kid, "")
		}, http.StatusOK},
		{"valid: expired within the clock skew", func(t *testing.T) string {
			return signed(with(func(c map[string]any) { c["exp"] = now.Add(-30 * time.Second).Unix() }))
		}, http.StatusOK},

		{"no events", func(t *testing.T) string { return signed(with(func(c map[string]any) { delete(c, "events") })) }, http.StatusBadRequest},
		{"events not an object", func(t *testing.T) string {
			return signed(with(func(c map[string]any) { c["events"] = []string{backchannelLogoutEvent} }))
		}, http.StatusBadRequest},
		{"the logout event not an object", func(t *testing.T) string {
			return signed(with(func(c map[string]any) { c["events"] = map[string]any{backchannelLogoutEvent: "yes"} }))
		}, http.StatusBadRequest},
		{"events without the logout event", func(t *testing.T) string {
			return signed(with(func(c map[string]any) {
				c["events"] = map[string]any{"http://schemas.openid.net/event/other": map[string]any{}}
			}))
		}, http.StatusBadRequest},
		{"wrong aud", func(t *testing.T) string { return signed(with(func(c map[string]any) { c["aud"] = "other-client" })) }, http.StatusBadRequest},
		{"wrong iss", func(t *testing.T) string {
			return signed(with(func(c map[string]any) { c["iss"] = "https://evil.example/oauth/v4/tenant" }))
		}, http.StatusBadRequest},
		{"alg none", func(t *testing.T) string { return unsigned(logoutClaims(f, now, "op-sid")) }, http.StatusBadRequest},
		{"HS256 keyed with the public key", func(t *testing.T) string {
			return signLogout(t, logoutClaims(f, now, "op-sid"), jose.HS256, publicKeyBytes, f.kid, "logout+jwt")
		}, http.StatusBadRequest},
		{"a nonce", func(t *testing.T) string { return signed(with(func(c map[string]any) { c["nonce"] = "n-1" })) }, http.StatusBadRequest},
		{"an empty nonce", func(t *testing.T) string { return signed(with(func(c map[string]any) { c["nonce"] = "" })) }, http.StatusBadRequest},
		{"bad signature", func(t *testing.T) string {
			return signLogout(t, logoutClaims(f, now, "op-sid"), jose.RS256, testKeyB(), f.kid, "logout+jwt")
		}, http.StatusBadRequest},
		{"expired", func(t *testing.T) string {
			return signed(with(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() }))
		}, http.StatusBadRequest},
		{"no exp, issued too long ago", func(t *testing.T) string {
			return signed(with(func(c map[string]any) {
				delete(c, "exp")
				c["iat"] = now.Add(-logoutTokenMaxAge - 2*time.Minute).Unix()
			}))
		}, http.StatusBadRequest},
		{"no iat", func(t *testing.T) string { return signed(with(func(c map[string]any) { delete(c, "iat") })) }, http.StatusBadRequest},
		{"iat in the future", func(t *testing.T) string {
			return signed(with(func(c map[string]any) { c["iat"] = now.Add(10 * time.Minute).Unix() }))
		}, http.StatusBadRequest},
		{"neither sid nor sub", func(t *testing.T) string {
			return signed(with(func(c map[string]any) { delete(c, "sid"); delete(c, "sub") }))
		}, http.StatusBadRequest},
		{"empty sid and sub", func(t *testing.T) string {
			return signed(with(func(c map[string]any) { c["sid"], c["sub"] = "", "" }))
		}, http.StatusBadRequest},
		{"sid not a string", func(t *testing.T) string { return signed(with(func(c map[string]any) { c["sid"] = 42 })) }, http.StatusBadRequest},
		{"no jti", func(t *testing.T) string { return signed(with(func(c map[string]any) { delete(c, "jti") })) }, http.StatusBadRequest},
		{"typ of an access token", func(t *testing.T) string {
			return signLogout(t, logoutClaims(f, now, "op-sid"), jose.RS256, f.key, f.kid, "at+jwt")
		}, http.StatusBadRequest},
		{"an id token", func(t *testing.T) string {
			return signed(map[string]any{"iss": f.issuer, "aud": fakeClientID, "iat": now.Unix(), "sub": "user-1",
				"exp": now.Add(time.Hour).Unix(), "nonce": "n-1"})
		}, http.StatusBadRequest},
		{"not a JWT", func(t *testing.T) string { return "not-a-token" }, http.StatusBadRequest},
	}
	a := newFakeAuth(t, f, clock, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := postLogoutToken(a, url.Values{"logout_token": {tc.token(t)}})
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			if tc.want == http.StatusBadRequest {
				var body struct{ Error, ErrorDescription string }
				json.Unmarshal(rec.Body.Bytes(), &body)
				if body.Error != "invalid_request" || rec.Header().Get("Content-Type") != "application/json" {
					t.Errorf("body %s (%s), want JSON with error invalid_request", rec.Body, rec.Header().Get("Content-Type"))
				}
			}
		})
	}

	t.Run("replayed jti", func(t *testing.T) {
		tok := valid(t)
		if rec := postLogoutToken(a, url.Values{"logout_token": {tok}}); rec.Code != http.StatusOK {
			t.Fatalf("first delivery: %d %s", rec.Code, rec.Body)
		}
		rec := postLogoutToken(a, url.Values{"logout_token": {tok}})
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "invalid_request") {
			t.Fatalf("the same token again: %d %s, want 400 invalid_request", rec.Code, rec.Body)
		}
	})
	for name, form := range map[string]url.Values{
		"no logout_token":   {},
		"empty":             {"logout_token": {""}},
		"two logout_tokens": {"logout_token": {valid(t), valid(t)}},
	} {
		t.Run(name, func(t *testing.T) {
			if rec := postLogoutToken(a, form); rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
		})
	}
	t.Run("oversized body", func(t *testing.T) {
		if rec := postLogoutToken(a, url.Values{"logout_token": {strings.Repeat("a", maxBackchannelForm)}}); rec.Code != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", rec.Code)
		}
	})
}

// TestBackchannelLogoutUnavailable: when the provider's keys cannot be loaded, or the session store fails, the
// endpoint answers 503 so that the provider may send the token again, and the token is then accepted.
func TestBackchannelLogoutUnavailable(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/oauth/v4/tenant")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))

	t.Run("keys", func(t *testing.T) {
		f.jwksDown.Store(true)
		defer f.jwksDown.Store(false)
		a := newFakeAuth(t, f, clock, nil)
		tok := signLogout(t, logoutClaims(f, clock.Now(), "op-sid"), jose.RS256, f.key, f.kid, "logout+jwt")
		if rec := postLogoutToken(a, url.Values{"logout_token": {tok}}); rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("keys unreachable: %d %s, want 503", rec.Code, rec.Body)
		}
		// A token of another issuer is refused whatever the keys.
		other := logoutClaims(f, clock.Now(), "op-sid")
		other["iss"] = "https://evil.example"
		if rec := postLogoutToken(a, url.Values{"logout_token": {signLogout(t, other, jose.RS256, f.key, f.kid, "")}}); rec.Code != http.StatusBadRequest {
			t.Fatalf("another issuer's token, keys unreachable: %d, want 400", rec.Code)
		}
	})

	t.Run("store", func(t *testing.T) {
		m := miniredis.RunT(t)
		client := redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true, MaxRetries: -1})
		t.Cleanup(func() { client.Close() })
		key := make([]byte, 32)
		rand.Read(key)
		codec, _ := session.NewCodec(key)
		obs := &recordingObserver{}
		a, err := New(t.Context(), Config{ClientID: fakeClientID, ClientSecret: "fake-secret", OAuthServerURL: f.issuer,
			RedirectURL: "http://127.0.0.1:1/afterauth", SessionKeys: [][]byte{key}, Now: clock.Now, Observer: obs,
			Logger: slog.New(slog.DiscardHandler), Store: redisstore.NewRedisStore(client, codec, redisstore.RedisOptions{})})
		if err != nil {
			t.Fatal(err)
		}
		tok := signLogout(t, logoutClaims(f, clock.Now(), "op-sid"), jose.RS256, f.key, f.kid, "logout+jwt")
		m.Close()
		if rec := postLogoutToken(a, url.Values{"logout_token": {tok}}); rec.Code != http.StatusServiceUnavailable ||
			!strings.Contains(rec.Body.String(), "temporarily_unavailable") {
			t.Fatalf("Redis down: %d %s, want 503 temporarily_unavailable", rec.Code, rec.Body)
		}
		if obs.count("store:delete") != 1 {
			t.Errorf("the observer saw no store error")
		}
		if err := m.Restart(); err != nil {
			t.Fatal(err)
		}
		if rec := postLogoutToken(a, url.Values{"logout_token": {tok}}); rec.Code != http.StatusOK {
			t.Fatalf("the same token once Redis is back: %d %s, want 200", rec.Code, rec.Body)
		}
	})
}

// TestBackchannelLogoutPath: the endpoint is on by default at /backchannel_logout, moves with the setting, is
// gone with "off", and a path that cannot be one is refused at start; the start-up log says at DEBUG what a
// logout token ends with the store in use.
func TestBackchannelLogoutPath(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/oauth/v4/tenant")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	newAuth := func(t *testing.T, path string, store session.Store, log *bytes.Buffer) (*Auth, error) {
		key := make([]byte, 32)
		rand.Read(key)
		return New(t.Context(), Config{ClientID: fakeClientID, ClientSecret: "fake-secret", OAuthServerURL: f.issuer,
			RedirectURL: "http://127.0.0.1:1/afterauth", SessionKeys: [][]byte{key}, Now: clock.Now, Store: store,
			Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})), BackchannelLogoutPath: path})
	}
	status := func(a *Auth, method, path string) int {
		mux := http.NewServeMux()
		a.Mount(mux)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader("logout_token=x")))
		return rec.Code
	}
	for _, tc := range []struct {
		name, setting, path string
		store               session.Store
		wantLog             string
	}{
		{"default, cookie sessions", "", "/backchannel_logout", nil, "within the revalidation interval"},
		{"own path, Redis", "/oidc/bcl", "/oidc/bcl", redisstore.NewRedisStore(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}), nil,
			redisstore.RedisOptions{}), "on every instance at once"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			a, err := newAuth(t, tc.setting, tc.store, &log)
			if err != nil {
				t.Fatal(err)
			}
			if got := status(a, http.MethodPost, tc.path); got != http.StatusBadRequest {
				t.Errorf("POST %s: %d, want 400 from the endpoint", tc.path, got)
			}
			if got := status(a, http.MethodGet, tc.path); got != http.StatusMethodNotAllowed {
				t.Errorf("GET %s: %d, want 405", tc.path, got)
			}
			if !strings.Contains(log.String(), tc.wantLog) || !strings.Contains(log.String(), tc.path) {
				t.Errorf("start-up log lacks %q and the path:\n%s", tc.wantLog, log.String())
			}
			// An explanation, not news: it stays out of the INFO log.
			if !strings.HasPrefix(log.String(), "time=") || strings.Count(log.String(), "level=DEBUG") != strings.Count(log.String(), "\n") {
				t.Errorf("the start-up explanation is not at DEBUG:\n%s", log.String())
			}
		})
	}
	t.Run("off", func(t *testing.T) {
		var log bytes.Buffer
		a, err := newAuth(t, "OFF", nil, &log)
		if err != nil {
			t.Fatal(err)
		}
		if got := status(a, http.MethodPost, DefaultBackchannelLogoutPath); got != http.StatusNotFound {
			t.Errorf("POST %s with the endpoint off: %d, want 404", DefaultBackchannelLogoutPath, got)
		}
		if strings.Contains(log.String(), "back-channel") {
			t.Errorf("start-up log mentions back-channel logout while it is off:\n%s", log.String())
		}
	})
	for _, bad := range []string{"backchannel", "/a b", "/x/{id}", "//x", "/x/../logout", "/logout", "/afterauth", "/x?y=1"} {
		t.Run("refused "+bad, func(t *testing.T) {
			_, err := newAuth(t, bad, nil, &bytes.Buffer{})
			var ce *ConfigError
			if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Setting != "BackchannelLogoutPath" {
				t.Fatalf("New with BackchannelLogoutPath %q = %v, want one problem naming the field", bad, err)
			}
			env := validEnv()
			env["APPIDGATE_BACKCHANNEL_LOGOUT_PATH"] = bad
			_, err = ConfigFromLookup(lookupFrom(env))
			if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Setting != "APPIDGATE_BACKCHANNEL_LOGOUT_PATH" {
				t.Fatalf("APPIDGATE_BACKCHANNEL_LOGOUT_PATH=%q: %v, want one problem naming it", bad, err)
			}
		})
	}
	env := validEnv()
	env["APPIDGATE_BACKCHANNEL_LOGOUT_PATH"] = "/oidc/backchannel-logout"
	if cfg, err := ConfigFromLookup(lookupFrom(env)); err != nil || cfg.BackchannelLogoutPath != "/oidc/backchannel-logout" {
		t.Fatalf("a good path: %q, %v", cfg.BackchannelLogoutPath, err)
	}
}

// logoutRelay stands at a client's back-channel logout URI in front of the replicas: it forwards each logout
// token to the instance the test picks (as a load balancer would to some instance) and reports the answer.
type logoutRelay struct {
	srv      *httptest.Server
	backends atomic.Pointer[[]*httptest.Server]
	target   atomic.Int32
	answers  chan int
}

func newLogoutRelay(t *testing.T) *logoutRelay {
	rl := &logoutRelay{answers: make(chan int, 16)}
	rl.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		backend := (*rl.backends.Load())[rl.target.Load()]
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, backend.URL+r.URL.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			rl.answers <- 0
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		rl.answers <- resp.StatusCode
		w.WriteHeader(resp.StatusCode)
		w.Write(answer)
	}))
	t.Cleanup(rl.srv.Close)
	return rl
}

// delivered waits for the next logout token to reach an instance and checks that it answered 200.
func (rl *logoutRelay) delivered(t *testing.T) {
	t.Helper()
	select {
	case status := <-rl.answers:
		if status != http.StatusOK {
			t.Fatalf("the instance answered the logout token %d, want 200", status)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no logout token reached the app within 10s")
	}
}

// newBackchannelReplicas starts n instances behind the front, and the provider with the demo client's
// back-channel logout URI at a relay that forwards to instance 0 unless told otherwise.
func newBackchannelReplicas(t *testing.T, n int, opt replicaOptions) (*replicaSet, *logoutRelay) {
	rl := newLogoutRelay(t)
	opt.provider = func(c *localappid.Config) {
		c.Clients[0].BackchannelLogoutURI = rl.srv.URL + DefaultBackchannelLogoutPath
		c.Logger = slog.New(slog.DiscardHandler)
	}
	rs := newReplicaSet(t, n, opt)
	rl.backends.Store(&rs.instances)
	return rs, rl
}

// ssoLogout is the user logging out at the provider (App ID's /cloud_directory/sso/logout) in b.
func ssoLogout(t *testing.T, rs *replicaSet, b *browser) {
	t.Helper()
	if got := b.get(rs.front.idp.Provider().OAuthServerURL() + "/cloud_directory/sso/logout"); got.status != http.StatusOK {
		t.Fatalf("SSO logout at the provider: %d %s", got.status, got.body)
	}
}

// TestBackchannelLogoutRedis: with sessions in Redis, a logout token received by one instance ends the sessions
// it names on every instance at once, whether an operator ended the user's sessions (sub) or the user logged out
// at the provider (sid); other users' sessions stay, and the user can sign in again.
func TestBackchannelLogoutRedis(t *testing.T) {
	t.Parallel()
	rs, rl := newBackchannelReplicas(t, 2, replicaOptions{store: redisStores(t)})
	alice, bob := rs.front.newBrowser(t), rs.front.newBrowser(t)
	for name, b := range map[string]*browser{"alice": alice, "bob": bob} {
		if got := b.login(rs.front, "/auth_route", name); got.status != http.StatusOK && name == "alice" {
			t.Fatalf("%s's login: %d", name, got.status)
		}
	}
	if got := rs.statuses(alice); !allEqual(got, http.StatusOK) {
		t.Fatalf("alice on each instance: %v, want 200", got)
	}
	bobBefore := rs.statuses(bob)

	// The operator ends alice's sessions; instance 0 receives the logout token.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := rs.front.idp.Provider().EndUserSessions(ctx, localappid.AliceID); err != nil {
		t.Fatalf("EndUserSessions: %v", err)
	}
	rl.delivered(t) // EndUserSessions waited for it
	if got := rs.statuses(alice); !allEqual(got, http.StatusFound) {
		t.Fatalf("alice right after the operator ended her sessions: %v, want 302 to login on every instance", got)
	}
	if got := rs.statuses(bob); !equalInts(got, bobBefore) {
		t.Errorf("bob after alice's logout: %v, want %v as before", got, bobBefore)
	}

	// Alice signs in again (a second later: her new session began after the logout) and logs out at the
	// provider; instance 1 receives the logout token this time.
	rs.front.clock.Advance(time.Second)
	if got := alice.login(rs.front, "/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("alice's new login after the logout: %d, want 200", got.status)
	}
	if got := rs.statuses(alice); !allEqual(got, http.StatusOK) {
		t.Fatalf("alice's new session on each instance: %v, want 200", got)
	}
	rl.target.Store(1)
	ssoLogout(t, rs, alice)
	rl.delivered(t)
	if got := rs.statuses(alice); !allEqual(got, http.StatusFound) {
		t.Fatalf("alice right after her logout at the provider: %v, want 302 on every instance", got)
	}
}

// TestBackchannelLogoutCookieSessions: with cookie sessions the instance that receives the logout token refuses
// the session at once; another instance knows nothing until it next revalidates the session with the provider,
// which revoked its refresh token: within RevalidateInterval (the limit README states).
func TestBackchannelLogoutCookieSessions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		logout func(t *testing.T, rs *replicaSet, rl *logoutRelay, b *browser)
	}{
		{"the user logs out at the provider", func(t *testing.T, rs *replicaSet, rl *logoutRelay, b *browser) {
			ssoLogout(t, rs, b)
			rl.delivered(t)
		}},
		{"an operator ends the user's sessions", func(t *testing.T, rs *replicaSet, rl *logoutRelay, b *browser) {
			if err := rs.front.idp.Provider().EndUserSessions(t.Context(), localappid.AliceID); err != nil {
				t.Fatalf("EndUserSessions: %v", err)
			}
			rl.delivered(t) // EndUserSessions waited for it
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, rl := newBackchannelReplicas(t, 2, replicaOptions{})
			alice := rs.front.newBrowser(t)
			if got := alice.login(rs.front, "/auth_route", "alice"); got.status != http.StatusOK {
				t.Fatalf("alice's login: %d", got.status)
			}
			if got := rs.statuses(alice); !allEqual(got, http.StatusOK) {
				t.Fatalf("alice on each instance: %v, want 200", got)
			}
			tc.logout(t, rs, rl, alice)
			if got := rs.on(alice, 0, http.MethodGet, "/auth_route"); got.status != http.StatusFound {
				t.Errorf("on the instance that received the logout token: %d, want 302 at once", got.status)
			}
			if got := rs.on(alice, 1, http.MethodGet, "/auth_route"); got.status != http.StatusOK {
				t.Errorf("on the other instance before its revalidation: %d, want 200 (cookie mode's documented limit)",
					got.status)
			}
			window := rs.auths[1].cfg.RevalidateInterval
			rs.front.clock.Advance(window)
			if got := rs.on(alice, 1, http.MethodGet, "/auth_route"); got.status != http.StatusFound {
				t.Errorf("on the other instance %s later: %d, want 302 (the provider refused the refresh)", window,
					got.status)
			}
			if got := rs.on(alice, 0, http.MethodGet, "/auth_route"); got.status != http.StatusFound {
				t.Errorf("on the receiving instance %s later: %d, want 302", window, got.status)
			}
			// A new login begins after the logout: both instances take it.
			if got := alice.login(rs.front, "/auth_route", "alice"); got.status != http.StatusOK {
				t.Fatalf("alice's new login: %d", got.status)
			}
			if got := rs.statuses(alice); !allEqual(got, http.StatusOK) {
				t.Errorf("alice's new session on each instance: %v, want 200", got)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSubLogoutEndsEarlierSessions: a sub-only logout ends every session of the user begun before this replica
// received it, whatever the provider's clock says (iat is on the provider's clock, within the skew; createdAt on
// this replica's) and however the second is split (iat holds whole seconds).
func TestSubLogoutEndsEarlierSessions(t *testing.T) {
	t.Parallel()
	second := time.Now().Truncate(time.Second)
	for _, tc := range []struct {
		name         string
		now, created time.Time
		iat          time.Time
	}{
		{"provider clock 20 s behind", second, second.Add(-10 * time.Second), second.Add(-20 * time.Second)},
		{"earlier in the logout's second", second.Add(700 * time.Millisecond), second.Add(300 * time.Millisecond), second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIssuer(t, "/oauth/v4/tenant")
			clock := testkit.NewClock(tc.now)
			a := newFakeAuth(t, f, clock, nil)
			st := &sessionState{createdAt: tc.created, savedAt: tc.created}
			st.user.ID = "user-1"
			if a.sessions.sessionOver(st, clock.Now()) {
				t.Fatal("the session is over before any logout")
			}
			claims := logoutClaims(f, tc.iat, "")
			delete(claims, "sid")
			tok := signLogout(t, claims, jose.RS256, f.key, f.kid, "logout+jwt")
			if rec := postLogoutToken(a, map[string][]string{"logout_token": {tok}}); rec.Code != http.StatusOK {
				t.Fatalf("logout token: %d %s", rec.Code, rec.Body)
			}
			if !a.sessions.sessionOver(st, clock.Now()) {
				t.Error("a session begun before the logout arrived is still accepted")
			}
		})
	}
}

// TestSubLogoutEndsEarlierRedisSessions: the same in Redis, for every replica, with the provider's clock behind.
func TestSubLogoutEndsEarlierRedisSessions(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/oauth/v4/tenant")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	client := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	t.Cleanup(func() { client.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	codec, err := session.NewCodec(key)
	if err != nil {
		t.Fatal(err)
	}
	store := redisstore.NewRedisStore(client, codec, redisstore.RedisOptions{Now: clock.Now})
	a, err := New(t.Context(), Config{ClientID: fakeClientID, ClientSecret: "fake-secret", OAuthServerURL: f.issuer,
		RedirectURL: "http://127.0.0.1:1/afterauth", SessionKeys: [][]byte{key}, Now: clock.Now,
		Logger: slog.New(slog.DiscardHandler), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	now := clock.Now()
	st := &sessionState{id: newSessionID(), createdAt: now.Add(-10 * time.Second), savedAt: now.Add(-10 * time.Second)}
	st.user.ID = "user-1"
	rec := httptest.NewRecorder()
	if err := a.sessions.saveSession(rec, httptest.NewRequest("GET", "/", nil), st, true); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	for _, c := range rec.Result().Cookies() {
		req.AddCookie(c)
	}
	if _, err := store.Load(req); err != nil {
		t.Fatalf("the saved session: %v", err)
	}
	claims := logoutClaims(f, now.Add(-20*time.Second), "")
	delete(claims, "sid")
	tok := signLogout(t, claims, jose.RS256, f.key, f.kid, "logout+jwt")
	if rec := postLogoutToken(a, map[string][]string{"logout_token": {tok}}); rec.Code != http.StatusOK {
		t.Fatalf("logout token: %d %s", rec.Code, rec.Body)
	}
	if _, err := store.Load(req); err == nil {
		t.Error("Redis still holds a session begun 10 s before the sub-only logout arrived")
	}
}

// TestSubLogoutReplayKeepsLaterSessions: the same sub-only logout token delivered again minutes later (a retry,
// another replica) does not end a session the user began after the logout.
func TestSubLogoutReplayKeepsLaterSessions(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/oauth/v4/tenant")
	iat := time.Now().Truncate(time.Second)
	// Delivered again 100 s after it was issued (within its 2 minutes); the user signed in again at 70 s, after
	// the logout and beyond the clock skew (a minute) that the cut allows the provider's clock.
	clock := testkit.NewClock(iat.Add(100 * time.Second))
	a := newFakeAuth(t, f, clock, nil)
	later := &sessionState{createdAt: iat.Add(70 * time.Second), savedAt: iat.Add(70 * time.Second)}
	later.user.ID = "user-1"
	earlier := &sessionState{createdAt: iat.Add(-time.Minute), savedAt: iat.Add(-time.Minute)}
	earlier.user.ID = "user-1"
	claims := logoutClaims(f, iat, "")
	delete(claims, "sid")
	tok := signLogout(t, claims, jose.RS256, f.key, f.kid, "logout+jwt")
	if rec := postLogoutToken(a, map[string][]string{"logout_token": {tok}}); rec.Code != http.StatusOK {
		t.Fatalf("logout token: %d %s", rec.Code, rec.Body)
	}
	if a.sessions.sessionOver(later, clock.Now()) {
		t.Error("a session begun after the logout was ended by the logout token's replay")
	}
	if !a.sessions.sessionOver(earlier, clock.Now()) {
		t.Error("a session begun before the logout survived it")
	}
}
