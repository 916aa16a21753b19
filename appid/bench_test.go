package appid

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark measures Check alone.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkCheckValidSession measures one request with a valid cookie session through Check: find the cookie,
// find the session decoded from it before, check its times and that it was not logged out, evaluate the policy,
// put the user in the context. Target (issue 7): ≤ 1 µs, ≤ 3 allocs. The "first sight" case measures a cookie
// not seen before, which is decrypted and decoded.
func BenchmarkCheckValidSession(b *testing.B) {
	e := newTestEnv(b, envOption{})
	br := e.newBrowser(b)
	if got := br.login(e, "/auth_route", "alice"); got.status != http.StatusOK {
		b.Fatalf("login: %d", got.status)
	}
	e.auth.observer = nopObserver{} // the test observer's bookkeeping would dominate
	u, _ := url.Parse(e.app.URL)
	req := httptest.NewRequest(http.MethodGet, "/auth_route", nil)
	for _, c := range br.client.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	var served int
	h := e.auth.Check(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := UserFrom(r.Context()); ok {
			served++
		}
	}))
	w := &discardWriter{h: http.Header{}}
	b.Run("cached", func(b *testing.B) {
		served = 0
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, req)
		}
		if served == 0 {
			b.Fatal("Check never admitted the session")
		}
	})
	b.Run("first sight", func(b *testing.B) {
		served = 0
		key, _ := e.auth.sessions.cacheKeys.CacheKey(req)
		b.ReportAllocs()
		for b.Loop() {
			e.auth.sessions.verified.Remove(key)
			h.ServeHTTP(w, req)
		}
		if served == 0 {
			b.Fatal("Check never admitted the session")
		}
	})
}
