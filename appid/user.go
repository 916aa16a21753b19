package appid

import (
	"context"
	"slices"
	"strings"
	"time"
)

// User is the signed-in user of a request, as Check, Require and RequireBearer put it in the request context.
type User struct {
	// ID is the subject (sub) of the user's tokens.
	ID string
	// Email and Name come from the id token (or the access token for bearer requests) when present; in
	// ProviderOIDC mode also from userinfo (or the introspection answer for bearer requests).
	Email string
	Name  string
	// Roles are the user's role names from the App ID management API (or the Config.RolesClaim claim).
	Roles []string
	// Scopes are the scopes granted in the access token, as the provider wrote them (App ID: "<app>/<scope>").
	Scopes []string
	// ExpiresAt is when the current access token expires.
	ExpiresAt time.Time
	// Claims holds the claims of the verified token that admitted the request: on RequireBearer requests every
	// claim of the access token (or of the introspection answer); on session requests the id token's identity
	// claims as of login or the last refresh (all but those that only serve verification: iss, aud, exp, iat,
	// nonce, at_hash, sid, ...), with userinfo's in ProviderOIDC mode.
	// Requests that share a token or a session share this map: read it, never change it.
	Claims map[string]any
	// Anonymous says that the user is one of App ID's anonymous users (amr appid_anon: signed in without
	// credentials, for progressive authentication), admitted only when Config.AllowAnonymous is set. Such a
	// user holds no roles; Authenticated admits them, AnyRole and Role do not.
	Anonymous bool

	accessToken string // see AccessToken
}

// AccessToken returns the raw access token that admitted the request: the bearer token on RequireBearer
// requests; on session requests the session's access token when Config.KeepAccessToken (or Introspect) keeps
// it, else "". It is a credential: pass it only to the APIs it is meant for, never log it.
func (u *User) AccessToken() string { return u.accessToken }

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

// NewContext returns a copy of ctx that carries a copy of u, as Require puts the user it admits in the request
// context: UserFrom returns it. It serves tests of handlers that call UserFrom, without a provider:
//
//	r = r.WithContext(appid.NewContext(r.Context(), &appid.User{ID: "alice", Roles: []string{"admin"}}))
func NewContext(ctx context.Context, u *User) context.Context {
	if u == nil {
		return context.WithValue(ctx, userContextKey{}, (*User)(nil))
	}
	c := *u
	return context.WithValue(ctx, userContextKey{}, &c)
}

// userContext is a request's own copy of its user, lists included, and the context that carries it, in one
// allocation: the session or token it comes from is shared by every request that carries it, so no handler
// may reach into it, and the request path stays at a few allocations.
type userContext struct {
	context.Context
	user    User
	listBuf [8]string // backing array of user.Roles and user.Scopes when they fit
}

// newUserContext returns a userContext holding a copy of u; its Context is set by withUser.
func newUserContext(u *User) *userContext {
	c := &userContext{user: *u}
	buf := c.listBuf[:0]
	if n := len(u.Roles) + len(u.Scopes); n > len(c.listBuf) {
		buf = make([]string, 0, n)
	}
	buf = append(buf, u.Roles...)
	buf = append(buf, u.Scopes...)
	c.user.Roles = slices.Clip(buf[:len(u.Roles)])
	c.user.Scopes = slices.Clip(buf[len(u.Roles):])
	if u.Roles == nil {
		c.user.Roles = nil
	}
	if u.Scopes == nil {
		c.user.Scopes = nil
	}
	return c
}

// Value returns the user for userContextKey and defers every other key to the parent context.
func (c *userContext) Value(key any) any {
	if _, ok := key.(userContextKey); ok {
		return &c.user
	}
	return c.Context.Value(key)
}

// withUser returns ctx carrying c's user.
func withUser(ctx context.Context, c *userContext) context.Context {
	c.Context = ctx
	return c
}
