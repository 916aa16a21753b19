package appid

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

const fakeClientID = "fake-client"

// fakeIssuer is an OIDC provider reduced to discovery and JWKS, whose tokens the tests sign with any claims,
// key and algorithm, so that each verification rule can be broken alone.
type fakeIssuer struct {
	issuer   string
	key      *rsa.PrivateKey
	kid      string
	jwksDown atomic.Bool  // the JWKS endpoint answers 503
	fetches  atomic.Int32 // JWKS requests received
}

// newFakeIssuer serves an issuer at path (e.g. "/oauth/v4/tenant", App ID's shape) on a loopback port.
func newFakeIssuer(t *testing.T, path string) *fakeIssuer {
	t.Helper()
	key := testKeyA()
	f := &fakeIssuer{key: key, kid: "fake-key-1"}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	f.issuer = srv.URL + path
	mux.HandleFunc("GET "+path+"/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": f.issuer,
			"authorization_endpoint": f.issuer + "/authorization", "token_endpoint": f.issuer + "/token",
			"jwks_uri": f.issuer + "/publickeys"})
	})
	mux.HandleFunc("GET "+path+"/publickeys", func(w http.ResponseWriter, r *http.Request) {
		f.fetches.Add(1)
		if f.jwksDown.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
			{Key: &key.PublicKey, KeyID: f.kid, Algorithm: "RS256", Use: "sig"}}})
	})
	return f
}

// accessClaims are the claims of a valid App ID access token for fakeClientID issued at now.
func (f *fakeIssuer) accessClaims(now time.Time) map[string]any {
	return map[string]any{"iss": f.issuer, "aud": []string{fakeClientID}, "sub": "user-1",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "scope": "openid view"}
}

// sign returns claims as a JWT signed with key under kid with alg.
func (f *fakeIssuer) sign(t *testing.T, claims map[string]any, alg jose.SignatureAlgorithm, key any, kid string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
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

// signed returns claims signed as the issuer signs.
func (f *fakeIssuer) signed(t *testing.T, claims map[string]any) string {
	return f.sign(t, claims, jose.RS256, f.key, f.kid)
}

// newFakeAuth returns a fresh Auth (no keys loaded yet) for f's issuer on clock.
func newFakeAuth(t *testing.T, f *fakeIssuer, clock *testkit.Clock, onUser func(*http.Request, *User)) *Auth {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	a, err := New(t.Context(), Config{ClientID: fakeClientID, ClientSecret: "fake-secret", OAuthServerURL: f.issuer,
		RedirectURL: "http://127.0.0.1:1/afterauth", SessionKeys: [][]byte{key}, Now: clock.Now,
		Logger: slog.New(slog.DiscardHandler), OnUser: onUser})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// bearerStatus sends token to a RequireBearer(policies...) handler of a and returns the status and body.
func bearerStatus(a *Auth, token string, policies ...Policy) (int, string) {
	h := a.RequireBearer(policies...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	req := httptest.NewRequest(http.MethodGet, "/api", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func TestAccessTokenVerification(t *testing.T) {
	t.Parallel()
	appID := newFakeIssuer(t, "/oauth/v4/tenant")
	generic := newFakeIssuer(t, "/realms/demo")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	now := clock.Now()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	publicKeyBytes, err := x509.MarshalPKIXPublicKey(&appID.key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	with := func(f *fakeIssuer, change func(map[string]any)) map[string]any {
		c := f.accessClaims(now)
		change(c)
		return c
	}
	same := func(map[string]any) {}
	tests := []struct {
		name     string
		issuer   *fakeIssuer
		token    func(t *testing.T) string
		jwksDown bool
		want     int
	}{
		{"valid", appID, func(t *testing.T) string { return appID.signed(t, with(appID, same)) }, false, http.StatusOK},
		{"id token: nonce", appID, func(t *testing.T) string {
			return appID.signed(t, with(appID, func(c map[string]any) { c["nonce"] = "n-123" }))
		}, false, http.StatusUnauthorized},
		{"id token: at_hash", appID, func(t *testing.T) string {
			return appID.signed(t, with(appID, func(c map[string]any) { c["at_hash"] = "x" }))
		}, false, http.StatusUnauthorized},
		{"id token: c_hash", appID, func(t *testing.T) string {
			return appID.signed(t, with(appID, func(c map[string]any) { c["c_hash"] = "x" }))
		}, false, http.StatusUnauthorized},
		{"no scope claim from App ID", appID, func(t *testing.T) string {
			return appID.signed(t, with(appID, func(c map[string]any) { delete(c, "scope") }))
		}, false, http.StatusUnauthorized},
		{"no scope claim from another provider", generic, func(t *testing.T) string {
			return generic.signed(t, with(generic, func(c map[string]any) { delete(c, "scope") }))
		}, false, http.StatusOK},
		{"nonce from another provider", generic, func(t *testing.T) string {
			return generic.signed(t, with(generic, func(c map[string]any) { c["nonce"] = "n-123" }))
		}, false, http.StatusUnauthorized},
		{"a logout token from another provider", generic, func(t *testing.T) string {
			return signLogout(t, logoutClaims(generic, now, "op-sid"), jose.RS256, generic.key, generic.kid, "logout+jwt")
		}, false, http.StatusUnauthorized},
		{"events claim from another provider", generic, func(t *testing.T) string {
			return generic.signed(t, with(generic, func(c map[string]any) { c["events"] = map[string]any{} }))
		}, false, http.StatusUnauthorized},
		{"audience without the client id", appID, func(t *testing.T) string {
			return appID.signed(t, with(appID, func(c map[string]any) { c["aud"] = []string{"other-client"} }))
		}, false, http.StatusUnauthorized},
		{"issued in the future beyond the skew", appID, func(t *testing.T) string {
			return appID.signed(t, with(appID, func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() }))
		}, false, http.StatusUnauthorized},
		{"wrong issuer", appID, func(t *testing.T) string {
			return appID.signed(t, with(appID, func(c map[string]any) { c["iss"] = "https://evil.example/oauth/v4/tenant" }))
		}, false, http.StatusUnauthorized},
		{"expired", appID, func(t *testing.T) string {
			return appID.signed(t, with(appID, func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() }))
		}, false, http.StatusUnauthorized},
		{"HS256 with the public key as secret", appID, func(t *testing.T) string {
			return appID.sign(t, with(appID, same), jose.HS256, publicKeyBytes, appID.kid)
		}, false, http.StatusUnauthorized},
		{"ES256 with a new key under the known kid", appID, func(t *testing.T) string {
			return appID.sign(t, with(appID, same), jose.ES256, ecKey, appID.kid)
		}, false, http.StatusUnauthorized},
		// Before any key was loaded: a token go-oidc refuses unread is the token's fault, not the provider's.
		{"malformed, keys unreachable", appID, func(*testing.T) string { return "not.a.jwt" }, true,
			http.StatusUnauthorized},
		{"expired, keys unreachable", appID, func(t *testing.T) string {
			return appID.signed(t, with(appID, func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() }))
		}, true, http.StatusUnauthorized},
		{"wrong issuer, keys unreachable", appID, func(t *testing.T) string {
			return appID.signed(t, with(appID, func(c map[string]any) { c["iss"] = "https://evil.example/oauth/v4/tenant" }))
		}, true, http.StatusUnauthorized},
		{"valid, keys unreachable", appID, func(t *testing.T) string { return appID.signed(t, with(appID, same)) },
			true, http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.issuer.jwksDown.Store(tc.jwksDown)
			a := newFakeAuth(t, tc.issuer, clock, nil) // fresh: no keys loaded yet
			if got, body := bearerStatus(a, tc.token(t)); got != tc.want {
				t.Errorf("got %d %s, want %d", got, body, tc.want)
			}
		})
	}
}

func TestKeyFetchAttemptsAreRateLimited(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		loadFirst  bool // a valid token loads the keys before the JWKS endpoint fails
		wantStatus int
	}{
		{"keys loaded, then the JWKS endpoint fails", true, http.StatusUnauthorized},
		{"keys never loaded", false, http.StatusServiceUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeIssuer(t, "/oauth/v4/tenant")
			clock := testkit.NewClock(time.Now().Truncate(time.Second))
			a := newFakeAuth(t, f, clock, nil)
			if tc.loadFirst {
				if got, body := bearerStatus(a, f.signed(t, f.accessClaims(clock.Now()))); got != http.StatusOK {
					t.Fatalf("valid token: got %d %s", got, body)
				}
				clock.Advance(time.Minute) // past the rate limit of the successful fetch
			}
			f.jwksDown.Store(true)
			before := f.fetches.Load()
			for i := range 20 {
				token := f.sign(t, f.accessClaims(clock.Now()), jose.RS256, f.key, fmt.Sprintf("forged-%d", i))
				if got, body := bearerStatus(a, token); got != tc.wantStatus {
					t.Fatalf("forged token %d: got %d %s, want %d", i, got, body, tc.wantStatus)
				}
			}
			if n := f.fetches.Load() - before; n > keyFetchBurst {
				t.Errorf("20 tokens with unknown kids and the JWKS down caused %d fetches, want at most %d", n,
					keyFetchBurst)
			}
			if !tc.loadFirst {
				// Ready may force a fetch while no keys were ever loaded.
				f.jwksDown.Store(false)
				if err := a.Ready(t.Context()); err != nil {
					t.Errorf("Ready after the JWKS came back: %v", err)
				}
			}
		})
	}
}

func TestCancelledRequestDoesNotFailTheSharedKeyFetch(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/oauth/v4/tenant")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := newFakeAuth(t, f, clock, nil)
	token := f.signed(t, f.accessClaims(clock.Now()))
	if _, err := a.discovery.metadata(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := a.RequireBearer()(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(httptest.NewRecorder(), req) // its client went away; the fetch it started must still complete
	if got, body := bearerStatus(a, token); got != http.StatusOK {
		t.Errorf("next request within the rate limit: got %d %s, want 200", got, body)
	}
}

func TestRefreshAcceptsARepeatedLoginNonce(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/oauth/v4/tenant")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := newFakeAuth(t, f, clock, nil)
	now := clock.Now()
	idClaims := map[string]any{"iss": f.issuer, "aud": []string{fakeClientID}, "sub": "user-1",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nonce": "login-nonce"}
	tok := (&oauth2.Token{AccessToken: f.signed(t, f.accessClaims(now))}).WithExtra(map[string]any{
		"id_token": f.signed(t, idClaims)})
	tests := []struct {
		name    string
		nonce   string
		wantErr bool
	}{
		{"refresh (no nonce to compare)", "", false},
		{"login with the same nonce", "login-nonce", false},
		{"login with another nonce", "other-nonce", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.provider.session(t.Context(), tok, tc.nonce, nil, now)
			if (err != nil) != tc.wantErr {
				t.Errorf("got error %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}

func TestOnUserSeesDeniedBearerUsers(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/oauth/v4/tenant")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	var seen []string
	a := newFakeAuth(t, f, clock, func(r *http.Request, u *User) { seen = append(seen, u.ID) })
	if got, _ := bearerStatus(a, f.signed(t, f.accessClaims(clock.Now())), Scope("admin")); got != http.StatusForbidden {
		t.Fatalf("got %d, want 403", got)
	}
	if strings.Join(seen, ",") != "user-1" {
		t.Errorf("OnUser saw %q, want user-1 once", seen)
	}
}

func TestRequiredClaims(t *testing.T) {
	t.Parallel()
	p := newKeyIssuer()
	p.serve(t, publicJWK(testKeyA(), "kid-1"))
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := p.auth(t, clock.Now, nil)
	now := clock.Now()
	kinds := []struct {
		name   string
		claims func() map[string]any
		verify func(raw string) error
	}{
		{"access token", func() map[string]any {
			return map[string]any{"iss": p.issuer, "aud": []string{fakeClientID}, "sub": "user-1",
				"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "scope": "openid"}
		}, func(raw string) error { _, err := a.tokens.verifyAccessToken(t.Context(), raw); return err }},
		{"id token", func() map[string]any {
			return map[string]any{"iss": p.issuer, "aud": []string{fakeClientID}, "sub": "user-1",
				"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "nonce": "n-1", "email": "a@example.com"}
		}, func(raw string) error { _, err := a.tokens.verifyIDToken(t.Context(), raw, "n-1"); return err }},
	}
	for _, kind := range kinds {
		t.Run(kind.name+" with every claim", func(t *testing.T) {
			if err := kind.verify(signJWT(t, kind.claims(), testKeyA(), "kid-1")); err != nil {
				t.Errorf("got %v, want it accepted", err)
			}
		})
		for _, claim := range requiredClaims {
			for _, value := range []any{"missing", nil, ""} {
				t.Run(fmt.Sprintf("%s with %s %v", kind.name, claim, value), func(t *testing.T) {
					claims := kind.claims()
					claims[claim] = value
					if value == "missing" {
						delete(claims, claim)
					}
					err := kind.verify(signJWT(t, claims, testKeyA(), "kid-1"))
					if !errors.Is(err, errTokenInvalid) || !strings.Contains(err.Error(), fmt.Sprintf("%q claim", claim)) {
						t.Errorf("got %v, want errTokenInvalid naming the %q claim", err, claim)
					}
				})
			}
		}
	}
}

// TestIDTokenVerification: an id token is accepted only from the provider's issuer, for this client, and
// unexpired (within the clock skew), whatever else it carries.
func TestIDTokenVerification(t *testing.T) {
	t.Parallel()
	p := newKeyIssuer()
	p.serve(t, publicJWK(testKeyA(), "kid-1"))
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := p.auth(t, clock.Now, nil)
	now := clock.Now()
	for _, tc := range []struct {
		name   string
		change func(map[string]any)
		ok     bool
	}{
		{"as issued", func(map[string]any) {}, true},
		{"for another client", func(c map[string]any) { c["aud"] = []string{"other-client"} }, false},
		{"from another issuer", func(c map[string]any) { c["iss"] = p.issuer + "-other" }, false},
		{"expired within the clock skew", func(c map[string]any) { c["exp"] = now.Add(-30 * time.Second).Unix() }, true},
		{"expired beyond the clock skew", func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]any{"iss": p.issuer, "aud": []string{fakeClientID}, "sub": "user-1",
				"exp": now.Add(time.Hour).Unix(), "iat": now.Add(-time.Hour).Unix(), "nonce": "n-1"}
			tc.change(claims)
			_, err := a.tokens.verifyIDToken(t.Context(), signJWT(t, claims, testKeyA(), "kid-1"), "n-1")
			if tc.ok && err != nil {
				t.Errorf("got %v, want it accepted", err)
			}
			if !tc.ok && !errors.Is(err, errTokenInvalid) {
				t.Errorf("got %v, want errTokenInvalid", err)
			}
		})
	}
}

// TestAppIDLoginTokensAboutOneUser: at an App ID login the id token and the access token must name the same
// user; a pair about two users is refused.
func TestAppIDLoginTokensAboutOneUser(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "/oauth/v4/tenant")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := newFakeAuth(t, f, clock, nil)
	now := clock.Now()
	for _, tc := range []struct {
		name, idSubject string
		ok              bool
	}{
		{"the same user", "user-1", true},
		{"another user", "user-2", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := f.signed(t, map[string]any{"iss": f.issuer, "aud": []string{fakeClientID}, "sub": tc.idSubject,
				"nonce": "n", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()})
			tok := (&oauth2.Token{AccessToken: f.signed(t, f.accessClaims(now)), RefreshToken: "r1"}).WithExtra(
				map[string]any{"id_token": id})
			_, err := a.provider.session(t.Context(), tok, "n", nil, now)
			if tc.ok && err != nil {
				t.Errorf("got %v, want the login accepted", err)
			}
			if !tc.ok && (!errors.Is(err, errTokenInvalid) || !strings.Contains(err.Error(), "subject")) {
				t.Errorf("got %v, want errTokenInvalid naming the subjects", err)
			}
		})
	}
}

func TestIDTokenWithoutIatIsRefusedAtTheCallback(t *testing.T) {
	t.Parallel()
	dropIat := &tokenResponseTransport{edit: func(body []byte) []byte {
		var tok map[string]any
		json.Unmarshal(body, &tok)
		raw, _ := tok["id_token"].(string)
		jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Errorf("id_token: %v", err)
			return body
		}
		var claims map[string]any
		json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims)
		delete(claims, "iat")
		// Signed again by the provider's own key, under its kid.
		tok["id_token"] = signJWT(t, claims, testKeyA(), jws.Signatures[0].Header.KeyID)
		out, _ := json.Marshal(tok)
		return out
	}}
	log := &logRecorder{}
	e := newTestEnv(t, envOption{
		provider: func(c *localappid.Config) { c.SigningKey = testKeyA() },
		auth: func(c *Config) {
			c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: dropIat}
			c.Logger = slog.New(log)
		},
	})
	assertTokensRefused(t, e, e.newBrowser(t))
	if n := len(log.find("appid: tokens refused", "error", `"iat" claim`)); n != 1 {
		t.Errorf(`logged "appid: tokens refused" naming the iat claim %d times, want once`, n)
	}
}
