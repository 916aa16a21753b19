package appid

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"

	"github.com/appidgate/appidgate/localappid"
)

func TestPolicies(t *testing.T) {
	t.Parallel()
	alice := &User{ID: "alice", Roles: []string{"user"}, Scopes: []string{"appidgate-demo/view", "openid"}}
	bob := &User{ID: "bob"}
	carol := &User{ID: "carol", Roles: []string{"user", "admin"}, Scopes: []string{"app/view", "app/manage"}}
	tests := []struct {
		name   string
		policy Policy
		user   *User
		want   bool
	}{
		{"any role admits a user with a role", AnyRole(), alice, true},
		{"any role refuses a user without roles", AnyRole(), bob, false},
		{"role matches by name", Role("admin"), carol, true},
		{"role refuses others", Role("admin"), alice, false},
		{"bare scope matches the App ID app/scope form", Scope("view"), alice, true},
		{"bare scope does not match a prefix", Scope("vie"), alice, false},
		{"full scope matches in full", Scope("app/manage"), carol, true},
		{"full scope of another app does not match", Scope("other/view"), carol, false},
		{"plain scope matches itself", Scope("openid"), alice, true},
		{"authenticated admits anyone signed in", Authenticated(), bob, true},
		{"nobody is admitted without a user", Authenticated(), nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.policy.Allows(tc.user); got != tc.want {
				t.Errorf("%s.Allows(%v) = %v, want %v", tc.policy, tc.user, got, tc.want)
			}
		})
	}
}

func TestComposedPolicies(t *testing.T) {
	t.Parallel()
	viewer := &User{ID: "v", Roles: []string{"user"}, Scopes: []string{"app/view"}}
	manager := &User{ID: "m", Roles: []string{"user"}, Scopes: []string{"app/manage"}}
	admin := &User{ID: "a", Roles: []string{"admin"}}
	nobody := &User{ID: "n"}
	tests := []struct {
		policy   Policy
		name     string
		admitted []*User
	}{
		{AllOf(Role("user"), Scope("manage")), "role:user,scope:manage", []*User{manager}},
		{AllOf(Role("admin")), "role:admin", []*User{admin}},
		{AllOf(), "authenticated", []*User{viewer, manager, admin, nobody}},
		{AnyOf(Role("admin"), Scope("manage")), "any(role:admin|scope:manage)", []*User{manager, admin}},
		{AnyOf(), "any()", nil},
		{AnyOf(AllOf(Role("user"), Scope("view")), Role("admin")), "any(role:user,scope:view|role:admin)",
			[]*User{viewer, admin}},
		{PolicyFunc("id:n", func(u *User) bool { return u.ID == "n" }), "id:n", []*User{nobody}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.policy.String() != tc.name {
				t.Errorf("name = %q, want %q", tc.policy.String(), tc.name)
			}
			for _, u := range []*User{viewer, manager, admin, nobody} {
				if got, want := tc.policy.Allows(u), slices.Contains(tc.admitted, u); got != want {
					t.Errorf("Allows(%s) = %v, want %v", u.ID, got, want)
				}
			}
			if tc.policy.Allows(nil) {
				t.Error("admits a request without a user")
			}
		})
	}
}

func TestClaimPolicy(t *testing.T) {
	t.Parallel()
	var claims map[string]any
	if err := json.Unmarshal([]byte(`{
		"groups": ["admins", "staff"],
		"cognito:groups": ["ops"],
		"https://example.com/roles": ["editor"],
		"realm_access": {"roles": ["realm-admin", "offline_access"]},
		"resource_access": {"my.app": {"roles": ["client-role"]}},
		"department": "R&D",
		"scope": "openid app/view",
		"email_verified": true,
		"disabled": false,
		"level": 3,
		"ratio": 0.5,
		"employee": 9007199254740992,
		"small_employee": 9007199254740991,
		"mixed": ["a", 7, true, null, {"x": "y"}, ["nested"]],
		"empty": "",
		"nothing": null,
		"object": {"admins": true}
	}`), &claims); err != nil {
		t.Fatal(err)
	}
	user := &User{ID: "u", Claims: claims}
	tests := []struct {
		path, value string
		want        bool
	}{
		{"groups", "admins", true},
		{"groups", "staff", true},
		{"groups", "Admins", false}, // case-sensitive
		{"groups", "admin", false},  // whole elements only
		{"cognito:groups", "ops", true},
		{"https://example.com/roles", "editor", true},
		{"realm_access.roles", "realm-admin", true},
		{"realm_access.roles", "admin", false},
		{"resource_access.my.app.roles", "client-role", true},
		{"department", "R&D", true},
		{"department", "R&D ", false}, // no trimming
		{"scope", "app/view", false},  // a space-separated string is one value
		{"scope", "openid app/view", true},
		{"email_verified", "true", true},
		{"email_verified", "false", false},
		{"email_verified", "True", false},
		{"disabled", "false", true},
		{"level", "3", true},
		{"level", "3.0", true},
		{"level", "3e0", true},
		{"level", "4", false},
		{"level", "three", false},
		{"ratio", "0.5", true},
		{"small_employee", "9007199254740991", true},
		{"employee", "9007199254740993", false}, // from 2^53 on a float64 cannot tell them apart: no match
		{"employee", "9007199254740992", false},
		{"mixed", "a", true},
		{"mixed", "7", true},
		{"mixed", "true", true},
		{"mixed", "nested", false}, // nested arrays do not count
		{"mixed", "y", false},
		{"empty", "", true},
		{"nothing", "null", false},
		{"object", "admins", false},
		{"missing", "x", false},
		{"groups.admins", "x", false},
	}
	for _, tc := range tests {
		t.Run(tc.path+"="+tc.value, func(t *testing.T) {
			p := Claim(tc.path, tc.value)
			if got := p.Allows(user); got != tc.want {
				t.Errorf("%s.Allows = %v, want %v", p, got, tc.want)
			}
			if p.String() != "claim:"+tc.path+"="+tc.value {
				t.Errorf("name %q", p.String())
			}
			if p.Allows(&User{ID: "no claims"}) || p.Allows(nil) {
				t.Error("admits a user without claims")
			}
		})
	}
}

func TestClaimPolicyOnStringSlices(t *testing.T) {
	t.Parallel()
	// Claims built by a program rather than decoded from JSON.
	u := &User{Claims: map[string]any{"groups": []string{"a", "b"}, "n": json.Number("12")}}
	for _, tc := range []struct {
		p    Policy
		want bool
	}{
		{Claim("groups", "b"), true}, {Claim("groups", "c"), false}, {Claim("n", "12"), true}, {Claim("n", "12.0"), true},
		{Claim("n", "13"), false},
	} {
		if got := tc.p.Allows(u); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.p, got, tc.want)
		}
	}
}

func TestClaimPolicyComposes(t *testing.T) {
	t.Parallel()
	ops := &User{ID: "ops", Roles: []string{"user"}, Claims: map[string]any{"cognito:groups": []any{"ops"}}}
	admin := &User{ID: "admin", Claims: map[string]any{"realm_access": map[string]any{"roles": []any{"admin"}}}}
	plain := &User{ID: "plain", Roles: []string{"user"}}
	p := AnyOf(Claim("realm_access.roles", "admin"), AllOf(Role("user"), Claim("cognito:groups", "ops")))
	if want := "any(claim:realm_access.roles=admin|role:user,claim:cognito:groups=ops)"; p.String() != want {
		t.Errorf("name %q, want %q", p.String(), want)
	}
	for u, want := range map[*User]bool{ops: true, admin: true, plain: false} {
		if got := p.Allows(u); got != want {
			t.Errorf("%s: %v, want %v", u.ID, got, want)
		}
	}
}

// TestClaimPolicyEndToEnd: with the local provider putting custom claims in alice's tokens, Claim admits her on
// session requests (the id token's claims, kept by the session) and on bearer requests (the access token's).
func TestClaimPolicyEndToEnd(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, envOption{provider: func(c *localappid.Config) {
		c.Users[0].Claims = map[string]any{"groups": []any{"admins"}, "realm_access": map[string]any{"roles": []any{"editor"}}}
	}})
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	policies := []struct {
		policy     Policy
		alice, bob int
	}{
		{Claim("groups", "admins"), http.StatusOK, http.StatusForbidden},
		{Claim("realm_access.roles", "editor"), http.StatusOK, http.StatusForbidden},
		{Claim("groups", "editors"), http.StatusForbidden, http.StatusForbidden},
		{AnyOf(Claim("groups", "admins"), Role("admin")), http.StatusOK, http.StatusForbidden},
	}
	for _, user := range []string{"alice", "bob"} {
		b := e.newBrowser(t)
		b.login(e, "/profile", user)
		cookies := b.client.Jar.Cookies(mustParse(t, e.app.URL))
		token := accessTokenFor(t, e, user)
		for _, tc := range policies {
			want := tc.alice
			if user == "bob" {
				want = tc.bob
			}
			session := httptest.NewRequest(http.MethodGet, e.app.URL+"/x", nil)
			for _, c := range cookies {
				session.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			e.auth.Require(tc.policy)(ok).ServeHTTP(rec, session)
			if rec.Code != want {
				t.Errorf("%s, session, %s: %d, want %d", user, tc.policy, rec.Code, want)
			}
			bearer := httptest.NewRequest(http.MethodGet, e.app.URL+"/api/x", nil)
			bearer.Header.Set("Authorization", "Bearer "+token)
			rec = httptest.NewRecorder()
			e.auth.RequireBearer(tc.policy)(ok).ServeHTTP(rec, bearer)
			if rec.Code != want {
				t.Errorf("%s, bearer, %s: %d, want %d", user, tc.policy, rec.Code, want)
			}
		}
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
