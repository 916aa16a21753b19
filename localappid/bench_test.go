package localappid_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
)

// BenchmarkTokenCodeExchange measures the token endpoint redeeming a PKCE-bound code (client auth, code lookup,
// PKCE check, two RS256 signatures, refresh token), in-process through ServeHTTP. Codes are made outside the timer.
func BenchmarkTokenCodeExchange(b *testing.B) {
	cfg := testConfig(newClock())
	cfg.BaseURL = "http://idp.test"
	cfg.StoreLimit = 1 << 30 // the clock stands still, so codes and refresh tokens never expire here
	p, err := localappid.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	verifier, challenge := pkce()
	const batch = 1024
	bodies := make([]string, 0, batch)
	refill := func() {
		bodies = bodies[:0]
		for range batch {
			code := p.IssueCodeForTest(localappid.DemoClientID, appRedirect, localappid.AliceID, "openid", "n", challenge)
			bodies = append(bodies, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect}, "code_verifier": {verifier}}.Encode())
		}
	}
	tokenURL := p.OAuthServerURL() + "/token"
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%batch == 0 {
			b.StopTimer()
			refill()
			b.StartTimer()
		}
		req := httptest.NewRequest(http.MethodPost, tokenURL, strings.NewReader(bodies[i%batch]))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(localappid.DemoClientID, localappid.DemoClientSecret)
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkCodeStoreAtCap measures refusing a code when the store is full of live codes: it must stay cheap (no
// scan of the store per refusal), since that is what a flood of /authorization requests costs once at the cap.
func BenchmarkCodeStoreAtCap(b *testing.B) {
	cfg := testConfig(newClock())
	p, err := localappid.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for range localappid.DefaultStoreLimit {
		p.IssueCodeForTest(localappid.DemoClientID, appRedirect, localappid.AliceID, "openid", "", "")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if code := p.IssueCodeForTest(localappid.DemoClientID, appRedirect, localappid.AliceID, "openid", "", ""); code != "" {
			b.Fatal("a code was issued past the cap")
		}
	}
}
