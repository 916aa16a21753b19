package localappidtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/localappid/localappidtest"
)

var keys localappidtest.Keys

// TestStart: a started provider serves App ID's discovery document on its own origin, signs alice in through its
// login form, and is gone once its test has ended.
func TestStart(t *testing.T) {
	var base string
	t.Run("running", func(t *testing.T) {
		idp := localappidtest.Start(t, localappid.Config{}, &keys)
		base = idp.URL()
		p := idp.Provider()
		resp, err := http.Get(p.OAuthServerURL() + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Issuer string `json:"issuer"`
		}
		err = json.NewDecoder(resp.Body).Decode(&meta)
		resp.Body.Close()
		if err != nil || meta.Issuer != p.OAuthServerURL() {
			t.Fatalf("discovery: %v, issuer %q, want %q", err, meta.Issuer, p.OAuthServerURL())
		}

		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		authorize := p.OAuthServerURL() + "/authorization?" + url.Values{
			"client_id": {localappid.DemoClientID}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"http://localhost:5000/afterauth"}, "state": {"s1"}}.Encode()
		resp, err = client.Get(authorize)
		if err != nil {
			t.Fatal(err)
		}
		page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		pageURL, _ := url.Parse(authorize)
		req, err := localappidtest.LoginRequest(string(page), pageURL, "alice", "alice")
		if err != nil {
			t.Fatal(err)
		}
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound ||
			!strings.HasPrefix(loc, "http://localhost:5000/afterauth?") || !strings.Contains(loc, "code=") {
			t.Fatalf("alice's sign-in: %d, Location %q", resp.StatusCode, loc)
		}
	})
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Errorf("the provider at %s still answers after its test ended", base)
	}
}
