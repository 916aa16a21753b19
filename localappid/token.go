package localappid

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// handleToken is the token endpoint with App ID's five grants: authorization_code (with PKCE when a challenge was
// sent), password (Cloud Directory users), refresh_token (rotating), client_credentials and the jwt-bearer
// custom identity grant.
func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	client, ok := p.clientRequest(w, r)
	if !ok {
		return
	}
	var e *oauthError
	grant := r.PostForm.Get("grant_type")
	var resp tokenResponse
	switch grant {
	case "":
		e = invalidRequest("grant_type is missing")
	case GrantAuthorizationCode, GrantPassword, GrantRefreshToken, GrantClientCredentials, GrantJWTBearer:
		if !client.allowsGrant(grant) {
			e = &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", description: "client may not use grant " + grant}
			break
		}
		switch grant {
		case GrantAuthorizationCode:
			resp, e = p.exchangeCode(r, client)
		case GrantRefreshToken:
			resp, e = p.exchangeRefresh(r, client)
		case GrantPassword:
			resp, e = p.exchangePassword(r, client)
		case GrantJWTBearer:
			resp, e = p.exchangeAssertion(r, client)
		default:
			resp, e = p.exchangeClientCredentials(r, client)
		}
	default:
		e = &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type", description: "grant_type " + grant + " is not supported"}
	}
	if e != nil {
		writeOAuthError(w, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// exchangeCode redeems an authorization code once, checking client, redirect_uri and the PKCE verifier.
func (p *Provider) exchangeCode(r *http.Request, client *Client) (tokenResponse, *oauthError) {
	code := r.PostForm.Get("code")
	if code == "" {
		return tokenResponse{}, invalidRequest("code is missing")
	}
	if client.allowsGrant(GrantRefreshToken) {
		// Refuse before the code is spent, so the client can retry it once the store has room.
		if e := p.refreshStoreFull(); e != nil {
			return tokenResponse{}, e
		}
	}
	g, ok := p.redeemCode(code)
	switch {
	case !ok:
		return tokenResponse{}, invalidGrant("code is invalid, expired or already used")
	case g.clientID != client.ID:
		return tokenResponse{}, invalidGrant("code was issued to another client")
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		return tokenResponse{}, invalidGrant("redirect_uri does not match the authorization request")
	}
	verifier := r.PostForm.Get("code_verifier")
	if g.codeChallenge == "" && verifier != "" {
		return tokenResponse{}, invalidGrant("code_verifier sent but the authorization request had no code_challenge")
	}
	if g.codeChallenge != "" {
		if verifier == "" {
			return tokenResponse{}, invalidGrant("code_verifier is missing")
		}
		sum := sha256.Sum256([]byte(verifier))
		if !validPKCEValue(verifier) || subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.codeChallenge)) != 1 {
			return tokenResponse{}, invalidGrant("code_verifier does not match the code_challenge")
		}
	}
	u := p.userByID(g.userID)
	if u == nil {
		return tokenResponse{}, invalidGrant("the user of this code no longer exists")
	}
	var refreshToken string
	if client.allowsGrant(GrantRefreshToken) {
		var e *oauthError
		refreshToken, e = p.startRefreshFamily(refreshGrant{clientID: client.ID, userID: u.ID, scope: g.scope, nonce: g.nonce, authTime: g.authTime, family: g.family, sid: g.sid})
		if e != nil {
			return tokenResponse{}, e
		}
	}
	resp, err := p.userTokens(p.issuer(r), client, u, g.nonce, g.authTime, g.sid)
	if err != nil {
		return tokenResponse{}, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "could not sign tokens"}
	}
	resp.RefreshToken = refreshToken
	return resp, nil
}

// exchangeRefresh rotates a refresh token: the presented one is spent, a new one is issued in the same family
// (expiring with the family).
func (p *Provider) exchangeRefresh(r *http.Request, client *Client) (tokenResponse, *oauthError) {
	token := r.PostForm.Get("refresh_token")
	if token == "" {
		return tokenResponse{}, invalidRequest("refresh_token is missing")
	}
	g, next, e := p.rotateRefresh(token, client.ID)
	if e != nil {
		return tokenResponse{}, e
	}
	u := p.userByID(g.userID)
	if u == nil {
		return tokenResponse{}, invalidGrant("the user of this refresh token no longer exists")
	}
	resp, err := p.userTokens(p.issuer(r), client, u, "", g.authTime, g.sid)
	if err != nil {
		return tokenResponse{}, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "could not sign tokens"}
	}
	resp.RefreshToken = next
	return resp, nil
}

// exchangeClientCredentials issues the application's own access token.
func (p *Provider) exchangeClientCredentials(r *http.Request, client *Client) (tokenResponse, *oauthError) {
	resp, err := p.clientToken(p.issuer(r), client)
	if err != nil {
		return tokenResponse{}, &oauthError{status: http.StatusInternalServerError, code: "server_error", description: "could not sign tokens"}
	}
	return resp, nil
}

// validPKCEValue checks RFC 7636's syntax for verifiers and challenges: 43-128 unreserved characters.
func validPKCEValue(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}
