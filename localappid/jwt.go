package localappid

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// appIDScopes are the preset scopes App ID puts in every user access token before the role scopes.
var appIDScopes = []string{"openid", "appid_default", "appid_readprofile", "appid_readuserattr", "appid_writeuserattr", "appid_authenticated"}

// accessClaims are App ID's access token claims.
type accessClaims struct {
	Issuer        string   `json:"iss"`
	Expiry        int64    `json:"exp"`
	Audience      []string `json:"aud"`
	Subject       string   `json:"sub"`
	EmailVerified bool     `json:"email_verified"`
	AMR           []string `json:"amr,omitempty"`
	IssuedAt      int64    `json:"iat"`
	Tenant        string   `json:"tenant"`
	Scope         string   `json:"scope"`
}

// identity is one entry of the id token's identities claim.
type identity struct {
	Provider string `json:"provider"`
	ID       string `json:"id"`
}

// idClaims are App ID's id token claims.
type idClaims struct {
	Issuer     string     `json:"iss"`
	Audience   []string   `json:"aud"`
	Expiry     int64      `json:"exp"`
	Tenant     string     `json:"tenant"`
	IssuedAt   int64      `json:"iat"`
	Email      string     `json:"email,omitempty"`
	Name       string     `json:"name,omitempty"`
	Subject    string     `json:"sub"`
	Nonce      string     `json:"nonce,omitempty"`
	AuthTime   int64      `json:"auth_time,omitempty"`
	Identities []identity `json:"identities"`
	AMR        []string   `json:"amr"`
	// SessionID names the provider's login session, only for clients with a back-channel logout URI.
	SessionID string `json:"sid,omitempty"`
}

// tokenResponse is the token endpoint's success body.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// grantScope is what a user's access token for client says: App ID's preset scopes and the user's role scopes for
// this application as "<application id>/<scope>". Any other requested scope is dropped: App ID grants custom scopes
// only through roles, so a client cannot ask for one its user does not hold.
func (p *Provider) grantScope(clientID, userID string) string {
	scopes := slices.Clone(appIDScopes)
	for _, s := range p.roleScopes(clientID, userID) {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return strings.Join(scopes, " ")
}

// roleScopes lists the "<app>/<scope>" scopes the user's current roles grant for the application.
func (p *Provider) roleScopes(clientID, userID string) []string {
	p.mu.Lock()
	ids := p.userRoles[userID]
	p.mu.Unlock()
	var out []string
	for _, id := range ids {
		r := p.roleByID[id]
		if r == nil {
			continue
		}
		for _, a := range r.Access {
			if a.ApplicationID != clientID {
				continue
			}
			for _, s := range a.Scopes {
				if full := a.ApplicationID + "/" + s; !slices.Contains(out, full) {
					out = append(out, full)
				}
			}
		}
	}
	return out
}

// sign serializes claims as a JWT with the current key. Several claim sets merge, a later one's names winning.
func (p *Provider) sign(claims ...any) (string, error) {
	b := jwt.Signed(p.keys.current().signer)
	for _, c := range claims {
		b = b.Claims(c)
	}
	tok, err := b.Serialize()
	if err != nil {
		return "", fmt.Errorf("localappid: signing a token: %w", err)
	}
	return tok, nil
}

// userTokens mints an access token and an id token for a user logged in to client through the login session
// sid (named in the id token only for a client with a back-channel logout URI, as App ID names none).
func (p *Provider) userTokens(issuer string, client *Client, u *user, nonce string, authTime time.Time, sid string) (tokenResponse, error) {
	now := p.cfg.Now()
	scope := p.grantScope(client.ID, u.ID)
	ttl := p.cfg.AccessTokenTTL
	if u.idp == idpAnonymous {
		ttl = p.cfg.AnonymousTokenTTL
		p.mu.Lock()
		u.lastToken = now // the user lives AnonymousTokenTTL after its last token
		p.mu.Unlock()
	}
	at, err := p.sign(u.Claims, accessClaims{ // the user's custom claims first: the standard ones win
		Issuer: issuer, Expiry: now.Add(ttl).Unix(), Audience: []string{client.ID}, Subject: u.ID,
		EmailVerified: u.Email != "" && u.idp == idpCloudDirectory, AMR: []string{u.idp}, IssuedAt: now.Unix(),
		Tenant: p.cfg.Tenant, Scope: scope,
	})
	if err != nil {
		return tokenResponse{}, err
	}
	idTTL := p.cfg.IDTokenTTL
	if u.idp == idpAnonymous {
		idTTL = p.cfg.AnonymousTokenTTL
	}
	id, err := p.sign(u.Claims, idClaims{
		Issuer: issuer, Audience: []string{client.ID}, Expiry: now.Add(idTTL).Unix(), Tenant: p.cfg.Tenant,
		IssuedAt: now.Unix(), Email: u.Email, Name: u.Name, Subject: u.ID, Nonce: nonce, AuthTime: authTime.Unix(),
		Identities: []identity{u.identity()}, AMR: []string{u.idp},
		SessionID: sessionIDFor(client, sid),
	})
	if err != nil {
		return tokenResponse{}, err
	}
	return tokenResponse{AccessToken: at, IDToken: id, TokenType: "Bearer", ExpiresIn: int64(ttl / time.Second), Scope: scope}, nil
}

// clientToken mints an application's own access token (client_credentials): sub is the client id, no id token.
func (p *Provider) clientToken(issuer string, client *Client) (tokenResponse, error) {
	now := p.cfg.Now()
	scope := "appid_default"
	at, err := p.sign(accessClaims{
		Issuer: issuer, Expiry: now.Add(p.cfg.AccessTokenTTL).Unix(), Audience: []string{client.ID}, Subject: client.ID,
		AMR: []string{"appid_oauth"}, IssuedAt: now.Unix(), Tenant: p.cfg.Tenant, Scope: scope,
	})
	if err != nil {
		return tokenResponse{}, err
	}
	return tokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(p.cfg.AccessTokenTTL / time.Second), Scope: scope}, nil
}

// errInactive says a token is not (or no longer) one this provider vouches for.
var errInactive = errors.New("localappid: token is invalid, expired or revoked")

// verifyAccessToken checks a bearer access token: RS256 by a key still in the JWKS, this issuer, unexpired by the
// provider's clock, not revoked, and an access token (not an id token).
func (p *Provider) verifyAccessToken(raw, issuer string) (accessClaims, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil || len(tok.Headers) != 1 {
		return accessClaims{}, errInactive
	}
	pub, ok := p.keys.publicKey(tok.Headers[0].KeyID)
	if !ok {
		return accessClaims{}, errInactive
	}
	var c accessClaims
	if err := tok.Claims(pub, &c); err != nil {
		return accessClaims{}, errInactive
	}
	now := p.cfg.Now()
	if c.Issuer != issuer || c.Scope == "" || now.Unix() >= c.Expiry {
		return accessClaims{}, errInactive
	}
	p.mu.Lock()
	_, revoked := p.revoked.get(tokenHash(raw))
	p.mu.Unlock()
	if revoked {
		return accessClaims{}, errInactive
	}
	return c, nil
}

// tokenHash keys revoked access tokens without keeping the tokens themselves.
func tokenHash(raw string) string {
	h := sha256.Sum256([]byte(raw))
	return string(h[:])
}
