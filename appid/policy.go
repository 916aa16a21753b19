package appid

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Policy decides whether a signed-in user may use a route. Build policies with Role, AnyRole, Scope, Claim and
// Authenticated, combine them with AllOf and AnyOf, or write one with PolicyFunc; Require admits a request when
// every policy given to it allows the user.
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

// Authenticated admits every signed-in user, App ID's anonymous users included when Config.AllowAnonymous lets
// them sign in (see User.Anonymous).
func Authenticated() Policy {
	return Policy{name: "authenticated"}
}

// Claim admits users whose claim at path holds value, read from User.Claims: on session requests the id token's
// identity claims, on RequireBearer requests the access token's claims. A string claim holds value when it
// equals it; an array claim when one of its elements does. Numbers and booleans compare by value: "true" and
// "false" match the JSON booleans, and a value that parses as a number (strconv.ParseFloat: "3", "3.0", "1e2")
// matches an equal JSON number (as float64; a number from 2^53 on, which a float64 cannot hold exactly, never
// matches). Comparisons are
// exact: case-sensitive, no trimming, and a space-separated string is one value (use Scope for scopes).
// Objects, null and a missing claim admit nobody.
//
// path names a top-level claim ("groups", "cognito:groups", "https://example.com/roles") or descends through
// nested objects with dots ("realm_access.roles", "resource_access.my-app.roles"); a claim whose name holds
// dots is found under its whole name first. The policy is named "claim:" + path + "=" + value.
func Claim(path, value string) Policy {
	num, err := strconv.ParseFloat(value, 64)
	isNum := err == nil
	return Policy{name: "claim:" + path + "=" + value, allow: func(u *User) bool {
		v, ok := claimAt(u.Claims, path)
		if !ok {
			return false
		}
		if list, ok := v.([]any); ok {
			for _, e := range list {
				if claimEquals(e, value, num, isNum) {
					return true
				}
			}
			return false
		}
		if list, ok := v.([]string); ok {
			return slices.Contains(list, value)
		}
		return claimEquals(v, value, num, isNum)
	}}
}

// claimEquals reports whether the scalar claim value v is value; num is value as a number when isNum.
func claimEquals(v any, value string, num float64, isNum bool) bool {
	switch v := v.(type) {
	case string:
		return v == value
	case bool:
		return value == strconv.FormatBool(v)
	case float64:
		// From 2^53 on a float64 stands for several integers: such a number never matches, rather than match
		// its neighbours.
		return isNum && v == num && math.Abs(num) < 1<<53
	case json.Number:
		f, err := v.Float64()
		return isNum && err == nil && f == num && math.Abs(num) < 1<<53
	}
	return false
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
