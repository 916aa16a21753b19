package appid

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// errIntrospectionUnavailable marks an introspection endpoint that gave no answer.
var errIntrospectionUnavailable = fmt.Errorf("%w: introspection", errProviderUnavailable)

// introspectionCacheTTL is how long an introspected bearer token is admitted without asking the provider
// again (never beyond its exp): a revoked token keeps working for at most this long.
const introspectionCacheTTL = 30 * time.Second

// introspect asks the provider whether st's access token is still active (RFC 7662), as the reference app does
// on every request. It is off unless Config.Introspect is set. Any failure counts as inactive.
func (a *Auth) introspect(ctx context.Context, st *sessionState) bool {
	ctx, cancel := context.WithTimeout(ctx, providerCallTimeout)
	defer cancel()
	meta, err := a.discovery.metadata(ctx)
	if err != nil || meta.IntrospectionEndpoint == "" {
		return false
	}
	answer, err := a.introspectToken(ctx, meta, st.accessToken)
	if err != nil {
		a.log.WarnContext(ctx, "appid: introspection failed", "error", err)
		return false
	}
	active, _ := answer["active"].(bool)
	return active
}

// introspectToken posts token to the provider's introspection endpoint, authenticated as the client, and returns
// the answer's members. Failing to get an answer is errProviderUnavailable.
func (a *Auth) introspectToken(ctx context.Context, meta *providerMetadata, token string) (_ map[string]any, err error) {
	ctx, span := startSpan(ctx, a.tracer, spanIntrospect)
	defer func() { endSpan(span, err) }()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	resp, err := a.client.postForm(ctx, meta.IntrospectionEndpoint, meta.IntrospectionAuthMethods, form)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errIntrospectionUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderResponse))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer: %v", errIntrospectionUnavailable, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: POST %s: expected status 200, got %d", errIntrospectionUnavailable,
			meta.IntrospectionEndpoint, resp.StatusCode)
	}
	var answer map[string]any
	if err := json.Unmarshal(body, &answer); err != nil || answer == nil {
		return nil, fmt.Errorf("%w: %s answered no JSON object", errIntrospectionUnavailable,
			meta.IntrospectionEndpoint)
	}
	return answer, nil
}

// Bounds of introspected bearer tokens.
const (
	maxIntrospectedToken = 16 << 10         // bytes; JWTs with many groups that are not verified locally included
	refusedBearerTTL     = 15 * time.Second // how long a refused token is refused without asking again
	maxRefusedBearers    = 10_000
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
		answer, err := a.introspectToken(ctx, meta, raw)
		if err != nil {
			return nil, err
		}
		now := a.cfg.Now()
		u, err := a.introspectedUser(answer, now)
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

// introspectedUser checks an introspection answer (see bearerVerifier.introspect) and returns its user.
func (a *Auth) introspectedUser(answer map[string]any, now time.Time) (*User, error) {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: bearer token: introspection: "+format, append([]any{errTokenInvalid}, args...)...)
	}
	if active, _ := answer["active"].(bool); !active {
		return nil, invalid("not active")
	}
	sub, _ := answer["sub"].(string)
	if sub == "" {
		return nil, invalid("the answer names no sub")
	}
	if iss, ok := answer["iss"]; ok && iss != a.cfg.OAuthServerURL {
		return nil, invalid("issued by %v, expected %q", iss, a.cfg.OAuthServerURL)
	}
	// A refresh token is active too at some providers: only access tokens are bearer tokens.
	if tt, _ := answer["token_type"].(string); tt != "" && !strings.EqualFold(tt, "bearer") &&
		tt != "access_token" && tt != "urn:ietf:params:oauth:token-type:access_token" {
		return nil, invalid("token_type %q is not an access token", tt)
	}
	if typ, _ := answer["typ"].(string); typ != "" && !strings.EqualFold(typ, "bearer") { // Keycloak's token kind
		return nil, invalid("typ %q is not an access token", typ)
	}
	if use, _ := answer["token_use"].(string); use == "refresh_token" || use == "id" { // ORY Hydra's, Cognito's kinds
		return nil, invalid("token_use %q is not an access token", use)
	}
	var expiry time.Time
	if exp, ok := answer["exp"].(float64); ok {
		expiry = time.Unix(int64(exp), 0)
		if !expiry.After(now.Add(-a.cfg.ClockSkew)) {
			return nil, invalid("expired at %s", expiry.UTC().Format(time.RFC3339))
		}
	}
	clientID, _ := answer["client_id"].(string)
	if !slices.Contains(claimStrings(answer["aud"], false), a.cfg.ClientID) && clientID != a.cfg.ClientID {
		return nil, invalid("issued to client %q for audience %v, expected this client %q", clientID, answer["aud"],
			a.cfg.ClientID)
	}
	email := verifiedEmail(answer)
	scope, _ := answer["scope"].(string)
	return &User{
		ID:        sub,
		Email:     email,
		Name:      displayName(answer),
		Roles:     slices.Clip(rolesAt(answer, a.cfg.RolesClaim)),
		Scopes:    slices.Clip(scopesOf(scope)),
		ExpiresAt: expiry,
		Claims:    answer,
	}, nil
}
