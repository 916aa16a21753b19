package localappid

import "net/http"

// introspection is the RFC 7662 answer. Inactive tokens get only {"active":false}.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Subject   string `json:"sub,omitempty"`
	Expiry    int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	TokenType string `json:"token_type,omitempty"`
}

// handleIntrospect tells an authenticated client whether an access or refresh token is active.
func (p *Provider) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	client, ok := p.clientRequest(w, r)
	if !ok {
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		writeOAuthError(w, invalidRequest("token is missing"))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if c, err := p.verifyAccessToken(token, p.issuer(r)); err == nil {
		clientID := ""
		if len(c.Audience) > 0 {
			clientID = c.Audience[0]
		}
		writeJSON(w, http.StatusOK, introspection{Active: true, Scope: c.Scope, ClientID: clientID, Subject: c.Subject,
			Expiry: c.Expiry, IssuedAt: c.IssuedAt, TokenType: "Bearer"})
		return
	}
	now := p.cfg.Now()
	p.mu.Lock()
	g, ok := p.refresh.get(token)
	active := ok && !g.used && !now.After(g.expires) && g.clientID == client.ID
	var resp introspection
	if active {
		resp = introspection{Active: true, Scope: g.scope, ClientID: g.clientID, Subject: g.userID, Expiry: g.expires.Unix(), TokenType: "refresh_token"}
	}
	p.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}
