package appid

import "strings"

// Policy decides whether a signed-in user may use a route. Build policies with Role, AnyRole, Scope and
// Authenticated; Require admits a request when every policy given to it allows the user.
type Policy struct {
	name  string
	allow func(*User) bool
}

// String names the policy, e.g. `role:admin`, as reported to the Observer.
func (p Policy) String() string { return p.name }

// Allows reports whether the policy admits u.
func (p Policy) Allows(u *User) bool { return u != nil && (p.allow == nil || p.allow(u)) }

// Role admits users holding the role name.
func Role(name string) Policy {
	return Policy{name: "role:" + name, allow: func(u *User) bool { return u.HasRole(name) }}
}

// AnyRole admits users holding at least one role: the reference app's rule for /auth_route.
func AnyRole() Policy {
	return Policy{name: "any_role", allow: func(u *User) bool { return len(u.Roles) > 0 }}
}

// Scope admits users whose access token grants scope s (see User.HasScope for the App ID "<app>/<scope>" rule).
func Scope(s string) Policy {
	return Policy{name: "scope:" + s, allow: func(u *User) bool { return u.HasScope(s) }}
}

// Authenticated admits every signed-in user.
func Authenticated() Policy {
	return Policy{name: "authenticated"}
}

// policySet is the conjunction of policies that one Require call was given.
type policySet struct {
	name     string
	policies []Policy
}

func newPolicySet(ps []Policy) policySet {
	if len(ps) == 0 {
		ps = []Policy{Authenticated()}
	}
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name
	}
	return policySet{name: strings.Join(names, ","), policies: ps}
}

func (s policySet) allows(u *User) bool {
	for _, p := range s.policies {
		if !p.Allows(u) {
			return false
		}
	}
	return true
}
