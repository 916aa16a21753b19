package localappid_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/localappid"
)

// iamToken gets an IAM access token for the demo API key.
func iamToken(t *testing.T, f *fixture) string {
	t.Helper()
	r := postForm(t, http.DefaultClient, f.p.IAMTokenURL(), url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {localappid.DemoAPIKey}}, "", "")
	var v struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
		Expiration  int64  `json:"expiration"`
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.status != 200 {
		t.Fatalf("IAM token: %d %s", r.status, r.body)
	}
	if v.AccessToken == "" || v.TokenType != "Bearer" || v.ExpiresIn != 30 || v.Expiration != f.clock.Now().Add(30*time.Second).Unix() {
		t.Fatalf("IAM token response = %+v", v)
	}
	return v.AccessToken
}

func mgmt(t *testing.T, f *fixture, method, path, token, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, f.p.ManagementURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	return do(t, http.DefaultClient, req)
}

// TestIAMToken covers the IAM endpoint's refusals with IBM IAM's error shape.
func TestIAMToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	iamToken(t, f)
	for _, tc := range []struct {
		name       string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"unknown API key", url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}, "apikey": {"nope"}}.Encode(), 400, "BXNIM0415E"},
		{"missing API key", url.Values{"grant_type": {"urn:ibm:params:oauth:grant-type:apikey"}}.Encode(), 400, "BXNIM0109E"},
		{"missing grant_type", url.Values{"apikey": {localappid.DemoAPIKey}}.Encode(), 400, "BXNIM0109E"},
		{"wrong grant_type", url.Values{"grant_type": {"password"}, "apikey": {localappid.DemoAPIKey}}.Encode(), 400, "BXNIM0103E"},
		{"malformed form", "apikey=%zz", 400, "BXNIM0109E"},
		{"oversized body", "apikey=" + strings.Repeat("k", 1<<20), 413, "BXNIM0109E"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postRaw(t, http.DefaultClient, f.p.IAMTokenURL(), tc.body, "", "")
			var v struct{ ErrorCode, ErrorMessage string }
			json.Unmarshal([]byte(r.body), &v)
			if r.status != tc.wantStatus || v.ErrorCode != tc.wantCode || v.ErrorMessage == "" {
				t.Fatalf("status %d body %s; want %d %s", r.status, r.body, tc.wantStatus, tc.wantCode)
			}
		})
	}
}

// TestManagementAPI covers the endpoints and their App ID shapes, and that role changes reach the next token.
func TestManagementAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := iamToken(t, f)

	rolesOf := func(id string) string {
		r := mgmt(t, f, "GET", "/users/"+id+"/roles", tok, "")
		if r.status != 200 {
			t.Fatalf("GET roles of %s: %d %s", id, r.status, r.body)
		}
		return strings.TrimSpace(r.body)
	}
	for _, tc := range []struct{ user, want string }{
		{localappid.AliceID, `{"roles":[{"id":"` + localappid.UserRoleID + `","name":"user"}]}`},
		{localappid.BobID, `{"roles":[]}`},
		{localappid.CarolID, `{"roles":[{"id":"` + localappid.UserRoleID + `","name":"user"},{"id":"` + localappid.AdminRoleID + `","name":"admin"}]}`},
	} {
		t.Run("roles of "+tc.user, func(t *testing.T) {
			if got := rolesOf(tc.user); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}

	t.Run("GET /roles", func(t *testing.T) {
		r := mgmt(t, f, "GET", "/roles", tok, "")
		var v struct {
			Roles []struct {
				ID, Name, Description string
				Access                []struct {
					ApplicationID string   `json:"application_id"`
					Scopes        []string `json:"scopes"`
				}
			}
		}
		if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.status != 200 || len(v.Roles) != 2 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if a := v.Roles[0].Access; v.Roles[0].Name != "user" || len(a) != 1 || a[0].ApplicationID != localappid.DemoClientID || a[0].Scopes[0] != "view" {
			t.Fatalf("first role = %+v", v.Roles[0])
		}
	})

	t.Run("GET profile", func(t *testing.T) {
		r := mgmt(t, f, "GET", "/users/"+localappid.CarolID+"/profile", tok, "")
		var v struct {
			ID, Email, Name string
			Identities      []struct{ Provider, ID string }
		}
		if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		if v.ID != localappid.CarolID || v.Email != "carol@example.com" || len(v.Identities) != 1 || v.Identities[0].Provider != "cloud_directory" {
			t.Fatalf("profile = %+v", v)
		}
	})

	t.Run("PUT roles reaches the next token", func(t *testing.T) {
		r := mgmt(t, f, "PUT", "/users/"+localappid.BobID+"/roles", tok, `{"roles":{"ids":["`+localappid.AdminRoleID+`"]}}`)
		if r.status != 200 || !strings.Contains(r.body, `"name":"admin"`) {
			t.Fatalf("PUT: %d %s", r.status, r.body)
		}
		if got := rolesOf(localappid.BobID); !strings.Contains(got, "admin") {
			t.Fatalf("roles after PUT = %s", got)
		}
		code, v := codeFor(t, f, "bob")
		tk := decodeTokens(t, exchange(t, f, code, v))
		if scope := jwtPart(t, tk.AccessToken, 1)["scope"].(string); !strings.Contains(scope, "appidgate-demo/admin") {
			t.Fatalf("bob's scope after PUT = %q", scope)
		}
	})

	for _, tc := range []struct {
		name, method, path, token, body string
		wantStatus                      int
	}{
		{"no token", "GET", "/roles", "", "", 401},
		{"unknown token", "GET", "/users/" + localappid.AliceID + "/roles", "forged", "", 401},
		{"OAuth access token is not an IAM token", "GET", "/roles", "use-access-token", "", 401},
		{"unknown user roles", "GET", "/users/nobody/roles", tok, "", 404},
		{"unknown user profile", "GET", "/users/nobody/profile", tok, "", 404},
		{"PUT unknown user", "PUT", "/users/nobody/roles", tok, `{"roles":{"ids":[]}}`, 404},
		{"PUT unknown role", "PUT", "/users/" + localappid.BobID + "/roles", tok, `{"roles":{"ids":["nope"]}}`, 400},
		{"PUT malformed body", "PUT", "/users/" + localappid.BobID + "/roles", tok, `{"roles":`, 400},
		{"PUT body without roles", "PUT", "/users/" + localappid.BobID + "/roles", tok, `{}`, 400},
		{"PUT oversized body", "PUT", "/users/" + localappid.BobID + "/roles", tok, `{"roles":{"ids":["` + strings.Repeat("x", 1<<20) + `"]}}`, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := tc.token
			if token == "use-access-token" {
				code, v := codeFor(t, f, "alice")
				token = decodeTokens(t, exchange(t, f, code, v)).AccessToken
			}
			r := mgmt(t, f, tc.method, tc.path, token, tc.body)
			var v struct{ ErrorCode, Message string }
			if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.status != tc.wantStatus || v.ErrorCode == "" {
				t.Fatalf("status %d body %s; want %d with an errorCode", r.status, r.body, tc.wantStatus)
			}
		})
	}

	t.Run("expired IAM token", func(t *testing.T) {
		f.clock.Advance(31 * time.Second)
		r := mgmt(t, f, "GET", "/roles", tok, "")
		if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("status %d, WWW-Authenticate %q; want 401 invalid_token", r.status, r.header.Get("WWW-Authenticate"))
		}
		if r := mgmt(t, f, "GET", "/roles", iamToken(t, f), ""); r.status != 200 {
			t.Fatalf("renewed IAM token: %d", r.status)
		}
	})

	t.Run("other tenant", func(t *testing.T) {
		req, _ := http.NewRequest("GET", f.srv.URL()+"/management/v4/other-tenant/roles", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if r := do(t, http.DefaultClient, req); r.status != 404 {
			t.Fatalf("status %d, want 404", r.status)
		}
	})
}
