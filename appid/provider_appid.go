package appid

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// amrAnonymous is the amr value of App ID's anonymous users, whom App ID signs in without credentials when the
// authorization request says idp=appid_anon.
const amrAnonymous = "appid_anon"

// errAnonymousUser marks the tokens of an App ID anonymous user while Config.AllowAnonymous is off (with
// errTokenInvalid, so that a login fails, a refresh ends the session and a bearer token gets 401).
var errAnonymousUser = errors.New("appid: the token is an anonymous user's (amr appid_anon), which " +
	"Config.AllowAnonymous (APPIDGATE_ALLOW_ANONYMOUS) does not admit")

// anonymousAMR reports whether claims' amr (an array, or a single string) names App ID's anonymous sign-in.
func anonymousAMR(claims map[string]any) bool {
	switch amr := claims["amr"].(type) {
	case string:
		return amr == amrAnonymous
	case []any:
		for _, v := range amr {
			if v == amrAnonymous {
				return true
			}
		}
	}
	return false
}

// appIDProvider is IBM Cloud App ID, as the reference app uses it (ProviderAppID): access tokens are JWTs that
// say who the user is, roles come from the management API at login (or the RolesClaim claim), and logout ends
// the provider's session at App ID's SSO logout.
type appIDProvider struct {
	a *Auth
	// scopeClaim: the issuer has App ID's /oauth/v4/<tenant> form, so its access tokens carry a scope claim
	// (which tells them from id tokens).
	scopeClaim bool
}

// newAppIDProvider returns App ID's provider for a, with the management API's roles when a has an API key or a
// trusted profile.
func newAppIDProvider(a *Auth) *appIDProvider {
	if a.iamTokens = iamTokenSource(a.cfg); a.iamTokens != nil {
		a.roles = managementRoles(a.cfg, a.iamTokens)
	}
	return &appIDProvider{a: a, scopeClaim: strings.Contains(a.cfg.OAuthServerURL, "/oauth/v4/")}
}

// verifyAccess verifies an access token (see tokenVerifier.verifyAccessToken); App ID's carry a scope claim.
func (p *appIDProvider) verifyAccess(ctx context.Context, raw string) (*oidc.IDToken, error) {
	tok, err := p.a.tokens.verifyAccessToken(ctx, raw)
	if err != nil || !p.scopeClaim {
		return tok, err
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: access token claims: %v", errTokenInvalid, err)
	}
	if _, ok := claims["scope"]; !ok {
		return nil, fmt.Errorf("%w: access token: expected a scope claim as App ID issues, got none (an id token?)",
			errTokenInvalid)
	}
	return tok, nil
}

// session verifies the tokens of a login (nonce non-empty, prev nil) or of a refresh (nonce empty: the id token,
// if any, is not checked for one): App ID's access token is a JWT that says who the user is and what they were
// granted; the id token, when there is one, must name the same subject and adds the email, name and identity
// claims. Roles come from the RolesClaim claim when a token has one (the management API's are added at login).
// An anonymous user's tokens (amr appid_anon) are refused unless Config.AllowAnonymous; admitted, they make a
// User with Anonymous set and no roles.
func (p *appIDProvider) session(ctx context.Context, tok *oauth2.Token, nonce string, _ *sessionState, now time.Time) (*sessionState, error) {
	a := p.a
	rawID, _ := tok.Extra("id_token").(string)
	if nonce != "" && rawID == "" {
		return nil, fmt.Errorf("%w: the token response holds no id_token", errTokenInvalid)
	}
	access, err := p.verifyAccess(ctx, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	var claims tokenClaims
	var accessClaims map[string]any
	if err := access.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: access token claims: %v", errTokenInvalid, err)
	}
	if err := access.Claims(&accessClaims); err != nil {
		return nil, fmt.Errorf("%w: access token claims: %v", errTokenInvalid, err)
	}
	anonymous := anonymousAMR(accessClaims)
	if anonymous && !a.cfg.AllowAnonymous {
		return nil, fmt.Errorf("%w: %w", errTokenInvalid, errAnonymousUser)
	}
	st := &sessionState{refreshToken: tok.RefreshToken, createdAt: now, savedAt: now, validatedAt: now}
	if a.cfg.Introspect || a.cfg.KeepAccessToken {
		// Only introspection and User.AccessToken need the raw access token again; without them the session
		// (and the cookie that every request decrypts) stays small.
		st.accessToken = tok.AccessToken
	}
	st.user.ID = access.Subject
	st.user.ExpiresAt = access.Expiry
	st.user.Scopes = scopesOf(claims.Scope)
	st.user.Roles = rolesAt(accessClaims, a.cfg.RolesClaim)
	if rawID != "" {
		id, err := a.tokens.verifyIDToken(ctx, rawID, nonce)
		if err != nil {
			return nil, err
		}
		if id.Subject != access.Subject {
			return nil, fmt.Errorf("%w: id token subject %q differs from access token subject %q", errTokenInvalid,
				id.Subject, access.Subject)
		}
		var idClaims tokenClaims
		if err := id.Claims(&idClaims); err != nil {
			return nil, fmt.Errorf("%w: id token claims: %v", errTokenInvalid, err)
		}
		claims.Email, claims.Name = idClaims.Email, idClaims.Name
		if err := st.keepIdentityClaims(id); err != nil {
			return nil, err
		}
		if anonymousAMR(st.user.Claims) && !a.cfg.AllowAnonymous {
			return nil, fmt.Errorf("%w: id token: %w", errTokenInvalid, errAnonymousUser)
		}
		if len(st.user.Roles) == 0 {
			st.user.Roles = rolesAt(st.user.Claims, a.cfg.RolesClaim)
		}
	}
	st.user.Email, st.user.Name = claims.Email, claims.Name
	if anonymous {
		st.user.Anonymous, st.user.Roles = true, nil // an anonymous user holds no role
	}
	return st, nil
}

// refreshed keeps what App ID's refresh does not tell again: the roles read at login (a refresh costs no
// management call), the email and name, and without a new id token the login's identity.
func (p *appIDProvider) refreshed(renewed, prev *sessionState) {
	if p.a.roles != nil || len(renewed.user.Roles) == 0 {
		renewed.user.Roles = prev.user.Roles // roles were read at login; refresh costs no management call
	}
	if renewed.user.Email == "" {
		renewed.user.Email, renewed.user.Name = prev.user.Email, prev.user.Name
	}
	if renewed.claims == "" { // no new id token: the login's identity stays
		renewed.claims, renewed.user.Claims = prev.claims, prev.user.Claims
		renewed.providerSID, renewed.idToken = prev.providerSID, prev.idToken
	}
}

// bearerUser verifies a JWT access token and builds its user from its claims. An anonymous user's token (amr
// appid_anon) is refused unless Config.AllowAnonymous; admitted, its user has Anonymous set and no roles.
func (p *appIDProvider) bearerUser(ctx context.Context, raw string) (*User, bool, error) {
	tok, err := p.verifyAccess(ctx, raw)
	if err != nil {
		return nil, false, err
	}
	u, err := p.a.bearer.jwtUser(tok, func(c tokenClaims, _ map[string]any) string { return c.Email })
	if err != nil {
		return nil, false, err
	}
	if anonymousAMR(u.Claims) {
		if !p.a.cfg.AllowAnonymous {
			return nil, false, fmt.Errorf("%w: %w", errTokenInvalid, errAnonymousUser)
		}
		u.Anonymous, u.Roles = true, nil
	}
	return u, true, nil
}

// login asks for Config.Scopes, and authenticates the client with HTTP Basic.
func (p *appIDProvider) login(*providerMetadata) ([]string, oauth2.AuthStyle) {
	return p.a.cfg.Scopes, oauth2.AuthStyleInHeader
}

// logoutURL is App ID's SSO logout when the issuer has App ID's form, else a listed end_session_endpoint.
func (p *appIDProvider) logoutURL(meta *providerMetadata, idToken, back string) string {
	if meta.appIDShaped {
		q := url.Values{"redirect_uri": {back}, "client_id": {p.a.cfg.ClientID}}
		return meta.Issuer + "/cloud_directory/sso/logout?" + q.Encode()
	}
	return endSessionURL(&p.a.cfg, meta, idToken, back)
}

// checkMetadata notes an issuer of App ID's /oauth/v4/<tenant> form, whose revocation and introspection
// endpoints App ID's discovery does not list.
func (p *appIDProvider) checkMetadata(m *providerMetadata) error {
	m.appIDShaped = strings.Contains(m.Issuer, "/oauth/v4/")
	if m.appIDShaped {
		if m.RevocationEndpoint == "" {
			m.RevocationEndpoint = m.Issuer + "/revoke"
		}
		if m.IntrospectionEndpoint == "" {
			m.IntrospectionEndpoint = m.Issuer + "/introspect"
		}
	}
	return nil
}
