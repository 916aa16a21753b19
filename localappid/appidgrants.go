package localappid

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// assertionLeeway is the clock skew allowed on a custom identity assertion's exp, iat and nbf.
const assertionLeeway = time.Minute

// maxAssertionLifetime bounds how far ahead a custom identity assertion's exp may be (plus assertionLeeway): an
// assertion is a one-time proof of a sign-in that just happened, not a credential to keep.
const maxAssertionLifetime = 10 * time.Minute

// exchangePassword is the resource owner password grant for Cloud Directory users (username or email), as IBM's
// SDKs use for their own login forms. An anonymous user's appid_access_token links that user's profile.
func (p *Provider) exchangePassword(r *http.Request, client *Client) (tokenResponse, *oauthError) {
	f := r.PostForm
	if f.Get("username") == "" || f.Get("password") == "" {
		return tokenResponse{}, invalidRequest("username and password are required")
	}
	u := p.checkPassword(f.Get("username"), f.Get("password"))
	if u == nil {
		return tokenResponse{}, invalidGrant("Wrong credentials")
	}
	if !p.isConfirmed(u) {
		return tokenResponse{}, &oauthError{status: http.StatusForbidden, code: "FORBIDDEN", description: "User is not verified", appIDCode: true}
	}
	return p.issueUserTokens(r, client, u, f.Get("scope"), f.Get("appid_access_token"))
}

// issueUserTokens links an anonymous profile when anonToken names one, then mints the user's tokens, with a
// refresh token when the client may refresh.
func (p *Provider) issueUserTokens(r *http.Request, client *Client, u *user, scope, anonToken string) (tokenResponse, *oauthError) {
	if anonToken != "" {
		if e := p.linkAnonymous(r, anonToken, u); e != nil {
			return tokenResponse{}, e
		}
	}
	now := p.cfg.Now()
	var refreshToken string
	if client.allowsGrant(GrantRefreshToken) {
		var e *oauthError
		refreshToken, e = p.startRefreshFamily(refreshGrant{clientID: client.ID, userID: u.ID, scope: scope, authTime: now, family: randomToken()})
		if e != nil {
			return tokenResponse{}, e
		}
	}
	resp, err := p.userTokens(p.issuer(r), client, u, "", now, "")
	if err != nil {
		return tokenResponse{}, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "could not sign tokens"}
	}
	resp.RefreshToken = refreshToken
	return resp, nil
}

// assertionClaims are the custom identity assertion's claims App ID reads.
type assertionClaims struct {
	jwt.Claims
	Name  string `json:"name"`
	Email string `json:"email"`
}

// exchangeAssertion is App ID's custom identity grant: an RS256 JWT signed with a key registered in
// Config.CustomIdentity, with iss, sub, aud (the OAuth server URL) and exp. The user is found by the assertion's
// sub, or created on its first sign-in.
func (p *Provider) exchangeAssertion(r *http.Request, client *Client) (tokenResponse, *oauthError) {
	raw := r.PostForm.Get("assertion")
	if raw == "" {
		return tokenResponse{}, invalidRequest("assertion is missing")
	}
	c, err := p.verifyAssertion(raw, p.issuer(r))
	if err != nil {
		return tokenResponse{}, invalidGrant(err.Error())
	}
	if e := p.spendAssertion(raw, c); e != nil {
		return tokenResponse{}, e
	}
	u, e := p.customUser(c)
	if e != nil {
		return tokenResponse{}, e
	}
	return p.issueUserTokens(r, client, u, r.PostForm.Get("scope"), r.PostForm.Get("appid_access_token"))
}

// verifyAssertion checks a custom identity assertion's signature against the registered keys and its claims.
func (p *Provider) verifyAssertion(raw, audience string) (assertionClaims, error) {
	if len(p.customKeys) == 0 {
		return assertionClaims{}, errors.New("custom identity is not configured: no public key is registered")
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return assertionClaims{}, errors.New("assertion is not an RS256 JWT")
	}
	var c assertionClaims
	verified := false
	for _, k := range p.customKeys {
		if tok.Claims(k, &c) == nil {
			verified = true
			break
		}
	}
	switch {
	case !verified:
		return assertionClaims{}, errors.New("assertion signature is invalid")
	case c.Issuer == "":
		return assertionClaims{}, errors.New("assertion has no iss")
	case c.Subject == "":
		return assertionClaims{}, errors.New("assertion has no sub")
	case c.Expiry == nil:
		return assertionClaims{}, errors.New("assertion has no exp")
	}
	err = c.ValidateWithLeeway(jwt.Expected{AnyAudience: jwt.Audience{audience}, Time: p.cfg.Now()}, assertionLeeway)
	switch {
	case errors.Is(err, jwt.ErrInvalidAudience):
		return assertionClaims{}, fmt.Errorf("assertion aud must be %s", audience)
	case errors.Is(err, jwt.ErrExpired):
		return assertionClaims{}, errors.New("assertion is expired")
	case err != nil:
		return assertionClaims{}, fmt.Errorf("assertion is not valid yet or malformed: %v", err)
	}
	if now := p.cfg.Now(); c.Expiry.Time().After(now.Add(maxAssertionLifetime + assertionLeeway)) {
		return assertionClaims{}, fmt.Errorf("assertion exp is more than %v ahead: a custom identity assertion must be short-lived", maxAssertionLifetime)
	}
	if len(c.Subject) > 255 || len(c.Name) > 255 || len(c.Email) > 255 {
		return assertionClaims{}, errors.New("assertion sub, name or email is longer than 255 bytes")
	}
	return c, nil
}

// spendAssertion records a verified assertion as used until it expires, and refuses one already used: by its iss
// and jti, or by the whole assertion when it has no jti. At most Config.StoreLimit are remembered; past that the
// grant answers 503.
func (p *Provider) spendAssertion(raw string, c assertionClaims) *oauthError {
	key := "sha256:" + tokenHash(raw)
	if c.ID != "" {
		key = "jti:" + c.Issuer + "\x00" + c.ID
	}
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if exp, used := p.assertions.get(key); used && now.Before(exp) {
		return invalidGrant("assertion was already used (its jti, or the assertion itself, was seen before)")
	}
	if !p.assertions.add(now, key, c.Expiry.Time().Add(assertionLeeway)) {
		return storeFull("used custom identity assertions", p.assertions.retryAfter(now))
	}
	return nil
}

// customUser finds the custom identity user by the assertion's sub, or creates it.
func (p *Provider) customUser(c assertionClaims) (*user, *oauthError) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := p.customUsers[c.Subject]; u != nil {
		return u, nil
	}
	u := &user{
		User:       User{ID: uuidShaped("localappid custom identity " + c.Subject), Name: c.Name, Email: c.Email},
		idp:        idpCustom,
		externalID: c.Subject,
		attrs:      map[string]string{},
		confirmed:  true,
	}
	if !p.addUserLocked(u) {
		return nil, usersFull()
	}
	p.customUsers[c.Subject] = u
	return u, nil
}

// isConfirmed reports whether a user may sign in: every user but a signed-up one whose email is not confirmed.
func (p *Provider) isConfirmed(u *user) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return u.confirmed
}

// parseRSAPublicKey reads a PEM "PUBLIC KEY" (PKIX) or "RSA PUBLIC KEY" (PKCS #1) holding an RSA key.
func parseRSAPublicKey(s string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("not a PEM-encoded public key")
	}
	switch block.Type {
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("a %T, not an RSA public key", k)
		}
		return rk, nil
	default:
		return nil, fmt.Errorf("PEM block %q is not a PUBLIC KEY or RSA PUBLIC KEY", block.Type)
	}
}
