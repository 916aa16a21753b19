package appid

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// defaultAccessTokenLifetime is how long an opaque access token is taken to last when neither the token response
// (expires_in) nor an id token says.
const defaultAccessTokenLifetime = 5 * time.Minute

// oidcProvider is any OpenID Connect provider (ProviderOIDC): the id token proves who the user is, roles come
// from a claim (of the id token, userinfo or the access token), opaque bearer tokens are introspected, and
// logout goes through the provider's end_session_endpoint.
type oidcProvider struct{ a *Auth }

// session verifies the tokens of a login (nonce non-empty, prev nil) or of a refresh of prev, and builds the
// session from them, without an id (the caller names it). The id token proves who the user
// is; the access token is verified as a JWT only when it is one for this client, and is otherwise kept as the
// opaque value it is, bound to the id token by at_hash when the id token has one; userinfo fills in what the id
// token lacks (email, name or roles), and its sub must be the id token's. A refresh without a new id token keeps
// the login's identity.
func (p *oidcProvider) session(ctx context.Context, tok *oauth2.Token, nonce string, prev *sessionState, now time.Time) (*sessionState, error) {
	a := p.a
	meta, err := a.discovery.metadata(ctx)
	if err != nil {
		return nil, err
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" && prev == nil {
		return nil, fmt.Errorf("%w: the token response holds no id_token", errTokenInvalid)
	}
	st := &sessionState{refreshToken: tok.RefreshToken, createdAt: now, savedAt: now, validatedAt: now}
	if a.cfg.Introspect || a.cfg.KeepAccessToken {
		st.accessToken = tok.AccessToken
	}
	var idExpiry time.Time
	if rawID != "" {
		id, err := a.tokens.verifyIDToken(ctx, rawID, nonce)
		if err != nil {
			return nil, err
		}
		if id.AccessTokenHash != "" && id.VerifyAccessToken(tok.AccessToken) != nil {
			return nil, fmt.Errorf("%w: the access token does not match the id token's at_hash", errTokenInvalid)
		}
		if err := st.keepIdentityClaims(id); err != nil {
			return nil, err
		}
		st.user.ID, idExpiry = id.Subject, id.Expiry
		if meta.EndSessionEndpoint != "" {
			st.idToken = rawID // the logout's id_token_hint
		}
	} else {
		st.user.ID, st.user.Claims = prev.user.ID, prev.user.Claims
		st.providerSID, st.idToken = prev.providerSID, prev.idToken
	}

	access, accessClaims, err := p.accessTokenForClient(ctx, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	if access != nil && access.Subject != st.user.ID {
		return nil, fmt.Errorf("%w: access token subject %q differs from the id token's %q", errTokenInvalid,
			access.Subject, st.user.ID)
	}

	claims := st.user.Claims
	_, haveRoles := claimAt(claims, a.cfg.RolesClaim)
	if _, ok := claimAt(accessClaims, a.cfg.RolesClaim); ok {
		haveRoles = true
	}
	// A refresh without a new id token asks userinfo every time: the claims kept from the login (roles merged in
	// from userinfo among them) would otherwise outlive a role the provider withdrew.
	refreshedWithoutID := rawID == "" && prev != nil
	if meta.UserinfoEndpoint != "" && (refreshedWithoutID || stringClaim(claims, "email") == "" ||
		displayName(claims) == "" || !haveRoles) {
		info, err := p.userinfo(ctx, meta.UserinfoEndpoint, tok.AccessToken)
		if err != nil {
			return nil, err
		}
		if sub := info["sub"].(string); sub != st.user.ID {
			return nil, fmt.Errorf("%w: userinfo sub %q differs from the id token's %q", errTokenInvalid, sub, st.user.ID)
		}
		// Userinfo's claims are the provider's current word: they replace the id token's of the same name.
		claims = maps.Clone(claims)
		if claims == nil {
			claims = map[string]any{}
		}
		for k, v := range info {
			if !slices.Contains(protocolClaims, k) {
				claims[k] = v
			}
		}
	}
	raw, err := json.Marshal(claims)
	if err != nil {
		return nil, fmt.Errorf("%w: identity claims: %v", errTokenInvalid, err)
	}
	st.claims, st.user.Claims = string(raw), claims

	st.user.Email, st.user.Name = verifiedEmail(claims), displayName(claims)
	st.user.Roles = rolesAt(claims, a.cfg.RolesClaim)
	if st.user.Roles == nil {
		st.user.Roles = rolesAt(accessClaims, a.cfg.RolesClaim)
	}
	st.user.Scopes = grantedScopes(tok, accessClaims)
	if st.user.Scopes == nil {
		// RFC 6749 §5.1: a response without scope granted what was asked (at login) or granted before.
		if prev != nil {
			st.user.Scopes = prev.user.Scopes
		} else {
			st.user.Scopes, _ = p.login(meta)
		}
	}
	// The lifetime the token response states is relative, so a provider whose clock differs from ours does not
	// make a new session look expired (or expire late).
	switch {
	case tok.ExpiresIn > 0:
		st.user.ExpiresAt = now.Add(time.Duration(tok.ExpiresIn) * time.Second)
	case access != nil:
		st.user.ExpiresAt = access.Expiry
	case !idExpiry.IsZero():
		st.user.ExpiresAt = idExpiry
	default:
		st.user.ExpiresAt = now.Add(defaultAccessTokenLifetime)
	}
	return st, nil
}

// accessTokenForClient returns the access token raw verified, with its claims, when it is a JWT whose audience
// holds this client; nil when it is not one (opaque, encrypted, or a JWT for another audience): such a token is
// for the provider's resource servers, and the client only passes it on.
func (p *oidcProvider) accessTokenForClient(ctx context.Context, raw string) (*oidc.IDToken, map[string]any, error) {
	if !p.jwtForClient(raw) {
		return nil, nil, nil
	}
	tok, err := p.a.tokens.verifyAccessToken(ctx, raw)
	if err != nil {
		return nil, nil, err
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return nil, nil, fmt.Errorf("%w: access token claims: %v", errTokenInvalid, err)
	}
	return tok, claims, nil
}

// jwtForClient reports whether raw is an access token as a JWT (RS256, the one algorithm appidgate verifies)
// whose aud holds the client id, read without checking its signature: only to decide how to check it. An id
// token for this client has that audience too, and need carry none of the claims that only id tokens carry
// (nonce, at_hash): so the JWT must also show that it is an access token, by its typ at+jwt (RFC 9068) or a claim
// that access tokens carry and id tokens do not (below). Any other JWT is for the
// provider to judge (introspection), never admitted locally.
func (p *oidcProvider) jwtForClient(raw string) bool {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(jws.Signatures) != 1 {
		return false
	}
	var claims map[string]json.RawMessage
	if json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims) != nil {
		return false
	}
	var aud any
	if json.Unmarshal(claims["aud"], &aud) != nil || !slices.Contains(claimStrings(aud, false), p.a.cfg.ClientID) {
		return false
	}
	typ, _ := jws.Signatures[0].Protected.ExtraHeaders[jose.HeaderType].(string)
	if t := strings.ToLower(typ); t == "at+jwt" || t == "application/at+jwt" {
		return true
	}
	// client_id (RFC 9068), scope, scp (Microsoft, Okta), cid (Okta), azpacr and appidacr (Microsoft Entra ID's
	// app-only tokens, which carry no scope): claims of access tokens, never of id tokens.
	for _, name := range []string{"client_id", "scope", "scp", "cid", "azpacr", "appidacr"} {
		if _, ok := claims[name]; ok {
			return true
		}
	}
	return string(claims["idtyp"]) == `"app"` // Entra ID: a token of an application, not of a user
}

// rolesAt returns the role names at path (Config.RolesClaim) in claims, nil when there is no such claim.
func rolesAt(claims map[string]any, path string) []string {
	v, ok := claimAt(claims, path)
	if !ok {
		return nil
	}
	return claimStrings(v, false)
}

// grantedScopes are the scopes the token response grants (its scope member), else the access token's scope
// (or Microsoft's scp) claim; nil when neither says.
func grantedScopes(tok *oauth2.Token, accessClaims map[string]any) []string {
	if s, ok := tok.Extra("scope").(string); ok && strings.TrimSpace(s) != "" {
		return strings.Fields(s)
	}
	return scopesFromClaims(accessClaims)
}

// scopesFromClaims reads a token's scope claim (space-separated), or Microsoft's scp (a string or a list).
func scopesFromClaims(claims map[string]any) []string {
	for _, name := range []string{"scope", "scp"} {
		if v, ok := claims[name]; ok {
			if s := claimStrings(v, true); len(s) > 0 {
				return s
			}
		}
	}
	return nil
}

// verifiedEmail returns the email claim unless the provider says it is not verified (email_verified false, or
// "false" as Amazon Cognito writes it): at some providers users set their email themselves, and an app reading
// User.Email (or the proxy's email headers) must not take someone else's address for theirs. The claim itself
// stays in Claims. A provider that says nothing (Microsoft Entra ID) is taken at its word, as oauth2-proxy does.
func verifiedEmail(claims map[string]any) string {
	switch v := claims["email_verified"].(type) {
	case bool:
		if !v {
			return ""
		}
	case string:
		if strings.EqualFold(v, "false") {
			return ""
		}
	}
	return stringClaim(claims, "email")
}

// stringClaim returns the claim name of claims when it is a string.
func stringClaim(claims map[string]any, name string) string {
	s, _ := claims[name].(string)
	return s
}

// displayName is the user's name: the name claim, else given_name and family_name.
func displayName(claims map[string]any) string {
	if name := stringClaim(claims, "name"); name != "" {
		return name
	}
	return strings.TrimSpace(stringClaim(claims, "given_name") + " " + stringClaim(claims, "family_name"))
}

// refreshed keeps nothing of prev: the refreshed claims are the provider's current word, roles included (a
// refresh without a new id token kept the login's identity in session).
func (p *oidcProvider) refreshed(renewed, prev *sessionState) {}

// bearerUser admits a JWT access token for this client by its signature and claims, and any other token
// (opaque, or a JWT for another audience) through the provider's introspection endpoint, which caches its own
// answers. The email is the verified one only.
func (p *oidcProvider) bearerUser(ctx context.Context, raw string) (*User, bool, error) {
	if !p.jwtForClient(raw) {
		u, err := p.a.bearer.introspect(ctx, raw)
		return u, false, err
	}
	tok, err := p.a.tokens.verifyAccessToken(ctx, raw)
	if err != nil {
		return nil, false, err
	}
	u, err := p.a.bearer.jwtUser(tok, func(_ tokenClaims, all map[string]any) string { return verifiedEmail(all) })
	return u, err == nil, err
}

// login asks for Config.Scopes plus offline_access when discovery lists it (so that sessions outlive the access
// token, unless Config.DisableOfflineAccess), and authenticates the client as discovery's
// token_endpoint_auth_methods_supported allows (see clientSecretBasic).
func (p *oidcProvider) login(meta *providerMetadata) ([]string, oauth2.AuthStyle) {
	cfg := &p.a.cfg
	scopes := cfg.Scopes
	if !cfg.DisableOfflineAccess && !slices.Contains(cfg.Scopes, scopeOfflineAccess) &&
		slices.Contains(meta.ScopesSupported, scopeOfflineAccess) {
		scopes = append(slices.Clip(cfg.Scopes), scopeOfflineAccess)
	}
	style := oauth2.AuthStyleInParams
	if clientSecretBasic(meta.TokenAuthMethods) {
		style = oauth2.AuthStyleInHeader
	}
	return scopes, style
}

// logoutURL is the provider's end_session_endpoint, when it lists one.
func (p *oidcProvider) logoutURL(meta *providerMetadata, idToken, back string) string {
	return endSessionURL(&p.a.cfg, meta, idToken, back)
}

// checkMetadata requires RS256 among the id token signing algorithms (when listed) and, for an https issuer,
// https endpoints. No App ID paths are assumed.
func (p *oidcProvider) checkMetadata(m *providerMetadata) error {
	if len(m.SigningAlgs) > 0 && !slices.Contains(m.SigningAlgs, "RS256") {
		return fmt.Errorf("%w: discovery: the provider signs id tokens with %q; appidgate verifies RS256",
			errProviderUnavailable, m.SigningAlgs)
	}
	if strings.HasPrefix(m.Issuer, "https://") {
		// The client secret, codes and tokens go to these: never over plaintext, wherever they are hosted.
		for _, ep := range []string{m.AuthorizationEndpoint, m.TokenEndpoint, m.JWKSURI, m.UserinfoEndpoint,
			m.EndSessionEndpoint, m.RevocationEndpoint, m.IntrospectionEndpoint} {
			if ep != "" && !strings.HasPrefix(ep, "https://") {
				return fmt.Errorf("%w: discovery: the https issuer lists the endpoint %q, not https",
					errProviderUnavailable, ep)
			}
		}
	}
	return nil
}
