package localappid_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/localappid"
)

// TestTokenRefusals covers every way a token request is refused, with App ID's OAuth error and status.
func TestTokenRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	demo := [2]string{localappid.DemoClientID, localappid.DemoClientSecret}
	codeForm := func(code, verifier string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect}, "code_verifier": {verifier}}
	}
	for _, tc := range []struct {
		name       string
		prepare    func(t *testing.T) (body string, basic [2]string)
		wantStatus int
		wantError  string
	}{
		{"wrong secret (Basic)", func(t *testing.T) (string, [2]string) {
			code, v := codeFor(t, f, "alice")
			return codeForm(code, v).Encode(), [2]string{localappid.DemoClientID, "wrong"}
		}, 401, "invalid_client"},
		{"unknown client (Basic)", func(t *testing.T) (string, [2]string) {
			return url.Values{"grant_type": {"client_credentials"}}.Encode(), [2]string{"nobody", "x"}
		}, 401, "invalid_client"},
		{"wrong secret (form)", func(t *testing.T) (string, [2]string) {
			return url.Values{"grant_type": {"client_credentials"}, "client_id": {machineClientID}, "client_secret": {"wrong"}}.Encode(), [2]string{}
		}, 401, "invalid_client"},
		{"no client authentication", func(t *testing.T) (string, [2]string) {
			return url.Values{"grant_type": {"client_credentials"}}.Encode(), [2]string{}
		}, 401, "invalid_client"},
		{"Basic and form secret together", func(t *testing.T) (string, [2]string) {
			return url.Values{"grant_type": {"client_credentials"}, "client_secret": {machineSecret}}.Encode(), [2]string{machineClientID, machineSecret}
		}, 400, "invalid_request"},
		{"missing grant_type", func(t *testing.T) (string, [2]string) { return "", demo }, 400, "invalid_request"},
		{"unsupported grant_type", func(t *testing.T) (string, [2]string) {
			return url.Values{"grant_type": {"implicit"}}.Encode(), demo
		}, 400, "unsupported_grant_type"},
		{"grant not allowed for client", func(t *testing.T) (string, [2]string) {
			return url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}.Encode(), [2]string{machineClientID, machineSecret}
		}, 400, "unauthorized_client"},
		{"missing code", func(t *testing.T) (string, [2]string) {
			return url.Values{"grant_type": {"authorization_code"}}.Encode(), demo
		}, 400, "invalid_request"},
		{"unknown code", func(t *testing.T) (string, [2]string) {
			return codeForm("not-a-code", "").Encode(), demo
		}, 400, "invalid_grant"},
		{"reused code", func(t *testing.T) (string, [2]string) {
			code, v := codeFor(t, f, "alice")
			if r := exchange(t, f, code, v); r.status != 200 {
				t.Fatalf("first exchange: %d %s", r.status, r.body)
			}
			return codeForm(code, v).Encode(), demo
		}, 400, "invalid_grant"},
		{"expired code", func(t *testing.T) (string, [2]string) {
			code, v := codeFor(t, f, "alice")
			f.clock.Advance(localappid.DefaultCodeTTL + time.Second)
			return codeForm(code, v).Encode(), demo
		}, 400, "invalid_grant"},
		{"wrong code_verifier", func(t *testing.T) (string, [2]string) {
			code, _ := codeFor(t, f, "alice")
			other, _ := pkce()
			return codeForm(code, other).Encode(), demo
		}, 400, "invalid_grant"},
		{"missing code_verifier", func(t *testing.T) (string, [2]string) {
			code, _ := codeFor(t, f, "alice")
			return codeForm(code, "").Encode(), demo
		}, 400, "invalid_grant"},
		{"verifier without challenge", func(t *testing.T) (string, [2]string) {
			loc := login(t, f, browser(t), authParams(appRedirect, ""), "alice", "alice")
			v, _ := pkce()
			return codeForm(loc.Query().Get("code"), v).Encode(), demo
		}, 400, "invalid_grant"},
		{"redirect_uri mismatch", func(t *testing.T) (string, [2]string) {
			code, v := codeFor(t, f, "alice")
			form := codeForm(code, v)
			form.Set("redirect_uri", "http://127.0.0.1:1/afterauth")
			return form.Encode(), demo
		}, 400, "invalid_grant"},
		{"code of another client", func(t *testing.T) (string, [2]string) {
			code, v := codeFor(t, f, "alice")
			return codeForm(code, v).Encode(), [2]string{otherClientID, otherClientSecret}
		}, 400, "invalid_grant"},
		{"unknown refresh token", func(t *testing.T) (string, [2]string) {
			return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"nope"}}.Encode(), demo
		}, 400, "invalid_grant"},
		{"missing refresh token", func(t *testing.T) (string, [2]string) {
			return url.Values{"grant_type": {"refresh_token"}}.Encode(), demo
		}, 400, "invalid_request"},
		{"refresh token of another client", func(t *testing.T) (string, [2]string) {
			code, v := codeFor(t, f, "alice")
			tk := decodeTokens(t, exchange(t, f, code, v))
			return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}}.Encode(), [2]string{otherClientID, otherClientSecret}
		}, 400, "invalid_grant"},
		{"expired refresh token", func(t *testing.T) (string, [2]string) {
			code, v := codeFor(t, f, "alice")
			tk := decodeTokens(t, exchange(t, f, code, v))
			f.clock.Advance(localappid.DefaultRefreshTokenTTL + time.Second)
			return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}}.Encode(), demo
		}, 400, "invalid_grant"},
		{"parameter twice", func(t *testing.T) (string, [2]string) {
			return "grant_type=client_credentials&grant_type=client_credentials", [2]string{machineClientID, machineSecret}
		}, 400, "invalid_request"},
		{"malformed form", func(t *testing.T) (string, [2]string) { return "grant_type=%zz", demo }, 400, "invalid_request"},
		{"oversized body", func(t *testing.T) (string, [2]string) {
			return "grant_type=client_credentials&pad=" + strings.Repeat("x", 1<<20), demo
		}, 413, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, basic := tc.prepare(t)
			r := postRaw(t, http.DefaultClient, f.iss+"/token", body, basic[0], basic[1])
			if r.status != tc.wantStatus || decodeTokens(t, r).Error != tc.wantError {
				t.Fatalf("status %d body %s; want %d %s", r.status, r.body, tc.wantStatus, tc.wantError)
			}
			if tc.wantStatus == 401 && basic[0] != "" && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Fatalf("401 without a Basic challenge: %v", r.header)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Fatalf("Cache-Control = %q, want no-store", r.header.Get("Cache-Control"))
			}
		})
	}
}

// TestCodeReplayRevokesRefresh: replaying a code revokes the refresh token its first use produced.
func TestCodeReplayRevokesRefresh(t *testing.T) {
	f := newFixture(t)
	code, v := codeFor(t, f, "alice")
	tk := decodeTokens(t, exchange(t, f, code, v))
	if r := exchange(t, f, code, v); r.status != http.StatusBadRequest {
		t.Fatalf("replayed code: %d, want 400", r.status)
	}
	r := postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tk.RefreshToken}},
		localappid.DemoClientID, localappid.DemoClientSecret)
	if r.status != http.StatusBadRequest || decodeTokens(t, r).Error != "invalid_grant" {
		t.Fatalf("refresh after code replay: %d %s, want 400 invalid_grant", r.status, r.body)
	}
}

// TestClientSecretPost: client authentication in the form body works as well as Basic.
func TestClientSecretPost(t *testing.T) {
	f := newFixture(t)
	code, v := codeFor(t, f, "carol")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {appRedirect}, "code_verifier": {v},
		"client_id": {localappid.DemoClientID}, "client_secret": {localappid.DemoClientSecret}}
	r := postForm(t, http.DefaultClient, f.iss+"/token", form, "", "")
	if r.status != http.StatusOK || decodeTokens(t, r).IDToken == "" {
		t.Fatalf("client_secret_post: %d %s", r.status, r.body)
	}
}
