package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/proxy/assertion"
)

var (
	t0    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	alice = &appid.User{ID: "alice-id", Email: "alice@example.com", Name: "Alice", Roles: []string{"user"}}
)

func testSigner(t testing.TB, cfg AssertionConfig) *AssertionSigner {
	t.Helper()
	cfg.Issuer, cfg.Audience = "https://proxy.example.com", "http://backend"
	s, err := NewAssertionSigner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustSign(t testing.TB, s *AssertionSigner, u *appid.User, method, path string) string {
	t.Helper()
	tok, err := s.Sign(u, method, path)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestJWKSHandler(t *testing.T) {
	t.Parallel()
	k1, k2 := genKey(t), genKey(t)
	s := testSigner(t, AssertionConfig{Keys: []*ecdsa.PrivateKey{k1, k2, k1}})
	tests := []struct {
		method string
		code   int
		body   bool
	}{
		{"GET", 200, true}, {"HEAD", 200, false}, {"POST", 405, false},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.JWKSHandler().ServeHTTP(rec, httptest.NewRequest(tc.method, assertion.JWKSPath, nil))
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d", rec.Code, tc.code)
			}
			if tc.code != 200 {
				if rec.Header().Get("Allow") != "GET, HEAD" {
					t.Errorf("Allow = %q", rec.Header().Get("Allow"))
				}
				return
			}
			if ct, cc := rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"); ct != "application/jwk-set+json" ||
				cc != "public, max-age=300" {
				t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
			}
			if !tc.body {
				if rec.Body.Len() != 0 {
					t.Errorf("HEAD has a body")
				}
				return
			}
			var set jose.JSONWebKeySet
			if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
				t.Fatal(err)
			}
			if len(set.Keys) != 2 {
				t.Fatalf("%d keys, want 2 (duplicates merged): %s", len(set.Keys), rec.Body)
			}
			for i, want := range []*ecdsa.PrivateKey{k1, k2} {
				got := set.Keys[i]
				kid, _ := assertion.KeyID(&want.PublicKey)
				pub, ok := got.Key.(*ecdsa.PublicKey)
				if got.KeyID != kid || got.Algorithm != "ES256" || got.Use != "sig" || !ok || !pub.Equal(&want.PublicKey) {
					t.Errorf("key %d = %+v, want kid %s, ES256, sig and the public key", i, got, kid)
				}
			}
			if strings.Contains(rec.Body.String(), `"d"`) {
				t.Errorf("JWK set holds a private part: %s", rec.Body)
			}
		})
	}
}

func TestSignReusesAssertionForHalfItsLifetime(t *testing.T) {
	t.Parallel()
	var now atomic.Int64
	now.Store(t0.UnixNano())
	s := testSigner(t, AssertionConfig{Now: func() time.Time { return time.Unix(0, now.Load()) }})
	first := mustSign(t, s, alice, "GET", "/a")
	now.Add(int64(29 * time.Second))
	if got := mustSign(t, s, alice, "GET", "/a"); got != first {
		t.Error("a new assertion within half the lifetime, want the same one")
	}
	for _, tc := range []struct {
		name         string
		u            *appid.User
		method, path string
	}{
		{"other path", alice, "GET", "/b"},
		{"other method", alice, "POST", "/a"},
		{"other roles", &appid.User{ID: alice.ID, Email: alice.Email, Name: alice.Name, Roles: []string{"admin"}}, "GET", "/a"},
		{"other user", &appid.User{ID: "bob"}, "GET", "/a"},
		{"fields shifted", &appid.User{ID: alice.ID, Email: "", Name: alice.Email, Roles: alice.Roles}, "GET", "/a"},
	} {
		if got := mustSign(t, s, tc.u, tc.method, tc.path); got == first {
			t.Errorf("%s: got the cached assertion", tc.name)
		}
	}
	now.Add(int64(time.Second))
	if got := mustSign(t, s, alice, "GET", "/a"); got == first {
		t.Error("the same assertion after half its lifetime, want a new one")
	}
}

func TestSignRefuses(t *testing.T) {
	t.Parallel()
	s := testSigner(t, AssertionConfig{})
	for _, u := range []*appid.User{nil, {Email: "no-id@example.com"}} {
		if _, err := s.Sign(u, "GET", "/"); err == nil || !strings.HasPrefix(err.Error(), "proxy: ") {
			t.Errorf("Sign(%v): %v, want a proxy: error", u, err)
		}
	}
	for _, cfg := range []AssertionConfig{
		{Audience: "a"}, {Issuer: "i"}, {Issuer: "i", Audience: "a", Lifetime: time.Second},
		{Issuer: "i", Audience: "a", Lifetime: time.Hour},
		{Issuer: "i", Audience: "a", Keys: []*ecdsa.PrivateKey{nil}},
	} {
		if _, err := NewAssertionSigner(cfg); err == nil || !strings.HasPrefix(err.Error(), "proxy: ") {
			t.Errorf("NewAssertionSigner(%+v): %v, want a proxy: error", cfg, err)
		}
	}
}

func genKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseAssertionKeys(t *testing.T) {
	t.Parallel()
	k1, k2 := genKey(t), genKey(t)
	p8, _ := x509.MarshalPKCS8PrivateKey(k1)
	sec1, _ := x509.MarshalECPrivateKey(k2)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	block := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	params := block("EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07})

	tests := []struct {
		name string
		pem  string
		want []*ecdsa.PrivateKey
		err  string
	}{
		{"PKCS #8", block("PRIVATE KEY", p8), []*ecdsa.PrivateKey{k1}, ""},
		{"openssl ecparam -genkey", params + block("EC PRIVATE KEY", sec1), []*ecdsa.PrivateKey{k2}, ""},
		{"two keys, in order", block("EC PRIVATE KEY", sec1) + block("PRIVATE KEY", p8), []*ecdsa.PrivateKey{k2, k1}, ""},
		{"P-384", block("PRIVATE KEY", p384DER), nil, "not a P-256"},
		{"RSA", block("PRIVATE KEY", rsaDER), nil, "not a P-256"},
		{"corrupt", block("PRIVATE KEY", []byte("junk")), nil, "block 1"},
		{"empty", "", nil, "no EC private key"},
		{"public key only", block("PUBLIC KEY", []byte("x")), nil, "no EC private key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAssertionKeys([]byte(tc.pem))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, want an error mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d keys, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !got[i].Equal(tc.want[i]) {
					t.Errorf("key %d differs", i)
				}
			}
		})
	}
}

func TestDeriveAssertionKeys(t *testing.T) {
	t.Parallel()
	a := []byte("0123456789abcdef-session-key-one")
	b := []byte("0123456789abcdef-session-key-two")
	k1, err := DeriveAssertionKeys(a, b)
	if err != nil {
		t.Fatal(err)
	}
	k2, _ := DeriveAssertionKeys(a, b)
	if len(k1) != 2 || !k1[0].Equal(k2[0]) || !k1[1].Equal(k2[1]) {
		t.Fatal("the same secrets derived different keys")
	}
	if k1[0].Equal(k1[1]) {
		t.Fatal("two secrets derived the same key")
	}
	// Keys are usable: a signature verifies.
	digest := make([]byte, 32)
	sig, err := ecdsa.SignASN1(rand.Reader, k1[0], digest)
	if err != nil || !ecdsa.VerifyASN1(&k1[0].PublicKey, digest, sig) {
		t.Fatalf("derived key does not sign: %v", err)
	}
	for _, bad := range [][][]byte{nil, {[]byte("short")}} {
		if _, err := DeriveAssertionKeys(bad...); err == nil || !strings.HasPrefix(err.Error(), "proxy: ") {
			t.Errorf("DeriveAssertionKeys(%q): %v, want a proxy: error", bad, err)
		}
	}
}

// TestReplicasBehindALoadBalancer runs three proxy replicas and an upstream verifier that fetches the JWK set
// through a round-robin load balancer, as on Code Engine: with keys derived from the shared session secret
// every replica's assertion verifies; with keys generated per replica some do not.
func TestReplicasBehindALoadBalancer(t *testing.T) {
	t.Parallel()
	secret := []byte("shared-session-secret-0123456789")
	for _, tc := range []struct {
		name   string
		keys   func() []*ecdsa.PrivateKey
		wantOK bool
	}{
		{"derived from the session secret", func() []*ecdsa.PrivateKey {
			k, err := DeriveAssertionKeys(secret)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}, true},
		{"generated per replica", func() []*ecdsa.PrivateKey { return nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var replicas []*AssertionSigner
			for range 3 {
				replicas = append(replicas, testSigner(t, AssertionConfig{Keys: tc.keys()}))
			}
			var next atomic.Int32
			lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				replicas[int(next.Add(1))%len(replicas)].JWKSHandler().ServeHTTP(w, r)
			}))
			defer lb.Close()
			v, err := assertion.NewVerifier(assertion.Config{
				JWKSURL: lb.URL + assertion.JWKSPath, Issuer: "https://proxy.example.com", Audience: "http://backend",
			})
			if err != nil {
				t.Fatal(err)
			}
			allOK := true
			for i, s := range replicas {
				r := httptest.NewRequest("GET", "/x", nil)
				r.Header.Set(assertion.Header, mustSign(t, s, alice, "GET", "/x"))
				if _, err := v.Verify(r); err != nil {
					allOK = false
					t.Logf("replica %d: %v", i, err)
				}
			}
			if allOK != tc.wantOK {
				t.Fatalf("all replicas verified: %v, want %v", allOK, tc.wantOK)
			}
		})
	}
}

// BenchmarkSign measures signing a fresh assertion (every path new, so the cache never hits) and reusing one.
func BenchmarkSign(b *testing.B) {
	u := &appid.User{ID: "a1b2-c3", Email: "alice@example.com", Name: "Alice Smith", Roles: []string{"user", "admin"},
		Scopes: []string{"app/view"}}
	b.Run("fresh", func(b *testing.B) {
		s := testSigner(b, AssertionConfig{})
		paths := make([]string, 8192)
		for i := range paths {
			paths[i] = fmt.Sprintf("/orders/%d", i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			mustSign(b, s, u, "GET", paths[i%len(paths)])
			i++
		}
	})
	b.Run("reused", func(b *testing.B) {
		s := testSigner(b, AssertionConfig{})
		mustSign(b, s, u, "GET", "/orders")
		b.ReportAllocs()
		for b.Loop() {
			mustSign(b, s, u, "GET", "/orders")
		}
	})
	b.Run("reused-parallel", func(b *testing.B) {
		s := testSigner(b, AssertionConfig{})
		mustSign(b, s, u, "GET", "/orders")
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mustSign(b, s, u, "GET", "/orders")
			}
		})
	})
}
