package appid

import (
	"slices"
	"strings"
)

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

// AllOf admits users whom every one of policies allows (Authenticated when there are none). Its name joins
// theirs with ",".
func AllOf(policies ...Policy) Policy {
	switch len(policies) {
	case 0:
		return Authenticated()
	case 1:
		return policies[0]
	}
	ps := slices.Clone(policies)
	return Policy{name: joinNames(ps, ","), allow: func(u *User) bool {
		for _, p := range ps {
			if !p.Allows(u) {
				return false
			}
		}
		return true
	}}
}

// AnyOf admits users whom at least one of policies allows (nobody when there are none). Its name is
// "any(" + their names joined with "|" + ")".
func AnyOf(policies ...Policy) Policy {
	ps := slices.Clone(policies)
	return Policy{name: "any(" + joinNames(ps, "|") + ")", allow: func(u *User) bool {
		for _, p := range ps {
			if p.Allows(u) {
				return true
			}
		}
		return false
	}}
}

// PolicyFunc admits users for whom allow returns true; name names it in metrics and logs. allow runs on every
// request: it must be cheap, and must not keep or change u.
func PolicyFunc(name string, allow func(u *User) bool) Policy {
	return Policy{name: name, allow: allow}
}

func joinNames(ps []Policy, sep string) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.name
	}
	return strings.Join(names, sep)
}
