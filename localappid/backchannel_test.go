package localappid_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/appidgate/appidgate/localappid"
)

// logoutReceiver is a client's back-channel logout endpoint: it hands every logout token it receives to the
// test, and answers status (200 unless set) once release is closed (at once when nil).
type logoutReceiver struct {
	srv     *httptest.Server
	tokens  chan string
	release chan struct{}
	status  atomic.Int32 // the answer's status; 0 for 200
}

func newLogoutReceiver(t *testing.T) *logoutReceiver {
	rc := &logoutReceiver{tokens: make(chan string, 16)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "expected a form POST", http.StatusBadRequest)
			return
		}
		if rc.release != nil {
			<-rc.release
		}
		rc.tokens <- r.PostFormValue("logout_token")
		if status := rc.status.Load(); status != 0 {
			w.WriteHeader(int(status))
		}
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// next waits for the next logout token.
func (rc *logoutReceiver) next(t *testing.T) string {
	t.Helper()
	select {
	case tok := <-rc.tokens:
		return tok
	case <-time.After(10 * time.Second):
		t.Fatal("no logout token arrived within 10s")
		return ""
	}
}

// none checks that no logout token arrived (the caller waited for the deliveries to end).
func (rc *logoutReceiver) none(t *testing.T) {
	t.Helper()
	select {
	case tok := <-rc.tokens:
		t.Fatalf("unexpected logout token %s", tok)
	default:
	}
}

// backchannelFixture is a provider whose demo client registered rc's URI; the other client registered none.
func backchannelFixture(t *testing.T, rc *logoutReceiver) *fixture {
	return newFixture(t, func(c *localappid.Config) {
		c.Clients[0].BackchannelLogoutURI = rc.srv.URL + "/backchannel_logout"
		c.Logger = slog.New(slog.DiscardHandler)
	})
}

// logoutTokenClaims verifies a logout token with the provider's published keys and returns its claims, checking
// the header the specification asks for.
func logoutTokenClaims(t *testing.T, f *fixture, raw string) map[string]any {
	t.Helper()
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("logout token does not parse as an RS256 JWT: %v", err)
	}
	h := tok.Headers[0]
	if h.ExtraHeaders[jose.HeaderType] != "logout+jwt" || h.KeyID != f.p.CurrentKeyID() {
		t.Errorf("logout token header typ %v kid %q, want logout+jwt and the current kid %q",
			h.ExtraHeaders[jose.HeaderType], h.KeyID, f.p.CurrentKeyID())
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(get(t, http.DefaultClient, f.iss+"/publickeys").body), &set); err != nil {
		t.Fatal(err)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("the JWKS has no key %q", h.KeyID)
	}
	claims := map[string]any{}
	if err := tok.Claims(keys[0].Key, &claims); err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	now := f.clock.Now().Unix()
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	events, _ := claims["events"].(map[string]any)
	event, isObject := events["http://schemas.openid.net/event/backchannel-logout"].(map[string]any)
	switch {
	case claims["iss"] != f.iss || claims["aud"] != localappid.DemoClientID:
		t.Errorf("iss %v aud %v, want %s and %s", claims["iss"], claims["aud"], f.iss, localappid.DemoClientID)
	case int64(iat) != now || int64(exp) != now+120:
		t.Errorf("iat %v exp %v, want %d and two minutes later", iat, exp, now)
	case !isObject || len(event) != 0:
		t.Errorf("events %v, want the back-channel logout event as {}", claims["events"])
	case claims["jti"] == "" || claims["jti"] == nil:
		t.Errorf("no jti: %v", claims)
	case claims["nonce"] != nil:
		t.Errorf("a logout token with a nonce: %v", claims)
	}
	return claims
}

// signIn logs alice in through a fresh browser for client and returns the browser with the token answer.
func signIn(t *testing.T, f *fixture, c *http.Client, clientID, redirect, secret string) tokens {
	t.Helper()
	params := authParams(redirect, "")
	params.Set("client_id", clientID)
	var loc *url.URL
	if page := get(t, c, f.iss+"/authorization?"+params.Encode()); page.status == http.StatusFound {
		loc, _ = url.Parse(page.header.Get("Location")) // the browser's provider session answered at once
	} else {
		loc = login(t, f, c, params, "alice", "alice")
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect}}
	tk := decodeTokens(t, postForm(t, http.DefaultClient, f.iss+"/token", form, clientID, secret))
	if tk.IDToken == "" || tk.RefreshToken == "" {
		t.Fatalf("login of alice to %s gave %+v", clientID, tk)
	}
	return tk
}

// refreshes reports whether the refresh token still works.
func refreshes(t *testing.T, f *fixture, token, clientID, secret string) bool {
	t.Helper()
	r := postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}},
		clientID, secret)
	return r.status == http.StatusOK
}

// TestBackchannelLogoutAtSSOLogout: the user's logout at the provider sends the client that registered a
// back-channel logout URI a signed logout token naming the session (sid, as its id token did) and the user, and
// revokes that session's refresh tokens of that client; a client without a URI sees App ID's behaviour.
func TestBackchannelLogoutAtSSOLogout(t *testing.T) {
	rc := newLogoutReceiver(t)
	f := backchannelFixture(t, rc)
	c := browser(t)
	demo := signIn(t, f, c, localappid.DemoClientID, appRedirect, localappid.DemoClientSecret)
	other := signIn(t, f, c, otherClientID, otherRedirect, otherClientSecret) // the same provider session
	sid, _ := jwtPart(t, demo.IDToken, 1)["sid"].(string)
	if sid == "" {
		t.Fatalf("the id token of a client with a back-channel logout URI has no sid: %v", jwtPart(t, demo.IDToken, 1))
	}
	if _, ok := jwtPart(t, other.IDToken, 1)["sid"]; ok {
		t.Errorf("the id token of a client without a back-channel logout URI has a sid, which App ID's have not")
	}
	// A refreshed id token names the same session.
	r := postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {demo.RefreshToken}}, localappid.DemoClientID, localappid.DemoClientSecret)
	refreshed := decodeTokens(t, r)
	if got := jwtPart(t, refreshed.IDToken, 1)["sid"]; got != sid {
		t.Fatalf("refreshed id token sid %v, want %s", got, sid)
	}

	// The client answers only after the browser got its answer: a logout that waited for it would hang here.
	rc.release = make(chan struct{})
	out := get(t, c, f.iss+"/cloud_directory/sso/logout")
	if out.status != http.StatusOK {
		t.Fatalf("SSO logout: %d %s", out.status, out.body)
	}
	close(rc.release)
	claims := logoutTokenClaims(t, f, rc.next(t))
	if claims["sid"] != sid || claims["sub"] != localappid.AliceID {
		t.Errorf("logout token sid %v sub %v, want %s and %s", claims["sid"], claims["sub"], sid, localappid.AliceID)
	}
	if refreshes(t, f, refreshed.RefreshToken, localappid.DemoClientID, localappid.DemoClientSecret) {
		t.Error("the logged-out session's refresh token still works for the back-channel client")
	}
	if !refreshes(t, f, other.RefreshToken, otherClientID, otherClientSecret) {
		t.Error("the SSO logout revoked the refresh token of a client without a back-channel logout URI")
	}
	// Without a provider session, the SSO logout tells nobody.
	if out := get(t, browser(t), f.iss+"/cloud_directory/sso/logout"); out.status != http.StatusOK {
		t.Fatalf("SSO logout without a session: %d", out.status)
	}
	if err := f.srv.Close(); err != nil { // waits for the calls in flight
		t.Fatal(err)
	}
	rc.none(t)
}

// TestEndUserSessions: an operator ends a user's sessions (the Go method, or App ID's revoke_refresh_token call
// of the management API): the provider sessions end, every refresh token of the user is revoked, and each
// back-channel client the user signed in to gets a logout token naming the user and no session.
func TestEndUserSessions(t *testing.T) {
	rc := newLogoutReceiver(t)
	f := backchannelFixture(t, rc)
	laptop, phone := browser(t), browser(t)
	first := signIn(t, f, laptop, localappid.DemoClientID, appRedirect, localappid.DemoClientSecret)
	second := signIn(t, f, phone, localappid.DemoClientID, appRedirect, localappid.DemoClientSecret)
	other := signIn(t, f, phone, otherClientID, otherRedirect, otherClientSecret)

	if err := f.p.EndUserSessions(t.Context(), localappid.AliceID); err != nil {
		t.Fatalf("EndUserSessions: %v", err)
	}
	claims := logoutTokenClaims(t, f, rc.next(t))
	if claims["sub"] != localappid.AliceID || claims["sid"] != nil {
		t.Errorf("logout token sub %v sid %v, want %s and none (every session of the user)", claims["sub"],
			claims["sid"], localappid.AliceID)
	}
	rc.none(t) // one token per client, however many sessions
	for name, tk := range map[string]tokens{"laptop": first, "phone": second} {
		if refreshes(t, f, tk.RefreshToken, localappid.DemoClientID, localappid.DemoClientSecret) {
			t.Errorf("the %s's refresh token still works", name)
		}
	}
	if refreshes(t, f, other.RefreshToken, otherClientID, otherClientSecret) {
		t.Error("the refresh token of the client without a back-channel URI still works")
	}
	params := authParams(appRedirect, "")
	if page := get(t, laptop, f.iss+"/authorization?"+params.Encode()); page.status != http.StatusOK {
		t.Errorf("after EndUserSessions the provider session still signs in without the form: %d", page.status)
	}

	t.Run("a client that refuses is named", func(t *testing.T) {
		signIn(t, f, browser(t), localappid.DemoClientID, appRedirect, localappid.DemoClientSecret)
		rc.status.Store(http.StatusBadRequest)
		defer rc.status.Store(0)
		err := f.p.EndUserSessions(t.Context(), localappid.AliceID)
		rc.next(t)
		if err == nil || !strings.Contains(err.Error(), localappid.DemoClientID) || !strings.Contains(err.Error(), "400") {
			t.Fatalf("EndUserSessions with a client answering 400 = %v, want an error naming it and the status", err)
		}
	})
	t.Run("unknown user", func(t *testing.T) {
		if err := f.p.EndUserSessions(context.Background(), "nobody"); err == nil {
			t.Fatal("EndUserSessions of an unknown user succeeded")
		}
	})

	t.Run("management API", func(t *testing.T) {
		tk := signIn(t, f, browser(t), localappid.DemoClientID, appRedirect, localappid.DemoClientSecret)
		path := "/users/" + localappid.AliceID + "/revoke_refresh_token"
		if r := mgmt(t, f, http.MethodPost, path, "", ""); r.status != http.StatusUnauthorized {
			t.Fatalf("without an IAM token: %d, want 401", r.status)
		}
		iam := iamToken(t, f)
		if r := mgmt(t, f, http.MethodPost, "/users/nobody/revoke_refresh_token", iam, ""); r.status != http.StatusNotFound {
			t.Fatalf("unknown user: %d %s, want 404", r.status, r.body)
		}
		if r := mgmt(t, f, http.MethodPost, path, iam, ""); r.status != http.StatusNoContent {
			t.Fatalf("revoke_refresh_token: %d %s, want 204", r.status, r.body)
		}
		if claims := logoutTokenClaims(t, f, rc.next(t)); claims["sub"] != localappid.AliceID {
			t.Errorf("logout token sub %v, want %s", claims["sub"], localappid.AliceID)
		}
		if refreshes(t, f, tk.RefreshToken, localappid.DemoClientID, localappid.DemoClientSecret) {
			t.Error("the refresh token still works after revoke_refresh_token")
		}
	})
}

// TestBackchannelLogoutUnreachableClient: a client that never answers costs the logout nothing, and the call
// gives up at its timeout.
func TestBackchannelLogoutUnreachableClient(t *testing.T) {
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-hang
	}))
	t.Cleanup(func() { close(hang); slow.Close() })
	f := newFixture(t, func(c *localappid.Config) {
		c.Clients[0].BackchannelLogoutURI = slow.URL
		c.BackchannelLogoutTimeout = 100 * time.Millisecond
		c.Logger = slog.New(slog.DiscardHandler)
	})
	c := browser(t)
	signIn(t, f, c, localappid.DemoClientID, appRedirect, localappid.DemoClientSecret)
	if out := get(t, c, f.iss+"/cloud_directory/sso/logout"); out.status != http.StatusOK {
		t.Fatalf("SSO logout with a client that hangs: %d", out.status)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	signIn(t, f, browser(t), localappid.DemoClientID, appRedirect, localappid.DemoClientSecret)
	err := f.p.EndUserSessions(ctx, localappid.AliceID)
	if err == nil || !strings.Contains(err.Error(), localappid.DemoClientID) {
		t.Fatalf("EndUserSessions with a client that hangs = %v, want its timeout naming the client", err)
	}
}

// TestDiscoveryBackchannelLogout: discovery lists Back-Channel Logout 1.0's flags and the sid claim only when a
// client registered a back-channel logout URI; by default it is App ID's document (TestDiscovery).
func TestDiscoveryBackchannelLogout(t *testing.T) {
	for _, on := range []bool{false, true} {
		f := newFixture(t, func(c *localappid.Config) {
			if on {
				c.Clients[0].BackchannelLogoutURI = "https://app.example/backchannel_logout"
			}
		})
		var d struct {
			Supported        *bool    `json:"backchannel_logout_supported"`
			SessionSupported *bool    `json:"backchannel_logout_session_supported"`
			Claims           []string `json:"claims_supported"`
		}
		if err := json.Unmarshal([]byte(get(t, http.DefaultClient, f.iss+"/.well-known/openid-configuration").body), &d); err != nil {
			t.Fatal(err)
		}
		hasSID := strings.Contains(strings.Join(d.Claims, " "), "sid")
		if on && (d.Supported == nil || !*d.Supported || d.SessionSupported == nil || !*d.SessionSupported || !hasSID) {
			t.Errorf("with a back-channel client: supported %v session %v claims %v, want both flags true and sid",
				d.Supported, d.SessionSupported, d.Claims)
		}
		if !on && (d.Supported != nil || d.SessionSupported != nil || hasSID) {
			t.Errorf("without one: flags %v %v claims %v, want neither flag nor sid, as App ID", d.Supported,
				d.SessionSupported, d.Claims)
		}
	}
}
