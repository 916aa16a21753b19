package localappid

import (
	"net/http"
	"slices"
	"time"
)

// handleRevoke is RFC 7009 token revocation. A refresh token takes its whole family with it; an access token is
// refused by userinfo and introspection until it expires. Unknown tokens are answered 200, as the RFC requires.
func (p *Provider) handleRevoke(w http.ResponseWriter, r *http.Request) {
	client, ok := p.clientRequest(w, r)
	if !ok {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeOAuthError(w, invalidRequest("token is missing"))
		return
	}
	if c, err := p.verifyAccessToken(token, p.issuer(r)); err == nil {
		if !slices.Contains(c.Audience, client.ID) {
			writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", description: "token was issued to another client"})
			return
		}
		p.mu.Lock()
		p.revoked[tokenHash(token)] = time.Unix(c.Expiry, 0)
		p.mu.Unlock()
		w.WriteHeader(http.StatusOK)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if g, ok := p.refresh[token]; ok {
		if g.clientID != client.ID {
			writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", description: "token was issued to another client"})
			return
		}
		p.revokeFamilyLocked(g.family)
		delete(p.refresh, token)
	}
	w.WriteHeader(http.StatusOK)
}
