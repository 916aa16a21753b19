package proxy_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/proxy"
)

// bearerRoutes accept tokens on /api/ only, for alice (App ID's access tokens carry no roles, so the policy
// names her); /session-api/ is an API route as before, which ignores them.
const bearerRoutes = `routes:
  - path: /api/
    api: true
    bearer: true
    policy: claim:sub=` + localappid.AliceID + `
  - path: /session-api/
    api: true
    policy: authenticated
`

// accessToken signs username in with a browser and returns the access token the local provider issued, as the
// upstream received it.
func accessToken(t *testing.T, e *env, username string) string {
	t.Helper()
	c := e.newClient()
	c.login(e, username)
	got := c.get(e.proxy.URL + "/session-api/token")
	token := upstreamSaw(t, got)["X-Appidgate-Access-Token"]
	if got.status != http.StatusOK || token == "" {
		t.Fatalf("%s's access token: %d %q", username, got.status, got.body)
	}
	return token
}

// upstreamSaw returns the request headers the upstream echoed, first values only.
func upstreamSaw(t *testing.T, a answer) map[string]string {
	t.Helper()
	var echo struct{ Headers map[string][]string }
	if err := json.Unmarshal([]byte(a.body), &echo); err != nil {
		return nil
	}
	h := map[string]string{}
	for k, v := range echo.Headers {
		h[k] = v[0]
	}
	return h
}

func TestBearerTokensAtTheProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{routes: bearerRoutes, keepToken: true, trusted: loopback,
		identity: proxy.IdentityHeaders{AccessToken: true}})
	alice, bob := accessToken(t, e, "alice"), accessToken(t, e, "bob")
	tests := []struct {
		name      string
		path      string
		token     string
		status    int
		challenge string
		user      string // X-Appidgate-User the upstream sees, for 200
	}{
		{"alice's token where tokens are allowed", "/api/items", alice, 200, "", localappid.AliceID},
		{"bob's token: the policy refuses him", "/api/items", bob, 403, `Bearer realm="appidgate", error="insufficient_scope"`, ""},
		{"a token that does not verify", "/api/items", alice + "x", 401, `Bearer realm="appidgate", error="invalid_token"`, ""},
		{"no token and no session", "/api/items", "", 401, `Bearer realm="appidgate"`, ""},
		{"alice's token where tokens are not allowed: ignored", "/session-api/items", alice, 401,
			`Bearer realm="appidgate"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var header []string
			if tc.token != "" {
				header = []string{"Authorization", "Bearer " + tc.token}
			}
			got := e.newClient().get(e.proxy.URL+tc.path, append(header, "Accept", "application/json")...)
			if got.status != tc.status || got.header.Get("WWW-Authenticate") != tc.challenge {
				t.Fatalf("got %d (WWW-Authenticate %q) %q, want %d (%q)", got.status,
					got.header.Get("WWW-Authenticate"), got.body, tc.status, tc.challenge)
			}
			if tc.status != 200 {
				if ct := got.header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("refusal is %q, want JSON", ct)
				}
				return
			}
			saw := upstreamSaw(t, got)
			if saw["X-Appidgate-User"] != tc.user || saw["X-Appidgate-Access-Token"] != tc.token || saw["X-Appidgate-Assertion"] == "" {
				t.Errorf("the upstream saw %v", saw)
			}
			if _, ok := saw["Authorization"]; ok {
				t.Errorf("the upstream saw the client's Authorization header")
			}
		})
	}

	// Forward-auth decides by the same rules: alice's token passes with her identity, bob's is refused.
	for _, tc := range []struct {
		token  string
		status int
		user   string
	}{{alice, 200, localappid.AliceID}, {bob, 403, ""}} {
		got := e.newClient().get(e.proxy.URL+proxy.VerifyPath, "Authorization", "Bearer "+tc.token,
			"X-Forwarded-Method", "GET", "X-Forwarded-Uri", "/api/items")
		if got.status != tc.status || got.header.Get("X-Appidgate-User") != tc.user {
			t.Errorf("forward-auth: got %d (user %q) %q, want %d (user %q)", got.status,
				got.header.Get("X-Appidgate-User"), got.body, tc.status, tc.user)
		}
		if strings.Contains(got.body, "<html") {
			t.Errorf("forward-auth answered a token with a page: %q", got.body)
		}
	}
}

func TestRoutesFileBearer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, text, problem string
	}{
		{"public and bearer", "routes:\n  - path: /x\n    public: true\n    bearer: true\n",
			"a public rule takes no tokens"},
		{"not a bool", "routes:\n  - path: /x\n    bearer: yes please\n", "bearer: expected true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := proxy.ParseRoutes("routes.yaml", []byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("got %v, want a problem containing %q", err, tc.problem)
			}
		})
	}
	rt, err := proxy.ParseRoutes("routes.yaml", []byte("routes:\n  - path: /x\n    bearer: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if r := rt.Match("GET", "/x/y"); !r.Bearer || r.Public || r.Policy.String() != "any_role" {
		t.Errorf("a bearer-only rule: %+v", r)
	}
}
