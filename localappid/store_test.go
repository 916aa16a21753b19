package localappid_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/localappid"
)

// TestAuthorizationFloodIsCapped: 20,000 GET /authorization from one browser hold at most DefaultStoreLimit codes;
// past the cap the client hears temporarily_unavailable, codes issued earlier still work, and room comes back as
// codes expire. Without a login session the requests store nothing at all (the form's CSRF token is stateless).
func TestAuthorizationFloodIsCapped(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 22,000 authorization requests; skipped with -short")
	}
	t.Parallel()
	// A thousand past the cap shows it holds; a bigger flood only takes longer.
	const requests = localappid.DefaultStoreLimit + 1_000
	for _, tc := range []struct {
		name     string
		loggedIn bool
		// wantCodes is how many of the requests get a code: the login that made the session took one place.
		wantCodes int
	}{
		{"with a login session", true, localappid.DefaultStoreLimit - 1},
		{"without a login session", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			var cookies []*http.Cookie
			if tc.loggedIn {
				c := browser(t)
				login(t, f, c, authParams(appRedirect, ""), "alice", "alice")
				u, _ := url.Parse(f.iss + "/authorization")
				cookies = c.Jar.Cookies(u)
			}
			authorize := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, f.iss+"/authorization?"+authParams(appRedirect, "").Encode(), nil)
				for _, c := range cookies {
					req.AddCookie(c)
				}
				rec := httptest.NewRecorder()
				f.p.ServeHTTP(rec, req)
				return rec
			}
			var firstCode string
			codes, refused := 0, 0
			for range requests {
				rec := authorize()
				loc, _ := url.Parse(rec.Header().Get("Location"))
				switch q := loc.Query(); {
				case q.Get("code") != "":
					codes++
					if firstCode == "" {
						firstCode = q.Get("code")
					}
				case q.Get("error") == "temporarily_unavailable":
					refused++
				case rec.Code != http.StatusOK:
					t.Fatalf("unexpected answer %d Location %q", rec.Code, loc)
				}
			}
			if codes != tc.wantCodes || (tc.loggedIn && refused != requests-codes) {
				t.Fatalf("%d codes issued, %d refused; want %d issued and the rest refused", codes, refused, tc.wantCodes)
			}
			wantStored := tc.wantCodes
			if tc.loggedIn {
				wantStored++
			}
			if got := f.p.StoreSizesForTest()["codes"]; got > localappid.DefaultStoreLimit || got != wantStored {
				t.Fatalf("code store holds %d, want %d (cap %d)", got, wantStored, localappid.DefaultStoreLimit)
			}
			if !tc.loggedIn {
				return
			}
			if r := exchange(t, f, firstCode, ""); r.status != http.StatusOK {
				t.Fatalf("a code issued before the cap was reached: %d %s, want 200 (live codes are never evicted)", r.status, r.body)
			}
			f.clock.Advance(localappid.DefaultCodeTTL + time.Second)
			if loc := authorize().Header().Get("Location"); !strings.Contains(loc, "code=") {
				t.Fatalf("after the codes expired: Location %q, want a new code", loc)
			}
			if got := f.p.StoreSizesForTest()["codes"]; got != 1 {
				t.Fatalf("code store holds %d after expiry, want 1", got)
			}
		})
	}
}

// TestStoresRefuseAtCap: with StoreLimit 2, each store refuses a third live entry with an honest 503 (and
// Retry-After) without spending or evicting what it holds, and takes new entries again once old ones expire or go.
func TestStoresRefuseAtCap(t *testing.T) {
	const limit = 2
	for _, tc := range []struct {
		name string
		// setup fills the store to the cap; it returns an action that needs one more entry, and a way to make room.
		setup func(t *testing.T, f *fixture) (action func() response, free func())
		// wantBody is part of the refusal's body.
		wantBody string
	}{
		{
			name: "login sessions",
			setup: func(t *testing.T, f *fixture) (func() response, func()) {
				for range limit {
					login(t, f, browser(t), authParams(appRedirect, ""), "bob", "bob")
				}
				return func() response {
						c := browser(t)
						form := formFields(t, get(t, c, f.iss+"/authorization?"+authParams(appRedirect, "").Encode()).body)
						form.Set("username", "bob")
						form.Set("password", "bob")
						return postForm(t, c, f.iss+"/authorization", form, "", "")
					},
					func() { f.clock.Advance(localappid.DefaultSessionTTL + time.Second) }
			},
			wantBody: "too many login sessions",
		},
		{
			name: "IAM tokens",
			setup: func(t *testing.T, f *fixture) (func() response, func()) {
				for range limit {
					iamToken(t, f)
				}
				return func() response {
						return postForm(t, http.DefaultClient, f.p.IAMTokenURL(), url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {localappid.DemoAPIKey}}, "", "")
					},
					func() { f.clock.Advance(31 * time.Second) }
			},
			wantBody: `"errorCode":"temporarily_unavailable"`,
		},
		{
			name: "refresh tokens at code exchange",
			setup: func(t *testing.T, f *fixture) (func() response, func()) {
				first := decodeTokens(t, exchange(t, f, issueCode(t, f), ""))
				decodeTokens(t, exchange(t, f, issueCode(t, f), ""))
				f.clock.Advance(localappid.DefaultCodeTTL + time.Second) // the spent codes leave the code store
				code := issueCode(t, f)
				return func() response { return exchange(t, f, code, "") }, // refused before the code is spent
					func() { revokeRefresh(t, f, first.RefreshToken) }
			},
			wantBody: "temporarily_unavailable",
		},
		{
			name: "refresh tokens at rotation",
			setup: func(t *testing.T, f *fixture) (func() response, func()) {
				first := decodeTokens(t, exchange(t, f, issueCode(t, f), ""))
				second := decodeTokens(t, exchange(t, f, issueCode(t, f), ""))
				return func() response { return refresh(t, f, first.RefreshToken) }, // refused without spending it
					func() { revokeRefresh(t, f, second.RefreshToken) }
			},
			wantBody: "temporarily_unavailable",
		},
		{
			name: "revoked access tokens",
			setup: func(t *testing.T, f *fixture) (func() response, func()) {
				for range limit {
					revokeAccess(t, f, machineToken(t, f))
				}
				return func() response { return revokeAccess(t, f, machineToken(t, f)) },
					func() { f.clock.Advance(localappid.DefaultAccessTokenTTL + time.Second) }
			},
			wantBody: "temporarily_unavailable",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *localappid.Config) { c.StoreLimit = limit })
			action, free := tc.setup(t, f)
			r := action()
			if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, tc.wantBody) || r.header.Get("Retry-After") == "" {
				t.Fatalf("at the cap: %d Retry-After %q %s; want 503 with Retry-After and %q", r.status, r.header.Get("Retry-After"), r.body, tc.wantBody)
			}
			free()
			if r := action(); r.status != http.StatusOK && r.status != http.StatusFound {
				t.Fatalf("after room was made: %d %s, want success", r.status, r.body)
			}
		})
	}
}

// TestRefreshFamilyExpiry: a login's refresh tokens expire RefreshTokenTTL after the code was redeemed, however
// often they rotate; until then a used token presented again revokes the family, and afterwards the provider
// forgets the family's used tokens.
func TestRefreshFamilyExpiry(t *testing.T) {
	for _, tc := range []struct {
		name string
		// after is how long after the login the newest token (rotated a minute before) is presented.
		after      time.Duration
		replayUsed bool
		wantStatus int
	}{
		{"rotated token before the family expires", localappid.DefaultRefreshTokenTTL - time.Second, false, http.StatusOK},
		{"rotated token after the family expires", localappid.DefaultRefreshTokenTTL + time.Second, false, http.StatusBadRequest},
		{"used token replayed before the family expires", localappid.DefaultRefreshTokenTTL - time.Second, true, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			first := decodeTokens(t, exchange(t, f, issueCode(t, f), ""))
			f.clock.Advance(tc.after - time.Minute)
			r := refresh(t, f, first.RefreshToken)
			if r.status != http.StatusOK {
				t.Fatalf("first rotation: %d %s", r.status, r.body)
			}
			newest := decodeTokens(t, r).RefreshToken
			f.clock.Advance(time.Minute)
			if tc.replayUsed {
				if r := refresh(t, f, first.RefreshToken); r.status != http.StatusBadRequest || !strings.Contains(r.body, "already used") {
					t.Fatalf("replayed used token: %d %s, want 400 already used", r.status, r.body)
				}
			}
			if r := refresh(t, f, newest); r.status != tc.wantStatus {
				t.Fatalf("newest token: %d %s, want %d", r.status, r.body, tc.wantStatus)
			}
		})
	}
	t.Run("used tokens are kept until the family expires, then forgotten", func(t *testing.T) {
		f := newFixture(t, func(c *localappid.Config) { c.StoreLimit = 2 })
		first := decodeTokens(t, exchange(t, f, issueCode(t, f), ""))
		if r := refresh(t, f, first.RefreshToken); r.status != http.StatusOK {
			t.Fatalf("rotation: %d %s", r.status, r.body)
		}
		// The used token and its successor fill the store: another login's refresh token has no room.
		f.clock.Advance(localappid.DefaultRefreshTokenTTL - time.Second)
		if r := exchange(t, f, issueCode(t, f), ""); r.status != http.StatusServiceUnavailable {
			t.Fatalf("exchange with the family live: %d %s, want 503", r.status, r.body)
		}
		f.clock.Advance(2 * time.Second)
		if r := exchange(t, f, issueCode(t, f), ""); r.status != http.StatusOK {
			t.Fatalf("exchange after the family expired: %d %s, want 200 (its used token forgotten)", r.status, r.body)
		}
	})
}

// issueCode stores a code for alice as a completed login would (no PKCE).
func issueCode(t *testing.T, f *fixture) string {
	t.Helper()
	code := f.p.IssueCodeForTest(localappid.DemoClientID, appRedirect, localappid.AliceID, "openid", "", "")
	if code == "" {
		t.Fatal("code store full")
	}
	return code
}

// machineToken is a new client_credentials access token of the machine client. It moves the clock a second on
// first, so each token differs from the last (same claims in the same second sign to the same token).
func machineToken(t *testing.T, f *fixture) string {
	t.Helper()
	f.clock.Advance(time.Second)
	r := postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"client_credentials"}}, machineClientID, machineSecret)
	if r.status != http.StatusOK {
		t.Fatalf("client_credentials: %d %s", r.status, r.body)
	}
	return decodeTokens(t, r).AccessToken
}

// refresh presents a refresh token as the demo client.
func refresh(t *testing.T, f *fixture, token string) response {
	t.Helper()
	return postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}},
		localappid.DemoClientID, localappid.DemoClientSecret)
}

// revokeRefresh revokes a refresh token (and its family) as the demo client.
func revokeRefresh(t *testing.T, f *fixture, token string) {
	t.Helper()
	if r := postForm(t, http.DefaultClient, f.iss+"/revoke", url.Values{"token": {token}}, localappid.DemoClientID, localappid.DemoClientSecret); r.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
}

// revokeAccess revokes an access token as its client.
func revokeAccess(t *testing.T, f *fixture, token string) response {
	t.Helper()
	r := postForm(t, http.DefaultClient, f.iss+"/revoke", url.Values{"token": {token}}, machineClientID, machineSecret)
	if r.status != http.StatusOK && r.status != http.StatusServiceUnavailable {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	return r
}
