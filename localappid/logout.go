package localappid

import "net/http"

// handleLogout is App ID's /cloud_directory/sso/logout: it ends the provider's login session and redirects to
// redirect_uri only when that URI is registered for client_id, matched as at /authorization (exactly, or as
// LoopbackAnyPort allows), as App ID's SSO logout requires. Without a redirect_uri it shows a signed-out page.
// The clients with a back-channel logout URI that the session signed in to are told in the background, and
// the session's refresh tokens for them revoked; the browser does not wait for them.
func (p *Provider) handleLogout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, clientID := q.Get("redirect_uri"), q.Get("client_id")
	if redirect != "" {
		c := p.clients[clientID]
		if c == nil || !c.allowsRedirect(redirect) || len(q["redirect_uri"]) > 1 {
			p.writeErrorPage(w, http.StatusBadRequest, "Invalid logout request", "The redirect_uri is not registered for this client_id.")
			return
		}
	}
	if s := p.endSession(w, r); s != nil {
		p.logoutLoginSession(p.issuer(r), s)
	}
	w.Header().Set("Cache-Control", "no-store")
	if redirect == "" {
		p.writeErrorPage(w, http.StatusOK, "Signed out", "You are signed out of the local App ID provider.")
		return
	}
	http.Redirect(w, r, redirect, http.StatusFound)
}
