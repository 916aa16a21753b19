package appid

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/appidgate/appidgate/internal/testkit"
)

// keyIssuer is an App ID-shaped provider reduced to discovery and a JWKS that the test sets, reached through an
// in-memory transport (nothing leaves the process, so it also works inside a synctest bubble).
type keyIssuer struct {
	issuer string

	mu   sync.Mutex
	jwks []byte        // the JWKS document served; nil answers 503
	gate chan struct{} // when non-nil, JWKS requests wait until it is closed

	fetches atomic.Int32 // JWKS requests received
}

func newKeyIssuer() *keyIssuer {
	return &keyIssuer{issuer: "https://idp.test/oauth/v4/tenant"}
}

// serve makes the JWKS hold keys, public RSA signing keys by kid, in that order.
func (p *keyIssuer) serve(t *testing.T, keys ...jose.JSONWebKey) {
	t.Helper()
	doc, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	p.serveDocument(doc)
}

// serveDocument makes the JWKS the raw document doc; nil makes the endpoint answer 503.
func (p *keyIssuer) serveDocument(doc []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.jwks = doc
}

// hold makes JWKS requests wait until the returned function is called.
func (p *keyIssuer) hold() (release func()) {
	gate := make(chan struct{})
	p.mu.Lock()
	p.gate = gate
	p.mu.Unlock()
	return func() { close(gate) }
}

// RoundTrip implements http.RoundTripper.
func (p *keyIssuer) RoundTrip(req *http.Request) (*http.Response, error) {
	status, body := http.StatusNotFound, []byte("not found")
	switch req.URL.String() {
	case p.issuer + "/.well-known/openid-configuration":
		status = http.StatusOK
		body, _ = json.Marshal(map[string]string{"issuer": p.issuer,
			"authorization_endpoint": p.issuer + "/authorization", "token_endpoint": p.issuer + "/token",
			"jwks_uri": p.issuer + "/publickeys"})
	case p.issuer + "/publickeys":
		p.fetches.Add(1)
		p.mu.Lock()
		gate := p.gate
		p.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
		}
		p.mu.Lock()
		body = p.jwks
		p.mu.Unlock()
		status = http.StatusOK
		if body == nil {
			status, body = http.StatusServiceUnavailable, []byte("down")
		}
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: req}, nil
}

// auth returns a fresh Auth (no keys loaded) for p's issuer on clock, logging to log (nil: discarded).
func (p *keyIssuer) auth(t *testing.T, now func() time.Time, log *slog.Logger) *Auth {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a, err := New(t.Context(), Config{ClientID: fakeClientID, ClientSecret: "fake-secret", OAuthServerURL: p.issuer,
		RedirectURL: "http://127.0.0.1:1/afterauth", SessionKeys: [][]byte{make([]byte, 32)}, Now: now,
		Logger: log, HTTPClient: &http.Client{Timeout: 5 * time.Second, Transport: p}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// accessToken returns a valid App ID access token of p issued at now, signed by key under kid.
func (p *keyIssuer) accessToken(t *testing.T, now time.Time, key *rsa.PrivateKey, kid string) string {
	t.Helper()
	claims := map[string]any{"iss": p.issuer, "aud": []string{fakeClientID}, "sub": "user-1",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "scope": "openid view"}
	return signJWT(t, claims, key, kid)
}

// signJWT returns claims as an RS256 JWT signed by key under kid.
func signJWT(t *testing.T, claims map[string]any, key *rsa.PrivateKey, kid string) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key},
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

// withKid returns token with its header's kid replaced, as a forger would: the signature no longer verifies.
func withKid(t *testing.T, token, kid string) string {
	t.Helper()
	header, rest, _ := strings.Cut(token, ".")
	var h map[string]any
	if b, err := base64.RawURLEncoding.DecodeString(header); err != nil || json.Unmarshal(b, &h) != nil {
		t.Fatalf("token header %q: %v", header, err)
	}
	h["kid"] = kid
	b, _ := json.Marshal(h)
	return base64.RawURLEncoding.EncodeToString(b) + "." + rest
}

// logRecorder is a slog.Handler that keeps every record, for tests that check what was logged.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	return nil
}

// find returns the records with message msg whose attribute key has a value containing value ("" matches any).
func (l *logRecorder) find(msg, key, value string) []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var found []slog.Record
	for _, r := range l.records {
		if r.Message != msg {
			continue
		}
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key && strings.Contains(a.Value.String(), value) {
				found = append(found, r)
				return false
			}
			return true
		})
	}
	return found
}

// publicJWK is key's public half as a JWKS member under kid.
func publicJWK(key *rsa.PrivateKey, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.RS256), Use: "sig"}
}

func TestColdStartBurstSharesOneKeyFetch(t *testing.T) {
	t.Parallel()
	// A scale-from-zero: many requests reach a fresh instance while its first JWKS fetch is still running.
	// Each must wait for that fetch and use its keys; none may be turned away, and the provider sees one fetch.
	const callers = 16
	synctest.Test(t, func(t *testing.T) {
		p := newKeyIssuer()
		p.serve(t, publicJWK(testKeyA(), "kid-1"))
		release := p.hold()
		a := p.auth(t, time.Now, nil)
		if _, err := a.discovery.metadata(t.Context()); err != nil {
			t.Fatal(err)
		}
		token := p.accessToken(t, time.Now(), testKeyA(), "kid-1")
		statuses := make(chan string, callers)
		for range callers {
			go func() {
				code, body := bearerStatus(a, token)
				statuses <- fmt.Sprintf("%d %s", code, body)
			}()
		}
		synctest.Wait() // every caller has either returned or is blocked on the fetch in flight
		release()
		for range callers {
			if got := strings.TrimSpace(<-statuses); got != "200 ok" {
				t.Errorf("request during the first fetch: got %s, want 200 ok", got)
			}
		}
		if n := p.fetches.Load(); n != 1 {
			t.Errorf("the provider saw %d JWKS fetches, want 1", n)
		}
	})
}

func TestKeyRotationSoonAfterAFetchIsAccepted(t *testing.T) {
	t.Parallel()
	p := newKeyIssuer()
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := p.auth(t, clock.Now, nil)
	p.serve(t, publicJWK(testKeyA(), "kid-1"))
	if got, body := bearerStatus(a, p.accessToken(t, clock.Now(), testKeyA(), "kid-1")); got != http.StatusOK {
		t.Fatalf("before the rotation: got %d %s", got, body)
	}
	clock.Advance(time.Second)
	p.serve(t, publicJWK(testKeyA(), "kid-1"), publicJWK(testKeyB(), "kid-2"))
	if got, body := bearerStatus(a, p.accessToken(t, clock.Now(), testKeyB(), "kid-2")); got != http.StatusOK {
		t.Errorf("signed with the new key 1 s after the last fetch: got %d %s, want 200", got, body)
	}
	if n := p.fetches.Load(); n != 2 {
		t.Errorf("the provider saw %d JWKS fetches, want 2", n)
	}
}

func TestFloodOfUnknownKidsCausesBoundedFetches(t *testing.T) {
	t.Parallel()
	p := newKeyIssuer()
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := p.auth(t, clock.Now, nil)
	p.serve(t, publicJWK(testKeyA(), "kid-1"))
	valid := p.accessToken(t, clock.Now(), testKeyA(), "kid-1")
	if got, body := bearerStatus(a, valid); got != http.StatusOK {
		t.Fatalf("valid token: got %d %s", got, body)
	}
	flood := func(n int) {
		t.Helper()
		for range n {
			// The key set alone, to keep 1000 verifications fast: a token naming a random kid.
			if _, err := a.keys.VerifySignature(t.Context(), withKid(t, valid, rand.Text())); err == nil {
				t.Fatal("a token naming a random kid verified")
			}
		}
	}
	flood(1000)
	if n := p.fetches.Load(); n > keyFetchBurst {
		t.Errorf("the first fetch and 1000 random kids caused %d JWKS fetches, want at most %d", n, keyFetchBurst)
	}
	for round := range 3 {
		before := p.fetches.Load()
		clock.Advance(keyFetchInterval)
		flood(100)
		if n := p.fetches.Load() - before; n != 1 {
			t.Errorf("round %d: %s later, 100 random kids caused %d fetches, want 1", round, keyFetchInterval, n)
		}
	}
	if got, body := bearerStatus(a, valid); got != http.StatusOK {
		t.Errorf("valid token after the flood: got %d %s, want 200", got, body)
	}
}

func TestKnownKidWithAnotherKey(t *testing.T) {
	t.Parallel()
	// A provider restarted and published a new key under the kid of its old one (localappid did, within one
	// second): the relying party looks at the JWKS again before refusing. A forger reusing a known kid gains
	// nothing but a bounded number of fetches.
	p := newKeyIssuer()
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := p.auth(t, clock.Now, nil)
	p.serve(t, publicJWK(testKeyA(), "kid-1"))
	if got, body := bearerStatus(a, p.accessToken(t, clock.Now(), testKeyA(), "kid-1")); got != http.StatusOK {
		t.Fatalf("before the restart: got %d %s", got, body)
	}
	clock.Advance(time.Second)
	p.serve(t, publicJWK(testKeyB(), "kid-1"))
	if got, body := bearerStatus(a, p.accessToken(t, clock.Now(), testKeyB(), "kid-1")); got != http.StatusOK {
		t.Errorf("signed by the restarted provider's key under the old kid: got %d %s, want 200", got, body)
	}
	if n := p.fetches.Load(); n != 2 {
		t.Errorf("the provider saw %d JWKS fetches, want 2 (one refetch)", n)
	}
	forged := p.accessToken(t, clock.Now(), testKeyA(), "kid-1") // the JWKS no longer holds key A
	for i := range 20 {
		if got, body := bearerStatus(a, forged); got != http.StatusUnauthorized {
			t.Fatalf("forged token %d under the known kid: got %d %s, want 401", i, got, body)
		}
	}
	if n := p.fetches.Load(); n > keyFetchBurst {
		t.Errorf("the provider saw %d JWKS fetches after 20 forged tokens, want at most %d in all", n, keyFetchBurst)
	}
	clock.Advance(keyFetchInterval)
	before := p.fetches.Load()
	for range 20 {
		bearerStatus(a, forged)
	}
	if n := p.fetches.Load() - before; n != 1 {
		t.Errorf("%s later, 20 forged tokens caused %d fetches, want 1", keyFetchInterval, n)
	}
}

func TestJWKSWithUnusableMembers(t *testing.T) {
	t.Parallel()
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	marshal := func(k jose.JSONWebKey) string {
		b, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	coordinate := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	tests := []struct {
		name, kid, member string
	}{
		{"EC key on secp256k1", "bad-k1",
			`{"kty":"EC","crv":"secp256k1","kid":"bad-k1","x":"` + coordinate + `","y":"` + coordinate + `"}`},
		{"AKP post-quantum key", "bad-akp", `{"kty":"AKP","alg":"ML-DSA-44","kid":"bad-akp","pub":"` + coordinate + `"}`},
		{"made-up kty", "bad-kty", `{"kty":"XYZ","kid":"bad-kty"}`},
		{"malformed RSA key", "bad-rsa", `{"kty":"RSA","kid":"bad-rsa","n":"!!","e":"AQAB"}`},
		{"RSA key for encryption", "bad-enc",
			marshal(jose.JSONWebKey{Key: &testKeyB().PublicKey, KeyID: "bad-enc", Use: "enc"})},
		{"RSA key for PS256", "bad-ps256",
			marshal(jose.JSONWebKey{Key: &testKeyB().PublicKey, KeyID: "bad-ps256", Algorithm: "PS256"})},
		{"EC P-256 signing key", "bad-p256", marshal(jose.JSONWebKey{Key: &ecKey.PublicKey, KeyID: "bad-p256"})},
		{"symmetric key", "bad-oct", `{"kty":"oct","kid":"bad-oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQ"}`},
		{"RSA private key", "bad-private", marshal(jose.JSONWebKey{Key: testKeyB(), KeyID: "bad-private"})},
		{"not an object", "", `"a string"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newKeyIssuer()
			clock := testkit.NewClock(time.Now().Truncate(time.Second))
			log := &logRecorder{}
			a := p.auth(t, clock.Now, slog.New(log))
			p.serveDocument([]byte(`{"keys":[` + tc.member + `,` + marshal(publicJWK(testKeyA(), "good")) + `]}`))
			if got, body := bearerStatus(a, p.accessToken(t, clock.Now(), testKeyA(), "good")); got != http.StatusOK {
				t.Errorf("token signed by the usable key: got %d %s, want 200", got, body)
			}
			// A token naming the skipped member is refused, after a second fetch.
			if got, body := bearerStatus(a, p.accessToken(t, clock.Now(), testKeyB(), tc.kid)); got != http.StatusUnauthorized {
				t.Errorf("token naming the skipped member: got %d %s, want 401", got, body)
			}
			if n := p.fetches.Load(); n != 2 {
				t.Errorf("the provider saw %d JWKS fetches, want 2", n)
			}
			if n := len(log.find("appid: keys: skipping a JWKS member", "kid", tc.kid)); n != 1 {
				t.Errorf("the skipped member was logged %d times across two fetches, want once", n)
			}
		})
	}
}

func TestJWKSWithoutAUsableKey(t *testing.T) {
	t.Parallel()
	p := newKeyIssuer()
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := p.auth(t, clock.Now, nil)
	p.serveDocument([]byte(`{"keys":[{"kty":"AKP","alg":"ML-DSA-44","kid":"pq","pub":"AAAA"},` +
		`{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}]}`))
	if got, body := bearerStatus(a, p.accessToken(t, clock.Now(), testKeyA(), "pq")); got != http.StatusServiceUnavailable {
		t.Errorf("token while the JWKS holds no usable key: got %d %s, want 503", got, body)
	}
	if err := a.Ready(t.Context()); err == nil || !strings.Contains(err.Error(), "no usable signing key") {
		t.Errorf("Ready: got %v, want an error naming the lack of a usable signing key", err)
	}
}

func TestJWKSSizeIsCapped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		members    func() []string
		usable     string // a kid whose token verifies
		skipped    string // a kid whose token is refused as unknown
		maxRecords int    // skipped-member log lines on the first fetch, at most
	}{
		{"more usable keys than kept", func() []string {
			var m []string
			for i := range maxKeys + 5 {
				b, _ := json.Marshal(publicJWK(testKeyA(), fmt.Sprintf("k-%d", i)))
				m = append(m, string(b))
			}
			return m
		}, "k-0", fmt.Sprintf("k-%d", maxKeys), 5},
		{"many unparseable members", func() []string {
			var m []string
			for i := range 3 * maxSkippedReports {
				m = append(m, fmt.Sprintf(`{"kty":"XYZ","kid":"junk-%d"}`, i))
			}
			b, _ := json.Marshal(publicJWK(testKeyA(), "good"))
			return append(m, string(b))
		}, "good", "junk-0", maxSkippedReports + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newKeyIssuer()
			clock := testkit.NewClock(time.Now().Truncate(time.Second))
			log := &logRecorder{}
			a := p.auth(t, clock.Now, slog.New(log))
			p.serveDocument([]byte(`{"keys":[` + strings.Join(tc.members(), ",") + `]}`))
			if got, body := bearerStatus(a, p.accessToken(t, clock.Now(), testKeyA(), tc.usable)); got != http.StatusOK {
				t.Errorf("token under kept kid %s: got %d %s, want 200", tc.usable, got, body)
			}
			first := len(log.records)
			if first == 0 || first > tc.maxRecords {
				t.Errorf("the first fetch logged %d lines, want 1 to %d", first, tc.maxRecords)
			}
			if got, body := bearerStatus(a, p.accessToken(t, clock.Now(), testKeyA(), tc.skipped)); got != http.StatusUnauthorized {
				t.Errorf("token under skipped kid %s: got %d %s, want 401", tc.skipped, got, body)
			}
			if p.fetches.Load() != 2 {
				t.Fatalf("the provider saw %d fetches, want 2", p.fetches.Load())
			}
			if n := len(log.records) - first; n != 0 {
				t.Errorf("the second fetch of the same JWKS logged %d lines, want none", n)
			}
		})
	}
}

// failingKeysTransport answers every JWKS request with 503, as a provider whose key endpoint is down.
type failingKeysTransport struct{}

func (failingKeysTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/publickeys") {
		return &http.Response{StatusCode: http.StatusServiceUnavailable, Body: http.NoBody, Request: req,
			Header: http.Header{}}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestCallbackWithKeysUnreachableAnswers503: a login whose tokens cannot be checked because the provider's keys
// are out of reach is the provider's failure, 503, not the tokens' (401) nor a bad answer (502).
func TestCallbackWithKeysUnreachableAnswers503(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{auth: func(c *Config) {
		c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: failingKeysTransport{}}
	}})
	b := e.newBrowser(t)
	got := b.follow(b.authorize(b.get(e.app.URL+"/auth_route"), "alice"))
	if got.status != http.StatusServiceUnavailable || !strings.Contains(got.body, "Could not verify user tokens") {
		t.Errorf("got %d %q, want 503 Could not verify user tokens", got.status, got.body)
	}
	assertNoSession(t, e, b)
}
