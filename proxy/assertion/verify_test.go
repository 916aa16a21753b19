package assertion_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

const (
	issuer   = "https://proxy.example.com"
	audience = "http://backend.svc.cluster.local"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var alice = &appid.User{
	ID: "alice-id", Email: "alice@example.com", Name: "Alice Zoë", Roles: []string{"user", "admin"},
	Scopes: []string{"app/view"},
}

// clock is a settable time source, safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()) }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) {
	c.ns.Add(int64(d))
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSigner(t testing.TB, cfg proxy.AssertionConfig) *proxy.AssertionSigner {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = issuer
	}
	if cfg.Audience == "" {
		cfg.Audience = audience
	}
	s, err := proxy.NewAssertionSigner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sign(t testing.TB, s *proxy.AssertionSigner, method, path string) string {
	t.Helper()
	tok, err := s.Sign(alice, method, path)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// jwksServer serves whatever handler holds and counts the requests it answers.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	handler http.Handler
	fetches atomic.Int32
}

func newJWKSServer(t testing.TB, h http.Handler) *jwksServer {
	t.Helper()
	s := &jwksServer{handler: h}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		h := s.handler
		s.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(h http.Handler) { s.mu.Lock(); s.handler = h; s.mu.Unlock() }

func newVerifier(t testing.TB, cfg assertion.Config) *assertion.Verifier {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = issuer
	}
	if cfg.Audience == "" {
		cfg.Audience = audience
	}
	v, err := assertion.NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func request(method, path string, tokens ...string) *http.Request {
	r := httptest.NewRequest(method, "http://backend.svc.cluster.local"+path, nil)
	for _, tok := range tokens {
		r.Header.Add(assertion.Header, tok)
	}
	return r
}

// craft signs claims with key as alg, with the given header fields, bypassing the proxy's signer.
func craft(t *testing.T, alg jose.SignatureAlgorithm, key any, kid, typ string, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// goodClaims are valid claims for GET /orders at t0.
func goodClaims() map[string]any {
	return map[string]any{
		"iss": issuer, "aud": audience, "sub": "alice-id", "iat": t0.Unix(), "exp": t0.Add(time.Minute).Unix(),
		"jti": "x", "htm": "GET", "htu": "/orders",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
		} else {
			m[kv[i].(string)] = kv[i+1]
		}
	}
	return m
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	s := newSigner(t, proxy.AssertionConfig{Now: clk.now})
	srv := newJWKSServer(t, s.JWKSHandler())
	v := newVerifier(t, assertion.Config{JWKSURL: srv.URL + assertion.JWKSPath, Now: clk.now})

	id, err := v.Verify(request("POST", "/orders/7", sign(t, s, "POST", "/orders/7")))
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != alice.ID || id.Email != alice.Email || id.Name != alice.Name ||
		!slices.Equal(id.Roles, alice.Roles) || !slices.Equal(id.Scopes, alice.Scopes) {
		t.Errorf("identity %+v does not match %+v", id, alice)
	}
	if !id.IssuedAt.Equal(t0) || !id.ExpiresAt.Equal(t0.Add(proxy.DefaultAssertionLifetime)) || id.ID == "" {
		t.Errorf("iat %v exp %v jti %q, want %v, %v and an id", id.IssuedAt, id.ExpiresAt, id.ID, t0,
			t0.Add(proxy.DefaultAssertionLifetime))
	}
	if !id.HasRole("admin") || id.HasRole("root") || !id.HasScope("view") || !id.HasScope("app/view") ||
		id.HasScope("other/view") {
		t.Errorf("HasRole/HasScope disagree with roles %v scopes %v", id.Roles, id.Scopes)
	}
	// A decoded path with an encoded slash: the upstream sees /a/b, as the proxy signed it.
	r := httptest.NewRequest("GET", "http://backend/a%2Fb", nil)
	r.Header.Set(assertion.Header, sign(t, s, "GET", "/a/b"))
	if _, err := v.Verify(r); err != nil {
		t.Errorf("encoded path: %v", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	key := newKey(t)
	kid, _ := assertion.KeyID(&key.PublicKey)
	s := newSigner(t, proxy.AssertionConfig{Keys: []*ecdsa.PrivateKey{key}, Now: clk.now})
	other := newKey(t)
	otherKid, _ := assertion.KeyID(&other.PublicKey)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	jwkJSON, _ := json.Marshal(jose.JSONWebKey{Key: &key.PublicKey, KeyID: kid})
	v := newVerifier(t, assertion.Config{Keys: []*ecdsa.PublicKey{&key.PublicKey}, Now: clk.now})

	good := sign(t, s, "GET", "/orders")
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tamperedPayload := b64(strings.Replace(string(payload), `"alice-id"`, `"admin-id"`, 1))
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[5] ^= 1
	signerAt := func(at time.Time, c proxy.AssertionConfig) *proxy.AssertionSigner {
		c.Keys, c.Now = []*ecdsa.PrivateKey{key}, func() time.Time { return at }
		return newSigner(t, c)
	}

	tests := []struct {
		name   string
		r      *http.Request
		reason string
	}{
		{"missing", request("GET", "/orders"), "no X-Appidgate-Assertion"},
		{"empty", request("GET", "/orders", ""), "no X-Appidgate-Assertion"},
		{"twice", request("GET", "/orders", good, good), "want one"},
		{"garbage", request("GET", "/orders", "not.a.jwt"), "not an ES256 JWT"},
		{"alg none", request("GET", "/orders",
			b64(`{"alg":"none","typ":"`+assertion.Type+`","kid":"`+kid+`"}`)+"."+parts[1]+"."), "not an ES256 JWT"},
		{"HS256 with the public key PEM", request("GET", "/orders",
			craft(t, jose.HS256, pubPEM, kid, assertion.Type, goodClaims())), "not an ES256 JWT"},
		{"HS256 with the public JWK", request("GET", "/orders",
			craft(t, jose.HS256, jwkJSON, kid, assertion.Type, goodClaims())), "not an ES256 JWT"},
		{"RS256", request("GET", "/orders",
			craft(t, jose.RS256, rsaKey, kid, assertion.Type, goodClaims())), "not an ES256 JWT"},
		{"ES256 header on a forged signature", request("GET", "/orders",
			parts[0]+"."+parts[1]+"."+b64(string(sig))), "bad signature"},
		{"tampered payload", request("GET", "/orders", parts[0]+"."+tamperedPayload+"."+parts[2]), "bad signature"},
		{"another key, its own kid", request("GET", "/orders",
			craft(t, jose.ES256, other, otherKid, assertion.Type, goodClaims())), "unknown key"},
		{"another key, our kid", request("GET", "/orders",
			craft(t, jose.ES256, other, kid, assertion.Type, goodClaims())), "bad signature"},
		{"no kid", request("GET", "/orders", craft(t, jose.ES256, key, "", assertion.Type, goodClaims())), "no kid"},
		{"typ JWT", request("GET", "/orders", craft(t, jose.ES256, key, kid, "JWT", goodClaims())), "typ"},
		{"no typ", request("GET", "/orders", craft(t, jose.ES256, key, kid, "", goodClaims())), "typ"},
		{"wrong issuer", request("GET", "/orders",
			sign(t, signerAt(t0, proxy.AssertionConfig{Issuer: "https://evil.example.com"}), "GET", "/orders")),
			"different proxy"},
		{"wrong audience", request("GET", "/orders",
			sign(t, signerAt(t0, proxy.AssertionConfig{Audience: "http://other-app"}), "GET", "/orders")),
			"different audience"},
		{"expired", request("GET", "/orders",
			sign(t, signerAt(t0.Add(-71*time.Second), proxy.AssertionConfig{}), "GET", "/orders")), "expired"},
		{"issued in the future", request("GET", "/orders",
			sign(t, signerAt(t0.Add(11*time.Second), proxy.AssertionConfig{}), "GET", "/orders")), "future"},
		{"not yet valid", request("GET", "/orders",
			craft(t, jose.ES256, key, kid, assertion.Type, with(goodClaims(), "nbf", t0.Add(time.Hour).Unix()))),
			"not valid before"},
		{"lifetime too long", request("GET", "/orders",
			craft(t, jose.ES256, key, kid, assertion.Type, with(goodClaims(), "exp", t0.Add(time.Hour).Unix()))),
			"lifetime"},
		{"no exp", request("GET", "/orders",
			craft(t, jose.ES256, key, kid, assertion.Type, with(goodClaims(), "exp", nil))), "required"},
		{"no iat", request("GET", "/orders",
			craft(t, jose.ES256, key, kid, assertion.Type, with(goodClaims(), "iat", nil))), "required"},
		{"no sub", request("GET", "/orders",
			craft(t, jose.ES256, key, kid, assertion.Type, with(goodClaims(), "sub", ""))), "no sub"},
		{"wrong method", request("DELETE", "/orders", good), "method"},
		{"wrong path", request("GET", "/admin", good), "path"},
		{"trailing slash", request("GET", "/orders/", good), "path"},
		{"no htm/htu", request("GET", "/orders",
			craft(t, jose.ES256, key, kid, assertion.Type, with(goodClaims(), "htm", nil, "htu", nil))), "method"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := v.Verify(tc.r)
			if err == nil {
				t.Fatalf("accepted: %+v", id)
			}
			if !strings.Contains(err.Error(), tc.reason) || !strings.HasPrefix(err.Error(), "assertion: ") {
				t.Fatalf("error %q, want one starting with \"assertion: \" and mentioning %q", err, tc.reason)
			}
		})
	}
	if _, err := v.Verify(request("GET", "/orders")); !errors.Is(err, assertion.ErrNoAssertion) {
		t.Errorf("missing header: %v, want ErrNoAssertion", err)
	}
	// The good assertion passes, with the skew either way, so that the refusals above are for their reason.
	for _, at := range []time.Time{t0, t0.Add(-9 * time.Second), t0.Add(69 * time.Second)} {
		clk.set(at)
		if _, err := v.Verify(request("GET", "/orders", good)); err != nil {
			t.Errorf("at %v: %v", at, err)
		}
	}
	clk.set(t0.Add(71 * time.Second)) // the good assertion was checked before: still refused once expired
	if _, err := v.Verify(request("GET", "/orders", good)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("a checked assertion after its expiry: %v, want expired", err)
	}
	clk.set(t0)
	if _, err := v.Verify(request("GET", "/orders",
		craft(t, jose.ES256, key, kid, assertion.Type, with(goodClaims(), "aud", []string{"x", audience})))); err != nil {
		t.Errorf("aud as an array holding the audience: %v", err)
	}
}

func TestVerifierRefetchesOnUnknownKidRateLimited(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	a := newSigner(t, proxy.AssertionConfig{Keys: []*ecdsa.PrivateKey{newKey(t)}, Now: clk.now})
	bKey, aKeyForB := newKey(t), newKey(t)
	b := newSigner(t, proxy.AssertionConfig{Keys: []*ecdsa.PrivateKey{bKey, aKeyForB}, Now: clk.now})
	srv := newJWKSServer(t, a.JWKSHandler())
	v := newVerifier(t, assertion.Config{JWKSURL: srv.URL + assertion.JWKSPath, Now: clk.now})

	check := func(s *proxy.AssertionSigner, wantOK bool, wantFetches int32) {
		t.Helper()
		_, err := v.Verify(request("GET", "/", sign(t, s, "GET", "/")))
		if (err == nil) != wantOK {
			t.Fatalf("Verify: %v, want ok=%v", err, wantOK)
		}
		if n := srv.fetches.Load(); n != wantFetches {
			t.Fatalf("%d JWKS fetches, want %d", n, wantFetches)
		}
	}
	check(a, true, 1)
	check(a, true, 1) // cached
	srv.serve(b.JWKSHandler())
	check(b, false, 1) // unknown kid, but the last fetch was under 10 s ago
	check(b, false, 1)
	clk.add(10 * time.Second)
	check(b, true, 2) // refetched
	check(b, true, 2)
	check(a, false, 2) // a's key is no longer published, and no fetch within 10 s
	clk.add(11 * time.Minute)
	srv.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }))
	check(b, true, 3) // keys too old: refetched, failed, the known keys kept
	check(b, true, 3)
}

func TestVerifierOneFetchForConcurrentRequests(t *testing.T) {
	t.Parallel()
	s := newSigner(t, proxy.AssertionConfig{})
	release := make(chan struct{})
	srv := newJWKSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		s.JWKSHandler().ServeHTTP(w, r)
	}))
	v := newVerifier(t, assertion.Config{JWKSURL: srv.URL})
	tok := sign(t, s, "GET", "/")
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := v.Verify(request("GET", "/", tok))
			errs <- err
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches for 20 concurrent requests, want 1", n)
	}
}

func TestVerifierWaitingRequestGivesUp(t *testing.T) {
	t.Parallel()
	s := newSigner(t, proxy.AssertionConfig{})
	release := make(chan struct{})
	defer close(release)
	srv := newJWKSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	v := newVerifier(t, assertion.Config{JWKSURL: srv.URL})
	tok := sign(t, s, "GET", "/")
	go v.Verify(request("GET", "/", tok)) // starts the fetch
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := v.Verify(request("GET", "/", tok).WithContext(ctx)); err == nil ||
		!strings.Contains(err.Error(), "waiting for the JWK set") {
		t.Fatalf("got %v, want the waiting request to give up with its context", err)
	}
}

func TestVerifierBadJWKS(t *testing.T) {
	t.Parallel()
	s := newSigner(t, proxy.AssertionConfig{})
	tok := sign(t, s, "GET", "/")
	big := `{"keys":[` + strings.Repeat(" ", 1<<20) + `]}`
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaJWK, _ := json.Marshal(jose.JSONWebKey{Key: &rsaKey.PublicKey, KeyID: "r", Use: "sig"})
	tests := []struct{ name, body, reason string }{
		{"too large", big, "larger than"},
		{"not JSON", "<html>", "JWK set"},
		{"no EC key", `{"keys":[` + string(rsaJWK) + `,{"kty":"oct","k":"c2VjcmV0","kid":"h"}]}`, "no ES256 key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newJWKSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io := strings.NewReader(tc.body)
				io.WriteTo(w)
			}))
			v := newVerifier(t, assertion.Config{JWKSURL: srv.URL})
			if _, err := v.Verify(request("GET", "/", tok)); err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got %v, want an error mentioning %q", err, tc.reason)
			}
		})
	}
	// Members the verifier cannot use are skipped, not fatal.
	good := newJWKSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		s.JWKSHandler().ServeHTTP(rec, r)
		w.Write([]byte(`{"keys":[` + string(rsaJWK) + `,{"kty":"weird"},` +
			strings.TrimSuffix(strings.TrimPrefix(rec.Body.String(), `{"keys":[`), `]}`) + `]}`))
	}))
	v := newVerifier(t, assertion.Config{JWKSURL: good.URL})
	if _, err := v.Verify(request("GET", "/", tok)); err != nil {
		t.Fatalf("JWK set with unusable members: %v", err)
	}
}

func TestNewVerifierRefusesIncompleteConfig(t *testing.T) {
	t.Parallel()
	key := &newKey(t).PublicKey
	tests := []struct {
		name string
		cfg  assertion.Config
	}{
		{"no issuer", assertion.Config{Audience: audience, JWKSURL: "https://x/jwks"}},
		{"no audience", assertion.Config{Issuer: issuer, JWKSURL: "https://x/jwks"}},
		{"no keys", assertion.Config{Issuer: issuer, Audience: audience}},
		{"both", assertion.Config{Issuer: issuer, Audience: audience, JWKSURL: "https://x/j", Keys: []*ecdsa.PublicKey{key}}},
		{"bad URL", assertion.Config{Issuer: issuer, Audience: audience, JWKSURL: "file:///etc/passwd"}},
		{"skew", assertion.Config{Issuer: issuer, Audience: audience, JWKSURL: "https://x/j", ClockSkew: time.Hour}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := assertion.NewVerifier(tc.cfg); err == nil || !strings.HasPrefix(err.Error(), "assertion: ") {
				t.Fatalf("got %v, want an assertion: error", err)
			}
		})
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	s := newSigner(t, proxy.AssertionConfig{})
	srv := newJWKSServer(t, s.JWKSHandler())
	v := newVerifier(t, assertion.Config{JWKSURL: srv.URL})
	h := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := assertion.IdentityFrom(r.Context())
		if !ok {
			t.Error("no identity in the context")
			return
		}
		w.Write([]byte("hello " + id.Subject))
	}))
	tests := []struct {
		name string
		r    *http.Request
		code int
		body string
	}{
		{"valid", request("GET", "/x", sign(t, s, "GET", "/x")), 200, "hello alice-id"},
		{"missing", request("GET", "/x"), 401, "401 Unauthorized"},
		{"other path", request("GET", "/y", sign(t, s, "GET", "/x")), 401, "401 Unauthorized"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, tc.r)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.body) {
				t.Fatalf("got %d %q, want %d %q", rec.Code, rec.Body, tc.code, tc.body)
			}
		})
	}
	if _, ok := assertion.IdentityFrom(context.Background()); ok {
		t.Error("IdentityFrom found an identity in an empty context")
	}
}

// BenchmarkVerify measures checking a new assertion (its signature included) and one checked before, as
// when the proxy reuses an assertion.
func BenchmarkVerify(b *testing.B) {
	s := newSigner(b, proxy.AssertionConfig{})
	srv := newJWKSServer(b, s.JWKSHandler())
	b.Run("new", func(b *testing.B) {
		v := newVerifier(b, assertion.Config{JWKSURL: srv.URL})
		reqs := make([]*http.Request, 512)
		for i := range reqs {
			p := "/orders/" + strconv.Itoa(i)
			reqs[i] = request("GET", p, sign(b, s, "GET", p))
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if i%len(reqs) == 0 {
				v = newVerifier(b, assertion.Config{Keys: []*ecdsa.PublicKey{publicKey(b, srv.URL)}})
			}
			if _, err := v.Verify(reqs[i%len(reqs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("checked-before", func(b *testing.B) {
		v := newVerifier(b, assertion.Config{JWKSURL: srv.URL})
		r := request("GET", "/orders", sign(b, s, "GET", "/orders"))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// publicKey fetches the one key of the JWK set at url.
func publicKey(b *testing.B, url string) *ecdsa.PublicKey {
	b.Helper()
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) != 1 {
		b.Fatalf("JWK set: %v", err)
	}
	return set.Keys[0].Key.(*ecdsa.PublicKey)
}
