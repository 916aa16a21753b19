package localappid

import (
	"net/http"
)

// anonymousLogin answers idp=appid_anon: without asking anything it issues a code for an anonymous user, the one
// that appid_access_token names when it is still valid, else a new one. Anonymous tokens carry amr
// ["appid_anon"] and live Config.AnonymousTokenTTL.
func (p *Provider) anonymousLogin(w http.ResponseWriter, r *http.Request, req authRequest) {
	var u *user
	if req.AnonToken != "" {
		if c, err := p.verifyAccessToken(req.AnonToken, p.issuer(r)); err == nil {
			if found := p.userByID(c.Subject); found != nil && found.idp == idpAnonymous {
				u = found
			}
		}
	}
	if u == nil {
		var e *oauthError
		if u, e = p.newAnonymousUser(); e != nil {
			p.redirectError(w, r, req, e)
			return
		}
	}
	p.redirectCode(w, r, req, u.ID, p.cfg.Now(), "")
}

// newAnonymousUser creates an anonymous profile with a random id.
func (p *Provider) newAnonymousUser() (*user, *oauthError) {
	u := &user{User: User{ID: uuidShaped("localappid anonymous " + randomToken())}, idp: idpAnonymous,
		attrs: map[string]string{}, confirmed: true}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.addUserLocked(u) {
		return nil, anonymousUsersFull(p.cfg.MaxAnonymousUsers)
	}
	return u, nil
}
