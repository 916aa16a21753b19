package appid

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

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
	introspector   *introspector             // asks the provider about opaque tokens (ProviderOIDC)
	verified       *expiring.Cache[*User]    // verified bearer tokens, by token
	refused        *expiring.Cache[struct{}] // opaque tokens introspection refused a moment ago, by their SHA-256
	introspections singleflight.Group        // tokens being introspected, by token
	budget         *rate.Limiter             // introspections of tokens not seen before, which anyone can send
}

func newBearerVerifier(a *Auth, in *introspector) *bearerVerifier {
	return &bearerVerifier{a: a, introspector: in, verified: expiring.New[*User](maxVerifiedBearers),
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

// Bounds of introspected bearer tokens.
const (
	// introspectionCacheTTL is how long an introspected bearer token is admitted without asking the provider
	// again (never beyond its exp): a revoked token keeps working for at most this long.
	introspectionCacheTTL = 30 * time.Second
	maxIntrospectedToken  = 16 << 10         // bytes; JWTs with many groups that are not verified locally included
	refusedBearerTTL      = 15 * time.Second // how long a refused token is refused without asking again
	maxRefusedBearers     = 10_000
	// introspectionRate and introspectionBurst bound the introspections a replica makes: made-up tokens cost
	// the sender nothing and a credentialed call each, and a provider that throttles the client would refuse
	// logins too. Past the bound a new token gets 503 with Retry-After, while known ones stay cached.
	introspectionRate  = 50 // per second
	introspectionBurst = 50
)

// introspect admits an opaque bearer token through the provider's introspection endpoint (ProviderOIDC
// mode): the answer must say active, name a subject, come from our issuer (when it names one), be unexpired, and
// belong to this client: its aud holds the client id or its client_id is the client id. Admitted tokens are
// cached for introspectionCacheTTL at most; concurrent requests with one token share one introspection.
func (v *bearerVerifier) introspect(ctx context.Context, raw string) (*User, error) {
	a := v.a
	meta, err := a.discovery.metadata(ctx)
	if err != nil {
		return nil, err
	}
	if meta.IntrospectionEndpoint == "" {
		return nil, fmt.Errorf("%w: bearer token: not a JWT for this client, and the provider lists no introspection endpoint",
			errTokenInvalid)
	}
	if len(raw) > maxIntrospectedToken {
		return nil, fmt.Errorf("%w: bearer token: %d bytes, more than an opaque token holds", errTokenInvalid, len(raw))
	}
	// A token refused a moment ago is refused again without asking: junk tokens must not each cost a
	// credentialed call to the provider (which may then throttle the client, logins included).
	sum := sha256.Sum256([]byte(raw))
	refusedKey := string(sum[:])
	if _, refused := v.refused.Get(refusedKey, a.cfg.Now()); refused {
		return nil, fmt.Errorf("%w: bearer token: refused by introspection a moment ago", errTokenInvalid)
	}
	// The key is the token itself, which never leaves this process. Detached from the first caller, whose
	// client may go away while others wait on the answer.
	got, err, _ := v.introspections.Do(raw, func() (any, error) {
		if !v.budget.Allow() {
			return nil, fmt.Errorf("%w: bearer token: too many introspections at once", errIntrospectionUnavailable)
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), providerCallTimeout)
		defer cancel()
		answer, err := v.introspector.introspect(ctx, meta, raw)
		if err != nil {
			return nil, err
		}
		now := a.cfg.Now()
		u, err := v.introspector.user(answer, now)
		if err != nil {
			v.refused.Put(refusedKey, struct{}{}, now.Add(refusedBearerTTL), now)
			return nil, err
		}
		until := now.Add(introspectionCacheTTL)
		if !u.ExpiresAt.IsZero() && u.ExpiresAt.Before(until) {
			until = u.ExpiresAt
		}
		v.verified.Put(strings.Clone(raw), u, until, now)
		return u, nil
	})
	if err != nil {
		return nil, err
	}
	return got.(*User), nil
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
