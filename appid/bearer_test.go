package appid

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/localappid"
)

// accessTokenFor runs a login as username outside the app and returns the provider's access token, as an API
// client holding its own tokens would.
func accessTokenFor(t testing.TB, e *testEnv, username string) string {
	t.Helper()
	return tokensFor(t, e, username).AccessToken
}

// tokensFor runs a login as username outside the app and returns the provider's token response.
func tokensFor(t testing.TB, e *testEnv, username string) *oauth2.Token {
	t.Helper()
	oauthURL := e.idp.Provider().OAuthServerURL()
	conf := &oauth2.Config{
		ClientID: localappid.DemoClientID, ClientSecret: localappid.DemoClientSecret,
		Endpoint: oauth2.Endpoint{AuthURL: oauthURL + "/authorization", TokenURL: oauthURL + "/token",
			AuthStyle: oauth2.AuthStyleInHeader},
		RedirectURL: e.app.URL + "/afterauth", Scopes: []string{"openid"},
	}
	verifier := oauth2.GenerateVerifier()
	start, _ := url.Parse(conf.AuthCodeURL("api-client-state", oauth2.S256ChallengeOption(verifier)))
	b := e.newBrowser(t)
	cb := b.authorize(&response{status: http.StatusFound, location: start.String(), url: start}, username)
	loc, _ := url.Parse(cb.location)
	tok, err := conf.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// resign returns token's claims signed by key under kid, with alg; for alg "none" the signature is empty.
func resign(t *testing.T, token string, key *rsa.PrivateKey, kid string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

func TestRequireBearer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	aliceTokens := tokensFor(t, e, "alice")
	alice := aliceTokens.AccessToken
	aliceID, _ := aliceTokens.Extra("id_token").(string)
	if aliceID == "" {
		t.Fatal("the provider issued no id_token")
	}
	bob := accessTokenFor(t, e, "bob")
	forgedKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(alice, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "."
	tests := []struct {
		name          string
		authorization string
		want          int
		wantChallenge string
	}{
		{"alice has scope view", "Bearer " + alice, http.StatusOK, ""},
		{"bob lacks the scope", "Bearer " + bob, http.StatusForbidden, `error="insufficient_scope"`},
		{"no token", "", http.StatusUnauthorized, `Bearer realm="appidgate"`},
		{"not a bearer token", "Basic YWxpY2U6YWxpY2U=", http.StatusUnauthorized, `Bearer realm="appidgate"`},
		{"garbage", "Bearer not.a.jwt", http.StatusUnauthorized, `error="invalid_token"`},
		{"signed by an unknown key", "Bearer " + resign(t, alice, forgedKey, "appId-forged"),
			http.StatusUnauthorized, `error="invalid_token"`},
		{"signed by an unknown key under a known kid", "Bearer " + resign(t, alice, forgedKey,
			e.idp.Provider().CurrentKeyID()), http.StatusUnauthorized, `error="invalid_token"`},
		{"alg none", "Bearer " + none, http.StatusUnauthorized, `error="invalid_token"`},
		{"an id token", "Bearer " + aliceID, http.StatusUnauthorized, `error="invalid_token"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/data", nil)
			if tc.authorization != "" {
				req.Header.Set("Authorization", tc.authorization)
			}
			got := e.newBrowser(t).do(req)
			if got.status != tc.want {
				t.Errorf("got %d %q, want %d", got.status, got.body, tc.want)
			}
			if !strings.Contains(got.header.Get("WWW-Authenticate"), tc.wantChallenge) {
				t.Errorf("WWW-Authenticate = %q, want it to contain %q", got.header.Get("WWW-Authenticate"),
					tc.wantChallenge)
			}
			if tc.want != http.StatusOK && !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
				t.Errorf("refusal is %q, want JSON", got.header.Get("Content-Type"))
			}
		})
	}

	t.Run("expired token", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour)
		req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/data", nil)
		req.Header.Set("Authorization", "Bearer "+alice)
		if got := e.newBrowser(t).do(req); got.status != http.StatusUnauthorized {
			t.Errorf("got %d, want 401", got.status)
		}
	})
}

func TestBearerAfterKeyRotation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	before := accessTokenFor(t, e, "alice")
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/data", nil)
	req.Header.Set("Authorization", "Bearer "+before)
	if got := e.newBrowser(t).do(req); got.status != http.StatusOK {
		t.Fatalf("before rotation: %d", got.status)
	}
	if _, err := e.idp.Provider().RotateKey(); err != nil {
		t.Fatal(err)
	}
	// The new kid is unknown to the cached key set: it must be fetched again (past the rate limit).
	e.clock.Advance(time.Minute)
	after := accessTokenFor(t, e, "alice")
	req.Header.Set("Authorization", "Bearer "+after)
	if got := e.newBrowser(t).do(req); got.status != http.StatusOK {
		t.Errorf("token signed with the rotated key: got %d %q, want 200", got.status, got.body)
	}
}

func TestBearerWithProviderDown(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	token := accessTokenFor(t, e, "alice")
	e.idp.Close() // before the app ever loaded the provider's keys
	req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/data", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	got := e.newBrowser(t).do(req)
	if got.status != http.StatusServiceUnavailable || !strings.Contains(got.body, "Could not load the identity provider") {
		t.Errorf("got %d %q, want 503 naming the provider's keys", got.status, got.body)
	}
}

// countingTransport counts the requests whose path ends with suffix.
type countingTransport struct {
	suffix string
	mu     sync.Mutex
	n      int
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, c.suffix) {
		c.mu.Lock()
		c.n++
		c.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (c *countingTransport) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func TestUnknownKeyIDsDoNotHammerTheProvider(t *testing.T) {
	t.Parallel()
	jwks := &countingTransport{suffix: "/publickeys"}
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: jwks}
	}})
	alice := accessTokenFor(t, e, "alice")
	forgedKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/data", nil)
		req.Header.Set("Authorization", "Bearer "+resign(t, alice, forgedKey, fmt.Sprintf("appId-forged-%d", i)))
		if got := e.newBrowser(t).do(req); got.status != http.StatusUnauthorized {
			t.Fatalf("forged token %d: got %d, want 401", i, got.status)
		}
	}
	jwks.mu.Lock()
	defer jwks.mu.Unlock()
	if jwks.n > keyFetchBurst {
		t.Errorf("20 tokens with unknown kids caused %d JWKS fetches, want at most %d (the fetch budget's burst)",
			jwks.n, keyFetchBurst)
	}
}

// TestVerifyBearer: the token check of RequireBearer, for programs that get tokens elsewhere.
func TestVerifyBearer(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	alice := accessTokenFor(t, e, "alice")
	u, err := e.auth.VerifyBearer(t.Context(), alice)
	if err != nil || u.ID != localappid.AliceID || u.AccessToken() != alice || !u.HasScope("view") {
		t.Fatalf("VerifyBearer(alice's token) = %+v, %v", u, err)
	}
	u.Scopes[0] = "changed"
	if again, err := e.auth.VerifyBearer(t.Context(), alice); err != nil || again.Scopes[0] == "changed" {
		t.Errorf("a change to the returned user reached the next caller: %+v, %v", again, err)
	}
	for _, bad := range []string{"", "not.a.jwt", alice + "x"} {
		if u, err := e.auth.VerifyBearer(t.Context(), bad); !errors.Is(err, ErrLoginRequired) || u != nil {
			t.Errorf("VerifyBearer(%q) = %v, %v; want an error wrapping ErrLoginRequired", bad, u, err)
		}
	}
}
