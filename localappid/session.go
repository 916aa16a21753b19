package localappid

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"maps"
	"net/http"
	"time"
)

// Cookie names on the provider's own origin. Prefixed so they never collide with a relying party's cookies on the
// same host (cookies ignore ports).
const (
	sessionCookie = "localappid_session"
	csrfCookie    = "localappid_csrf"
)

// loginSession is the provider's own login (SSO) session: a later /authorization from the same browser skips the
// form until it expires, prompt=login is asked, or the logout endpoint ends it.
type loginSession struct {
	userID   string
	authTime time.Time
	expires  time.Time
	// sid names the session in id tokens and logout tokens (the cookie's value is its secret, never shown).
	sid string
	// clients are the ids of the clients that got a code from this session, to which its logout is told. The
	// Provider's mutex guards it.
	clients map[string]bool
}

// currentSession returns the browser's live session, or nil.
func (p *Provider) currentSession(r *http.Request) *loginSession {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.sessions.get(c.Value)
	if !ok || now.After(s.expires) {
		return nil
	}
	return s
}

// startSession replaces any session the browser had with a new one (a fresh id on every login: no fixation) and
// returns it. When the session store is full of live sessions it starts none and says when one may expire.
func (p *Provider) startSession(w http.ResponseWriter, r *http.Request, userID string, authTime time.Time) (s *loginSession, retryAfter time.Duration) {
	id := randomToken()
	s = &loginSession{userID: userID, authTime: authTime, expires: authTime.Add(p.cfg.SessionTTL), sid: randomToken(),
		clients: map[string]bool{}}
	p.mu.Lock()
	if c, err := r.Cookie(sessionCookie); err == nil {
		p.sessions.delete(c.Value)
	}
	if !p.sessions.add(authTime, id, s) {
		s, retryAfter = nil, p.sessions.retryAfter(authTime)
	}
	p.mu.Unlock()
	if s != nil {
		http.SetCookie(w, p.cookie(r, sessionCookie, id, int(p.cfg.SessionTTL/time.Second)))
	}
	return s, retryAfter
}

// endSession forgets the browser's session, expires its cookie and returns a copy of the session it ended, nil
// when there was none.
func (p *Provider) endSession(w http.ResponseWriter, r *http.Request) *loginSession {
	var ended *loginSession
	if c, err := r.Cookie(sessionCookie); err == nil {
		p.mu.Lock()
		if s, ok := p.sessions.get(c.Value); ok && !p.cfg.Now().After(s.expires) {
			ended = &loginSession{userID: s.userID, sid: s.sid, clients: maps.Clone(s.clients)}
		}
		p.sessions.delete(c.Value)
		p.mu.Unlock()
	}
	http.SetCookie(w, p.cookie(r, sessionCookie, "", -1))
	return ended
}

// cookie builds a provider cookie: HttpOnly, SameSite=Lax, scoped to the tenant's OAuth path, Secure on https.
func (p *Provider) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: p.oauthPath, MaxAge: maxAge,
		HttpOnly: true, Secure: p.secureCookies(r), SameSite: http.SameSiteLaxMode,
	}
}

// csrfToken returns the login form's hidden token: an HMAC of a random per-browser cookie value, which it sets
// when missing. A cross-site page can neither read the cookie nor compute the token.
func (p *Provider) csrfToken(w http.ResponseWriter, r *http.Request) string {
	seed := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 43 {
		seed = c.Value
	} else {
		seed = randomToken()
		http.SetCookie(w, p.cookie(r, csrfCookie, seed, 0))
	}
	return p.csrfMAC(seed)
}

func (p *Provider) csrfMAC(seed string) string {
	m := hmac.New(sha256.New, p.csrfSecret)
	m.Write([]byte(seed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF checks the posted token against the browser's CSRF cookie.
func (p *Provider) validCSRF(r *http.Request, token string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(p.csrfMAC(c.Value)))
}
