package appid

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/appidgate/appidgate/internal/expiring"
)

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

// VerifyBearer verifies an access token as RequireBearer does (signature, issuer, audience, expiry; with
// ProviderOIDC an opaque token through introspection) and returns its user, the caller's own copy, for programs
// that take tokens elsewhere than in an "Authorization: Bearer" header (a WebSocket's first message, a queue).
// No policy is applied and Config.OnUser is not called. A token that does not verify gets an error wrapping
// ErrLoginRequired; one that cannot be checked now, an error wrapping ErrProviderUnavailable.
func (a *Auth) VerifyBearer(ctx context.Context, token string) (*User, error) {
	uc, err := a.bearer.user(ctx, token)
	if err != nil {
		return nil, tokenError(err)
	}
	return &uc.user, nil
}

// bearerVerifier turns bearer access tokens into users: the provider verifies a token (provider.bearerUser);
// the verifier remembers verified tokens until they expire, and keeps introspection within bounds (tokens
// refused a moment ago, one introspection for concurrent requests with one token, a budget a second).
type bearerVerifier struct {
	a              *Auth
	verified       *expiring.Cache[*User]    // verified bearer tokens, by token
	refused        *expiring.Cache[struct{}] // opaque tokens introspection refused a moment ago, by their SHA-256
	introspections singleflight.Group        // tokens being introspected, by token
	budget         *rate.Limiter             // introspections of tokens not seen before, which anyone can send
}

func newBearerVerifier(a *Auth) *bearerVerifier {
	return &bearerVerifier{a: a, verified: expiring.New[*User](maxVerifiedBearers),
		refused: expiring.New[struct{}](maxRefusedBearers), budget: rate.NewLimiter(introspectionRate, introspectionBurst)}
}

// user verifies raw through the provider and returns the User, as the request's own copy. A token verified
// before is not verified again until it expires: an RS256 verification costs far more than the rest of the
// request.
func (v *bearerVerifier) user(ctx context.Context, raw string) (*userContext, error) {
	now := v.a.cfg.Now()
	if cached, ok := v.verified.Get(raw, now); ok {
		return bearerUser(cached, raw), nil // Claims stays shared (see User.Claims)
	}
	u, cache, err := v.a.provider.bearerUser(ctx, raw)
	if err != nil {
		return nil, err
	}
	if cache {
		v.verified.Put(strings.Clone(raw), u, u.ExpiresAt, now)
	}
	return bearerUser(u, raw), nil
}

// jwtUser builds the user of a verified JWT access token from its claims; email picks the email address.
func (b *bearerVerifier) jwtUser(tok *oidc.IDToken, email func(tokenClaims, map[string]any) string) (*User, error) {
	var claims tokenClaims
	var all map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, err
	}
	if err := tok.Claims(&all); err != nil {
		return nil, err
	}
	return &User{
		ID:        tok.Subject,
		Email:     email(claims, all),
		Name:      claims.Name,
		Roles:     slices.Clip(rolesAt(all, b.a.cfg.RolesClaim)),
		Scopes:    slices.Clip(scopesFromClaims(all)),
		ExpiresAt: tok.Expiry,
		Claims:    all,
	}, nil
}

// bearerUser is the request's own copy of u, admitted by the bearer token raw.
func bearerUser(u *User, raw string) *userContext {
	uc := newUserContext(u)
	uc.user.accessToken = raw
	return uc
}
