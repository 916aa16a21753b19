package proxy_test

import (
	"net/http"
	"testing"

	"github.com/appidgate/appidgate/localappid"
)

// TestProxyClaimPolicies runs claim policies from a routes file end to end: the local provider puts users'
// custom claims in their id tokens, the session keeps them, and the proxy's routes admit by them.
func TestProxyClaimPolicies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{
		routes: `routes:
  - path: /ops
    policy: claim:cognito:groups=ops
  - path: /realm
    policy: claim:realm_access.roles=realm-admin
  - path: /either
    policy: any-of [role:admin, claim:groups=admins]
  - path: /verified
    policy: all-of [claim:email_verified_by_hr=true, claim:level=3]
`,
		provider: func(c *localappid.Config) {
			for i, u := range c.Users {
				switch u.Username {
				case "alice":
					c.Users[i].Claims = map[string]any{"groups": []any{"admins"}, "cognito:groups": []any{"ops"},
						"email_verified_by_hr": true, "level": 3}
				case "bob":
					c.Users[i].Claims = map[string]any{"realm_access": map[string]any{"roles": []any{"realm-admin"}},
						"groups": "admins-of-something-else", "level": "3"}
				}
			}
		},
	})
	type visit struct {
		path string
		want int
	}
	for _, tc := range []struct {
		user   string
		visits []visit
	}{
		{"alice", []visit{{"/ops", 200}, {"/realm", 403}, {"/either", 200}, {"/verified", 200}}},
		// bob holds no role, so his login at /auth_route ends in 403; his claims still open /realm.
		{"bob", []visit{{"/ops", 403}, {"/realm", 200}, {"/either", 403}, {"/verified", 403}}},
		{"carol", []visit{{"/ops", 403}, {"/realm", 403}, {"/either", 200}, {"/verified", 403}}}, // role admin
	} {
		t.Run(tc.user, func(t *testing.T) {
			c := e.newClient()
			c.login(e, tc.user)
			for _, v := range tc.visits {
				got := c.get(e.proxy.URL + v.path)
				if got.status != v.want {
					t.Errorf("%s on %s: %d, want %d", tc.user, v.path, got.status, v.want)
				}
				if got.status == http.StatusOK {
					if path, h := seen(t, got); path != v.path || h.Get("X-Appidgate-User") == "" {
						t.Errorf("%s on %s: the upstream saw %s with user %q", tc.user, v.path, path, h.Get("X-Appidgate-User"))
					}
				}
			}
		})
	}
	anon := e.newClient()
	if got := anon.get(e.proxy.URL + "/ops"); got.status != http.StatusFound {
		t.Errorf("anonymous on /ops: %d, want a redirect to the login", got.status)
	}
}
