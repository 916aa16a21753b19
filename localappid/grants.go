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
	sid           string // the provider login session it came from
}

// refreshGrant is an opaque refresh token. Each use rotates it; a used one presented again revokes its family,
// unless it comes within Config.RefreshTokenReuseGrace of its rotation (see rotateRefresh).
// Every token of a family expires with the family, RefreshTokenTTL after the code was redeemed: rotation does not
// extend it, so a used token is kept for reuse detection no longer than its family could be used.
type refreshGrant struct {
	clientID string
	userID   string
	scope    string
	nonce    string
	authTime time.Time
	expires  time.Time // the family's expiry
	family   string
	sid      string // the provider login session of the login; "" for none
	used     bool
	// rotatedAt and successor record the rotation that spent the token: when, and the token it gave.
	rotatedAt time.Time
	successor string
}

// issueCode stores a new single-use authorization code, or refuses when the code store is full.
func (p *Provider) issueCode(g codeGrant) (string, *oauthError) {
	code := randomToken()
	now := p.cfg.Now()
	g.expires = now.Add(p.cfg.CodeTTL)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.codes.add(now, code, &g) {
		return "", storeFull("authorization codes", p.codes.retryAfter(now))
	}
	return code, nil
}

// redeemCode returns the code's grant exactly once. A replayed code fails and revokes the refresh tokens issued
// for its first use (RFC 6749 section 4.1.2).
func (p *Provider) redeemCode(code string) (codeGrant, bool) {
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.codes.get(code)
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

// startRefreshFamily stores the first refresh token of a new family (one per redeemed code), or refuses when the
// refresh token store is full.
func (p *Provider) startRefreshFamily(g refreshGrant) (string, *oauthError) {
	token := randomToken()
	now := p.cfg.Now()
	g.expires = now.Add(p.cfg.RefreshTokenTTL)
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.refresh.add(now, token, &g) {
		return "", storeFull("refresh tokens", p.refresh.retryAfter(now))
	}
	return token, nil
}

// refreshStoreFull returns the store-full error when no refresh token could be stored now.
func (p *Provider) refreshStoreFull() *oauthError {
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refresh.full(now) {
		return storeFull("refresh tokens", p.refresh.retryAfter(now))
	}
	return nil
}

// rotateRefresh spends a refresh token and stores its successor in the same family, in one step: when the store
// is full the presented token stays unspent, so the client can retry.
//
// A token used before revokes its family, with one exception for replicas of a relying party that share no state
// and redeem the same token at nearly the same time: presented by its own client within
// Config.RefreshTokenReuseGrace of its rotation, while its successor is still unused, it gives that same successor
// again (the caller mints fresh access and id tokens), so the family neither forks nor ends. A successor that was
// rotated further meanwhile makes the reuse a reuse like any other.
func (p *Provider) rotateRefresh(token, clientID string) (refreshGrant, string, *oauthError) {
	now := p.cfg.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	g, ok := p.refresh.get(token)
	switch {
	case !ok || now.After(g.expires):
		return refreshGrant{}, "", invalidGrant("refresh token is invalid or expired")
	case g.clientID != clientID:
		return refreshGrant{}, "", invalidGrant("refresh token was issued to another client")
	case g.used:
		if next, ok := p.graceSuccessorLocked(g, now); ok {
			return *next, g.successor, nil
		}
		p.revokeFamilyLocked(g.family)
		return refreshGrant{}, "", invalidGrant("refresh token was already used; its session is revoked")
	}
	next := *g
	nextToken := randomToken()
	if !p.refresh.add(now, nextToken, &next) {
		return refreshGrant{}, "", storeFull("refresh tokens", p.refresh.retryAfter(now))
	}
	g.used, g.rotatedAt, g.successor = true, now, nextToken
	return next, nextToken, nil
}

// graceSuccessorLocked returns the successor that a used token g gave, if g comes back within the reuse grace of
// its rotation and the successor is still live and unused. p.mu must be held.
func (p *Provider) graceSuccessorLocked(g *refreshGrant, now time.Time) (*refreshGrant, bool) {
	grace := p.cfg.RefreshTokenReuseGrace
	if grace <= 0 || g.successor == "" || now.After(g.rotatedAt.Add(grace)) {
		return nil, false
	}
	next, ok := p.refresh.get(g.successor)
	if !ok || next.used || next.family != g.family || now.After(next.expires) {
		return nil, false
	}
	return next, true
}

// revokeFamilyLocked deletes every refresh token of a family. p.mu must be held.
func (p *Provider) revokeFamilyLocked(family string) {
	if family == "" {
		return
	}
	for t, g := range p.refresh.entries {
		if g.family == family {
			p.refresh.delete(t)
		}
	}
}
