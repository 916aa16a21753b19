package appid

import (
	"slices"
	"testing"
)

func TestPolicies(t *testing.T) {
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
