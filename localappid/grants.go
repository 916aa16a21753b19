package localappid

import (
	"time"
)

// codeGrant is what an authorization code stands for until it is redeemed once.
type codeGrant struct {
	clientID      string
	redirectURI   string
	userID        string
	scope         string
	nonce         string
	codeChallenge string // S256 challenge; empty when the client sent none
	authTime      time.Time
	expires       time.Time
	redeemed      bool
	family        string // the refresh token family issued for it, revoked if the code is replayed
}

// refreshGrant is an opaque refresh token. Each use rotates it; a used one presented again revokes its family.
type refreshGrant struct {
	clientID string
	userID   string
	scope    string
	nonce    string
	authTime time.Time
	expires  time.Time
	family   string
	used     bool
}

// issueCode stores a new single-use authorization code.
func (p *Provider) issueCode(g codeGrant) string {
	code := randomToken()
	now := p.cfg.Now()
	g.expires = now.Add(p.cfg.CodeTTL)
	p.mu.Lock()
	p.sweepLocked(now)
	p.codes[code] = &g
	p.mu.Unlock()
	return code
}

// redeemCode returns the code's grant exactly once. A replayed code fails and revokes the refresh tokens issued
// for its first use (RFC 6749 section 4.1.2).
func (p *Provider) redeemCode(code string) (codeGrant, bool) {
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.codes[code]
	if !ok || now.After(g.expires) {
		return codeGrant{}, false
	}
	if g.redeemed {
		p.revokeFamilyLocked(g.family)
		return codeGrant{}, false
	}
	g.redeemed = true
	g.family = randomToken()
	return *g, true
}

// issueRefresh stores a new refresh token in family.
func (p *Provider) issueRefresh(g refreshGrant) string {
	token := randomToken()
	now := p.cfg.Now()
	g.expires = now.Add(p.cfg.RefreshTokenTTL)
	p.mu.Lock()
	p.sweepLocked(now)
	p.refresh[token] = &g
	p.mu.Unlock()
	return token
}

// useRefresh marks a refresh token used and returns its grant. A token used before revokes its whole family.
func (p *Provider) useRefresh(token, clientID string) (refreshGrant, *oauthError) {
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.refresh[token]
	switch {
	case !ok || now.After(g.expires):
		return refreshGrant{}, invalidGrant("refresh token is invalid or expired")
	case g.clientID != clientID:
		return refreshGrant{}, invalidGrant("refresh token was issued to another client")
	case g.used:
		p.revokeFamilyLocked(g.family)
		return refreshGrant{}, invalidGrant("refresh token was already used; its session is revoked")
	}
	g.used = true
	return *g, nil
}

// revokeFamilyLocked deletes every refresh token of a family. p.mu must be held.
func (p *Provider) revokeFamilyLocked(family string) {
	if family == "" {
		return
	}
	for t, g := range p.refresh {
		if g.family == family {
			delete(p.refresh, t)
		}
	}
}
