package appid

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
)

// RequireBearer returns middleware for APIs: it admits requests whose "Authorization: Bearer" access token
// verifies (signature, issuer, audience, expiry) and satisfies every policy, with no session involved. Roles come
// from the RolesClaim claim when the token has one. In ProviderOIDC mode, a token that is not a JWT for this
// client (an opaque one) is admitted when the provider's introspection endpoint says it is active and this
// client's. Missing or invalid tokens (id tokens included) get 401, refused ones 403, as JSON; 503 only when
// the provider's keys or introspection could not be reached.
func (a *Auth) RequireBearer(policies ...Policy) func(http.Handler) http.Handler {
	policy := AllOf(policies...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, ok := bearerToken(r)
			if !ok {
				a.observer.AuthorizationDecided(policy.name, decisionUnauthenticated)
				respondUnauthorized(w, "")
				return
			}
			uc, err := a.userFromAccessToken(r.Context(), raw)
			if err != nil {
				if errors.Is(err, errProviderUnavailable) {
					// The provider's keys (or its introspection) are out of reach: the token is not at fault.
					what := "Could not load the identity provider's keys"
					if errors.Is(err, errIntrospectionUnavailable) {
						what = "Could not reach the identity provider's introspection endpoint"
					}
					w.Header().Set("Retry-After", "1")
					respondJSON(w, http.StatusServiceUnavailable, "temporarily_unavailable", what)
					return
				}
				a.observer.AuthorizationDecided(policy.name, decisionUnauthenticated)
				respondUnauthorized(w, "invalid_token")
				return
			}
			if a.cfg.OnUser != nil {
				a.cfg.OnUser(r, &uc.user)
			}
			if !policy.Allows(&uc.user) {
				a.observer.AuthorizationDecided(policy.name, decisionDeny)
				w.Header().Set("WWW-Authenticate", `Bearer realm="appidgate", error="insufficient_scope"`)
				respondJSON(w, http.StatusForbidden, "forbidden", "Unauthorized!")
				return
			}
			a.observer.AuthorizationDecided(policy.name, decisionAllow)
			next.ServeHTTP(w, r.WithContext(withUser(r.Context(), uc)))
		})
	}
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// maxVerifiedBearers bounds the cache of verified bearer tokens: about 2 KB an entry.
const maxVerifiedBearers = 10_000

// userFromAccessToken verifies raw and builds the User from its claims, as the request's own copy. A token
// verified before is not verified again until it expires: an RS256 verification costs far more than the rest
// of the request. In ProviderOIDC mode a token that is not a JWT for this client is introspected instead (see
// userFromIntrospection).
func (a *Auth) userFromAccessToken(ctx context.Context, raw string) (*userContext, error) {
	now := a.cfg.Now()
	if cached, ok := a.bearers.Get(raw, now); ok {
		return bearerUser(cached, raw), nil // Claims stays shared (see User.Claims)
	}
	if a.oidcMode && !a.jwtForClient(raw) {
		u, err := a.userFromIntrospection(ctx, raw)
		if err != nil {
			return nil, err
		}
		return bearerUser(u, raw), nil
	}
	tok, err := a.verifyAccessToken(ctx, raw)
	if err != nil {
		return nil, err
	}
	var claims tokenClaims
	var all map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, err
	}
	if err := tok.Claims(&all); err != nil {
		return nil, err
	}
	email := claims.Email
	if a.oidcMode {
		email = verifiedEmail(all)
	}
	u := &User{
		ID:        tok.Subject,
		Email:     email,
		Name:      claims.Name,
		Roles:     slices.Clip(a.rolesAt(all)),
		Scopes:    slices.Clip(scopesFromClaims(all)),
		ExpiresAt: tok.Expiry,
		Claims:    all,
	}
	a.bearers.Put(strings.Clone(raw), u, tok.Expiry, now)
	return bearerUser(u, raw), nil
}

// bearerUser is the request's own copy of u, admitted by the bearer token raw.
func bearerUser(u *User, raw string) *userContext {
	uc := newUserContext(u)
	uc.user.accessToken = raw
	return uc
}
