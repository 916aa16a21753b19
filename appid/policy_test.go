package appid

import "testing"

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

func TestPolicySetNeedsEveryPolicy(t *testing.T) {
	set := newPolicySet([]Policy{Role("user"), Scope("manage")})
	if set.allows(&User{Roles: []string{"user"}, Scopes: []string{"app/view"}}) {
		t.Error("a user lacking the scope was admitted")
	}
	if !set.allows(&User{Roles: []string{"user"}, Scopes: []string{"app/manage"}}) {
		t.Error("a user with role and scope was refused")
	}
	if set.name != "role:user,scope:manage" {
		t.Errorf("name = %q", set.name)
	}
}
