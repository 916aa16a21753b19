package appid

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// tokenClaims are the claims appid reads from id and access tokens beyond those go-oidc checks.
type tokenClaims struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	Scope string `json:"scope"`
}

// errTokenInvalid marks tokens that fail verification: signature, alg, iss, aud, times or nonce.
var errTokenInvalid = errors.New("appid: token invalid")

// errNonceMismatch marks an id token whose nonce is not the login's (with errTokenInvalid).
var errNonceMismatch = errors.New("id token: nonce does not match the login's")

// idTokenOnlyClaims appear in id tokens and never in access tokens: a token carrying one is an id token
// presented as an access token (id tokens have aud=[client_id] too, so the audience does not tell them apart).
var idTokenOnlyClaims = []string{"nonce", "at_hash", "c_hash"}

// requiredClaims must be present in id tokens (OpenID Connect Core §2) and in access tokens (as App ID issues
// them). go-oidc does not check that each is present: without iat or sub a token would pass.
var requiredClaims = []string{"iss", "sub", "aud", "exp", "iat"}

// tokenVerifier verifies the provider's id and access tokens against its signing keys (Auth.keys) and the
// configuration's client id, issuer, clock and skew.
type tokenVerifier struct {
	a *Auth
	// id checks id tokens, audience included. access checks access tokens except for their audience, which
	// verifyAccessToken checks itself (App ID access tokens carry aud=[client_id]) so that the error says which
	// token failed.
	id     *oidc.IDTokenVerifier
	access *oidc.IDTokenVerifier
}

// newTokenVerifier returns the token verifier of a, whose keys must be set.
func newTokenVerifier(a *Auth) *tokenVerifier {
	cfg := a.cfg
	skewedNow := func() time.Time { return cfg.Now().Add(-cfg.ClockSkew) }
	algs := []string{oidc.RS256}
	return &tokenVerifier{a: a,
		id: oidc.NewVerifier(cfg.OAuthServerURL, a.keys,
			&oidc.Config{ClientID: cfg.ClientID, SupportedSigningAlgs: algs, Now: skewedNow}),
		access: oidc.NewVerifier(cfg.OAuthServerURL, a.keys,
			&oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: algs, Now: skewedNow}),
	}
}

// verifyAccessToken checks an access token's required claims, signature (by kid, RS256 only), issuer, expiry
// with the bounded skew, issue time, and that its audience contains the client id, as App ID access tokens carry
// aud=[client_id]. It refuses id tokens: tokens with id-token-only claims, and, from App ID, tokens without a
// scope claim.
func (t *tokenVerifier) verifyAccessToken(ctx context.Context, raw string) (*oidc.IDToken, error) {
	a := t.a
	tok, err := t.verify(ctx, t.access, "access token", raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(tok.Audience, a.cfg.ClientID) {
		return nil, fmt.Errorf("%w: access token: expected audience to contain %q, got %q", errTokenInvalid,
			a.cfg.ClientID, tok.Audience)
	}
	var claims map[string]json.RawMessage
	if err := tok.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: access token claims: %v", errTokenInvalid, err)
	}
	for _, name := range idTokenOnlyClaims {
		if _, ok := claims[name]; ok {
			return nil, fmt.Errorf("%w: access token: expected no %q claim, got one (an id token?)", errTokenInvalid,
				name)
		}
	}
	if _, ok := claims["events"]; ok {
		// A security event token, such as a back-channel logout token (iss, aud, sub, iat, exp like an access
		// token): never a credential (RFC 8417 §2.2; RFC 8725 §3.11).
		return nil, fmt.Errorf("%w: access token: expected no \"events\" claim, got one (a logout token?)",
			errTokenInvalid)
	}
	return tok, nil
}

// verifyIDToken checks an id token like verifyAccessToken (audience through go-oidc) plus, at login (nonce
// non-empty), its nonce. A refresh passes nonce "": providers may repeat the login's nonce in refreshed id
// tokens, and there is no new one to compare with.
func (t *tokenVerifier) verifyIDToken(ctx context.Context, raw, nonce string) (*oidc.IDToken, error) {
	a := t.a
	tok, err := t.verify(ctx, t.id, "id token", raw)
	if err != nil {
		return nil, err
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 {
		return nil, fmt.Errorf("%w: %w", errTokenInvalid, errNonceMismatch)
	}
	// OpenID Connect Core §3.1.3.7 (4, 5): a token for several audiences names the party it was issued to.
	var azp struct {
		AuthorizedParty *string `json:"azp"`
	}
	if err := tok.Claims(&azp); err != nil {
		return nil, fmt.Errorf("%w: id token claims: %v", errTokenInvalid, err)
	}
	switch {
	case azp.AuthorizedParty != nil && *azp.AuthorizedParty != a.cfg.ClientID:
		return nil, fmt.Errorf("%w: id token: issued to %q (azp), not this client %q", errTokenInvalid,
			*azp.AuthorizedParty, a.cfg.ClientID)
	case azp.AuthorizedParty == nil && len(tok.Audience) > 1:
		return nil, fmt.Errorf("%w: id token: for several audiences %q without an azp claim", errTokenInvalid,
			tok.Audience)
	}
	return tok, nil
}

// verify checks that raw, a token of the kind which names, carries every required claim, then verifies it with
// v and checks its issue time. It refuses a bad token with errTokenInvalid, and answers errProviderUnavailable
// when no signing key of the provider could be loaded to verify a token whose claims do not already fail.
func (t *tokenVerifier) verify(ctx context.Context, v *oidc.IDTokenVerifier, which, raw string) (*oidc.IDToken, error) {
	claims, err := unverifiedClaims(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errTokenInvalid, which, err)
	}
	for _, name := range requiredClaims {
		if value, ok := claims[name]; !ok || string(value) == "null" || string(value) == `""` {
			return nil, fmt.Errorf("%w: %s: expected a %q claim, got none", errTokenInvalid, which, name)
		}
	}
	tok, err := v.Verify(ctx, raw)
	if err != nil {
		// go-oidc checks the signature first and keeps only the text of the key set's error. Without a single
		// key loaded, no signature could be checked: the provider is at fault, unless the token fails anyway.
		if !t.a.keys.loaded() && !t.failsUnverified(claims) {
			return nil, fmt.Errorf("%w: %s: %v", errProviderUnavailable, which, err)
		}
		return nil, fmt.Errorf("%w: %s: %v", errTokenInvalid, which, err)
	}
	if err := t.checkIssuedAt(tok); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errTokenInvalid, which, err)
	}
	return tok, nil
}

// unverifiedClaims returns the claims of raw, an RS256 JWS, read without checking its signature: only for
// checks that refuse a token whatever its signature.
func unverifiedClaims(raw string) (map[string]json.RawMessage, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("malformed jwt: %v", err)
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &claims); err != nil {
		return nil, fmt.Errorf("malformed claims: %v", err)
	}
	return claims, nil
}

// failsUnverified reports whether claims, read without checking the signature, already fail: another issuer or
// expired. go-oidc checks the signature first, so while keys are out of reach such a token would otherwise be
// reported as the provider's failure (503) rather than the token's (401).
func (t *tokenVerifier) failsUnverified(claims map[string]json.RawMessage) bool {
	a := t.a
	var issuer string
	var expiry jwt.NumericDate
	if json.Unmarshal(claims["iss"], &issuer) != nil || json.Unmarshal(claims["exp"], &expiry) != nil {
		return true
	}
	return issuer != a.cfg.OAuthServerURL || expiry.Time().Before(a.cfg.Now().Add(-a.cfg.ClockSkew))
}

// checkIssuedAt refuses tokens issued in the future beyond the allowed skew.
func (t *tokenVerifier) checkIssuedAt(tok *oidc.IDToken) error {
	a := t.a
	if limit := a.cfg.Now().Add(a.cfg.ClockSkew); tok.IssuedAt.After(limit) {
		return fmt.Errorf("issued at %s, after the current time %s", tok.IssuedAt.UTC().Format(time.RFC3339),
			limit.UTC().Format(time.RFC3339))
	}
	return nil
}

// scopesOf splits a space-separated scope claim.
func scopesOf(scope string) []string {
	if scope == "" {
		return nil
	}
	return strings.Fields(scope)
}

// errSubjectChanged refuses a refresh that returns tokens of another user.
var errSubjectChanged = fmt.Errorf("%w: refreshed tokens belong to another subject", errTokenInvalid)
