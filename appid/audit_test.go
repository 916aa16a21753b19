package appid

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// secretsSeen collects every token the provider issued and every cookie value the app set or a browser sent,
// for the leak test.
type secretsSeen struct {
	mu     sync.Mutex
	values map[string]bool
}

func (s *secretsSeen) add(v string) {
	if len(v) < 8 { // short values ("1", "") are not secrets and would match anywhere
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]bool{}
	}
	s.values[v] = true
}

func (s *secretsSeen) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for v := range s.values {
		out = append(out, v)
	}
	return out
}

// tokenTee is the app's outbound transport: it passes calls on and records the tokens of every token endpoint
// answer.
type tokenTee struct {
	next http.RoundTripper
	seen *secretsSeen
}

func (t *tokenTee) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/token") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var tok map[string]any
	json.Unmarshal(body, &tok)
	for _, k := range []string{"access_token", "id_token", "refresh_token"} {
		if v, ok := tok[k].(string); ok {
			t.seen.add(v)
		}
	}
	return resp, nil
}

// cookieTee is a browser's transport: it records the cookies the browser sends and is sent.
type cookieTee struct {
	next http.RoundTripper
	seen *secretsSeen
}

func (c *cookieTee) RoundTrip(req *http.Request) (*http.Response, error) {
	for _, ck := range req.Cookies() {
		c.seen.add(ck.Value)
	}
	resp, err := c.next.RoundTrip(req)
	if err == nil {
		for _, ck := range resp.Cookies() {
			c.seen.add(ck.Value)
		}
	}
	return resp, err
}

// auditRecords decodes the JSON lines of buf.
func auditRecords(t *testing.T, buf *testkit.Buffer) []map[string]any {
	t.Helper()
	return testkit.JSONLines(t, buf.String())
}

// TestAuditEvents runs the flows an operator audits against a real provider: alice signs in, a callback with a
// forged state fails, bob is refused, alice logs out, the provider ends carol's sessions by back-channel logout,
// and a revalidation finds alice's new session revoked. Each flow writes its one record with the documented
// fields, and no record holds a token, a cookie value, the client secret or a password.
func TestAuditEvents(t *testing.T) {
	t.Parallel()
	var audit testkit.Buffer
	seen := &secretsSeen{}
	rl := newLogoutRelay(t)
	e := newTestEnv(t, envOption{
		provider: func(c *localappid.Config) {
			c.Clients[0].BackchannelLogoutURI = rl.srv.URL + DefaultBackchannelLogoutPath
			c.Logger = slog.New(slog.DiscardHandler)
		},
		auth: func(c *Config) {
			c.AuditLogger = slog.New(slog.NewJSONHandler(&audit, nil))
			c.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: &tokenTee{next: http.DefaultTransport, seen: seen}}
		},
	})
	rl.backends.Store(&[]*httptest.Server{e.app})
	newBrowser := func() *browser {
		b := e.newBrowser(t)
		b.client.Transport = &cookieTee{next: http.DefaultTransport, seen: seen}
		return b
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
		want map[string]any // the fields of the one record the flow writes (besides time, level, ...)
	}{
		{"alice signs in", func(t *testing.T) {
			if got := newBrowser().login(e, "/auth_route", "alice"); got.status != http.StatusOK {
				t.Fatalf("login: %d", got.status)
			}
		}, map[string]any{"msg": "login.succeeded", "event": "login.succeeded", "outcome": "success",
			"user_id": localappid.AliceID, "method": "GET", "path": "/afterauth"}},
		{"a forged state", func(t *testing.T) {
			if got := newBrowser().get(e.app.URL + "/afterauth?state=forged&code=x"); got.status != http.StatusBadRequest {
				t.Fatalf("callback: %d, want 400", got.status)
			}
		}, map[string]any{"event": "login.failed", "outcome": "failure", "reason": "state_unknown",
			"method": "GET", "path": "/afterauth"}},
		{"the provider refuses", func(t *testing.T) {
			b := newBrowser()
			start := b.get(e.app.URL + "/auth_route")
			loc := start.location
			state := loc[strings.Index(loc, "state=")+len("state="):]
			state = state[:strings.IndexByte(state+"&", '&')]
			if got := b.get(e.app.URL + "/afterauth?error=access_denied&state=" + state); got.status != http.StatusForbidden {
				t.Fatalf("callback: %d, want 403", got.status)
			}
		}, map[string]any{"event": "login.failed", "outcome": "failure", "reason": "provider_error",
			"provider_error": "access_denied"}},
		{"bob is refused", func(t *testing.T) {
			if got := newBrowser().login(e, "/auth_route", "bob"); got.status != http.StatusForbidden {
				t.Fatalf("bob: %d, want 403", got.status)
			}
		}, map[string]any{"event": "access.denied", "outcome": "denied", "user_id": localappid.BobID,
			"reason": "policy", "policy": "any_role", "credential": "session", "method": "GET", "path": "/auth_route"}},
		{"alice logs out", func(t *testing.T) {
			b := newBrowser()
			b.login(e, "/auth_route", "alice")
			if got := postLogout(b, e, e.app.URL); got.status != http.StatusSeeOther {
				t.Fatalf("logout: %d", got.status)
			}
		}, map[string]any{"event": "logout", "outcome": "success", "user_id": localappid.AliceID,
			"logout_scope": "provider", "method": "POST", "path": "/logout"}},
		{"the provider ends carol's sessions", func(t *testing.T) {
			newBrowser().login(e, "/auth_route", "carol")
			if err := e.idp.Provider().EndUserSessions(t.Context(), localappid.CarolID); err != nil {
				t.Fatalf("EndUserSessions: %v", err)
			}
			rl.delivered(t)
		}, map[string]any{"event": "logout.backchannel", "outcome": "success", "user_id": localappid.CarolID,
			"by": "sub", "sessions_deleted": float64(0), "method": "POST", "path": DefaultBackchannelLogoutPath}},
		{"revalidation finds the session revoked", func(t *testing.T) {
			b := newBrowser()
			b.login(e, "/auth_route", "alice")
			// The refresh token is revoked at the provider without telling the app (its back-channel logout
			// goes nowhere), as when an App ID administrator revokes it.
			nowhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			defer nowhere.Close()
			rl.backends.Store(&[]*httptest.Server{nowhere})
			if err := e.idp.Provider().EndUserSessions(t.Context(), localappid.AliceID); err != nil {
				t.Fatalf("EndUserSessions: %v", err)
			}
			rl.delivered(t)
			e.clock.Advance(DefaultRevalidateInterval)
			if got := b.get(e.app.URL + "/auth_route"); got.status != http.StatusFound {
				t.Fatalf("after the revocation: %d, want 302 to login", got.status)
			}
		}, map[string]any{"event": "session.revoked", "outcome": "denied", "user_id": localappid.AliceID,
			"reason": "refresh_refused", "method": "GET", "path": "/auth_route"}},
	}
	for _, tc := range tests {
		before := len(auditRecords(t, &audit))
		t.Run(tc.name, tc.run)
		records := auditRecords(t, &audit)[before:]
		var matched []map[string]any
		for _, rec := range records {
			if rec["event"] == tc.want["event"] {
				matched = append(matched, rec)
			}
		}
		if len(matched) != 1 {
			t.Errorf("%s: %d %s records, want 1: %v", tc.name, len(matched), tc.want["event"], records)
			continue
		}
		rec := matched[0]
		for k, v := range tc.want {
			if rec[k] != v {
				t.Errorf("%s: %s = %v, want %v (record %v)", tc.name, k, rec[k], v, rec)
			}
		}
		for _, k := range []string{"time", "level", "log_type", "client_address"} {
			if rec[k] == nil {
				t.Errorf("%s: no %s in %v", tc.name, k, rec)
			}
		}
		if rec["log_type"] != "audit" || rec["client_address"] != "127.0.0.1" || rec["level"] != "INFO" {
			t.Errorf("%s: log_type %v, client_address %v, level %v; want audit, 127.0.0.1, INFO", tc.name,
				rec["log_type"], rec["client_address"], rec["level"])
		}
	}

	// The leak test: nothing secret in any record of those flows.
	secrets := append(seen.list(), localappid.DemoClientSecret, localappid.DemoAPIKey, "password")
	if len(seen.list()) < 10 {
		t.Fatalf("only %d tokens and cookie values seen: the test saw too little to search for", len(seen.list()))
	}
	all := audit.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("an audit record holds a secret (%.12s...): %s", s, all)
		}
	}
}
