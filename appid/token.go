package appid

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// tokenClaims are the claims appid reads from id and access tokens beyond those go-oidc checks.
type tokenClaims struct {
	Email string   `json:"email"`
	Name  string   `json:"name"`
	Scope string   `json:"scope"`
	Roles []string `json:"roles"`
}

// errTokenInvalid marks tokens that fail verification: signature, alg, iss, aud, times or nonce.
var errTokenInvalid = errors.New("appid: token invalid")

// verifyAccessToken checks an access token's signature (by kid, RS256 only), issuer, expiry with the bounded
// skew, issue time, and that its audience contains the client id, as App ID access tokens carry aud=[client_id].
func (a *Auth) verifyAccessToken(ctx context.Context, raw string) (*oidc.IDToken, error) {
	tok, err := a.accessVerifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: access token: %v", errTokenInvalid, err)
	}
	if !slices.Contains(tok.Audience, a.cfg.ClientID) {
		return nil, fmt.Errorf("%w: access token: expected audience to contain %q, got %q", errTokenInvalid,
			a.cfg.ClientID, tok.Audience)
	}
	if err := a.checkIssuedAt(tok); err != nil {
		return nil, fmt.Errorf("%w: access token: %v", errTokenInvalid, err)
	}
	return tok, nil
}

// verifyIDToken checks an id token like verifyAccessToken (audience through go-oidc) plus its nonce.
func (a *Auth) verifyIDToken(ctx context.Context, raw, nonce string) (*oidc.IDToken, error) {
	tok, err := a.idVerifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: id token: %v", errTokenInvalid, err)
	}
	if tok.Nonce != nonce {
		return nil, fmt.Errorf("%w: id token: nonce does not match the login's", errTokenInvalid)
	}
	if err := a.checkIssuedAt(tok); err != nil {
		return nil, fmt.Errorf("%w: id token: %v", errTokenInvalid, err)
	}
	return tok, nil
}

// checkIssuedAt refuses tokens issued in the future beyond the allowed skew.
func (a *Auth) checkIssuedAt(tok *oidc.IDToken) error {
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
