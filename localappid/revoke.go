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
		now := p.cfg.Now()
		p.mu.Lock()
		added := p.revoked.add(now, tokenHash(token), time.Unix(c.Expiry, 0))
		retryAfter := p.revoked.retryAfter(now)
		p.mu.Unlock()
		if !added { // RFC 7009 section 2.2.1: the client may retry after a 503
			writeOAuthError(w, storeFull("revoked access tokens", retryAfter))
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if g, ok := p.refresh.get(token); ok {
		if g.clientID != client.ID {
			writeOAuthError(w, &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", description: "token was issued to another client"})
			return
		}
		p.revokeFamilyLocked(g.family)
		p.refresh.delete(token)
	}
	w.WriteHeader(http.StatusOK)
}
