package appid

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestVerifiedBearerTokensStillExpire: a bearer token verified once is answered from memory afterwards, but
// never past its expiry, and a token that differs in one byte is verified on its own.
func TestVerifiedBearerTokensStillExpire(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{})
	token := accessTokenFor(t, e, "alice")
	call := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, e.app.URL+"/api/data", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return e.newBrowser(t).do(req).status
	}
	for range 2 {
		if got := call(token); got != http.StatusOK {
			t.Fatalf("a valid token: %d, want 200", got)
		}
	}
	tampered := token[:len(token)-2] + "AA"
	if tampered == token {
		tampered = token[:len(token)-2] + "BB"
	}
	if got := call(tampered); got != http.StatusUnauthorized {
		t.Errorf("the token with its signature changed: %d, want 401", got)
	}
	e.clock.Advance(2 * time.Hour)
	if got := call(token); got != http.StatusUnauthorized {
		t.Errorf("the token after its expiry: %d, want 401", got)
	}
}

// BenchmarkRequireBearer measures an API request with a valid bearer token, verified before.
func BenchmarkRequireBearer(b *testing.B) {
	e := newTestEnv(b, envOption{})
	e.auth.observer = nopObserver{}
	token := accessTokenFor(b, e, "alice")
	var served int
	h := e.auth.RequireBearer(Scope("view"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
	}))
	req := httptest.NewRequest(http.MethodGet, "/api/data", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
	if served == 0 {
		b.Fatal("RequireBearer never admitted the token")
	}
}
