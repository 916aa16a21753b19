package appid

import (
	"context"
	"strings"
	"time"
)

// User is the signed-in user of a request, as Check, Require and RequireBearer put it in the request context.
type User struct {
	// ID is the subject (sub) of the user's tokens.
	ID string
	// Email and Name come from the id token (or the access token for bearer requests) when present.
	Email string
	Name  string
	// Roles are the user's role names from the App ID management API (or a "roles" claim).
	Roles []string
	// Scopes are the scopes granted in the access token, as the provider wrote them (App ID: "<app>/<scope>").
	Scopes []string
	// ExpiresAt is when the current access token expires.
	ExpiresAt time.Time
	// Claims holds every claim of the verified access token on RequireBearer requests. On session requests it
	// is nil: the session keeps only the fields above, so that a request costs no JSON decoding. Every request
	// that carries the same token shares this map: read it, never change it.
	Claims map[string]any
}

// HasRole reports whether u holds the role name.
func (u *User) HasRole(name string) bool {
	for _, r := range u.Roles {
		if r == name {
			return true
		}
	}
	return false
}

// HasScope reports whether u was granted scope s. A bare scope ("view") matches the part after the last "/" of
// a granted scope ("app/view"), as IBM's SDKs do; a scope containing "/" must match in full.
func (u *User) HasScope(s string) bool {
	for _, g := range u.Scopes {
		if g == s {
			return true
		}
		if strings.IndexByte(s, '/') < 0 {
			if i := strings.LastIndexByte(g, '/'); i >= 0 && g[i+1:] == s {
				return true
			}
		}
	}
	return false
}

type userContextKey struct{}

// UserFrom returns the user that Check, Require or RequireBearer admitted for this request.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userContextKey{}).(*User)
	return u, ok && u != nil
}

// withUser returns ctx carrying u.
func withUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userContextKey{}, u)
}
