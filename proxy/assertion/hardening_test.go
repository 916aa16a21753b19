package assertion_test

// The identity Verify returns is the caller's own.

import (
	"net/http/httptest"
	"testing"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// TestHardeningIdentityAliasesCache: Verify hands every request the same Roles slice, cached with the checked
// assertion; a handler that edits its identity's roles edits what the next request with that assertion gets.
func TestHardeningIdentityAliasesCache(t *testing.T) {
	t.Parallel()
	s, err := proxy.NewAssertionSigner(proxy.AssertionConfig{Issuer: "https://p", Audience: "http://u"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := s.Sign(&appid.User{ID: "alice", Roles: []string{"user"}}, "GET", "/x")
	if err != nil {
		t.Fatal(err)
	}
	set := httptest.NewRecorder()
	s.JWKSHandler().ServeHTTP(set, httptest.NewRequest("GET", assertion.JWKSPath, nil))
	srv := httptest.NewServer(s.JWKSHandler())
	defer srv.Close()
	v, err := assertion.NewVerifier(assertion.Config{JWKSURL: srv.URL, Issuer: "https://p", Audience: "http://u"})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set(assertion.Header, tok)
	id1, err := v.Verify(r)
	if err != nil {
		t.Fatal(err)
	}
	id1.Roles[0] = "admin" // e.g. a handler normalising role names in place
	id2, _ := v.Verify(r)
	if id2.HasRole("admin") {
		t.Errorf("the second request's identity has role admin: %v", id2.Roles)
	}
}
