package localappid

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Identity providers a user's tokens name in amr and identities, as App ID's.
const (
	idpCloudDirectory = "cloud_directory"
	idpCustom         = "appid_custom"
	idpAnonymous      = "appid_anon"
)

// user is a user of the provider: a configured Cloud Directory user with its password hash, or one created at
// run time (an anonymous user, a custom identity, a sign-up). Fields other than the embedded configuration may
// change at run time: the Provider's mutex guards them.
type user struct {
	User
	hash []byte
	// idp is the identity provider the user signs in with: idpCloudDirectory, idpCustom or idpAnonymous.
	idp string
	// externalID is the user's id at its identity provider (the custom identity's sub); "" means ID.
	externalID string
	// attrs are the user's custom attributes (the profiles API), values as the client sent them.
	attrs map[string]string
	// confirmed is false for a signed-up user who has not followed the confirmation email yet.
	confirmed bool
	// runtime marks a user created at run time (counted against Config.StoreLimit, or Config.MaxAnonymousUsers
	// for an anonymous one), not loaded from the config.
	runtime bool
	// lastToken is when an anonymous user was created or last given tokens: it expires AnonymousTokenTTL later.
	lastToken time.Time
}

// identity is the user's entry of the identities claim.
func (u *user) identity() identity {
	id := u.externalID
	if id == "" {
		id = u.ID
	}
	return identity{Provider: u.idp, ID: id}
}

// userByID returns the user with this profile id, or nil; an expired anonymous user is removed and nil.
func (p *Provider) userByID(id string) *user {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[id]
	if u != nil && p.anonymousExpired(u, p.cfg.Now()) {
		p.removeUserLocked(u)
		return nil
	}
	return u
}

// userByLogin returns the Cloud Directory user with this username or email (case-insensitive), or nil.
func (p *Provider) userByLogin(login string) *user {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logins[strings.ToLower(strings.TrimSpace(login))]
}

// addUserLocked stores a user created at run time, unless the provider already holds StoreLimit of them
// (MaxAnonymousUsers for an anonymous user, after sweeping the expired ones). p.mu must be held.
func (p *Provider) addUserLocked(u *user) bool {
	if u.idp == idpAnonymous {
		p.anonAdds++
		if p.anonAdds%sweepEvery == 0 || p.anonUsers >= p.cfg.MaxAnonymousUsers {
			p.sweepAnonymousLocked()
		}
		if p.anonUsers >= p.cfg.MaxAnonymousUsers {
			return false
		}
		p.anonUsers++
		u.lastToken = p.cfg.Now()
		if p.anonUsers == 1 || u.lastToken.Add(p.cfg.AnonymousTokenTTL).Before(p.anonEarliest) {
			p.anonEarliest = u.lastToken.Add(p.cfg.AnonymousTokenTTL)
		}
	} else {
		if p.runtimeUsers >= p.cfg.StoreLimit {
			return false
		}
		p.runtimeUsers++
	}
	u.runtime = true
	p.users[u.ID] = u
	if u.idp == idpCloudDirectory {
		for _, login := range []string{u.Username, u.Email} {
			if login != "" {
				p.logins[strings.ToLower(login)] = u
			}
		}
	}
	return true
}

// removeUserLocked forgets a user created at run time, with its roles and the bytes of its attributes. p.mu must
// be held.
func (p *Provider) removeUserLocked(u *user) {
	if p.users[u.ID] != u {
		return
	}
	delete(p.users, u.ID)
	delete(p.userRoles, u.ID)
	for name, value := range u.attrs {
		p.attrBytes -= attributeSize(name, value)
	}
	if !u.runtime {
		return
	}
	if u.idp == idpAnonymous {
		p.anonUsers--
	} else {
		p.runtimeUsers--
	}
}

// anonymousExpired reports whether an anonymous user's last token is older than AnonymousTokenTTL at now.
func (p *Provider) anonymousExpired(u *user, now time.Time) bool {
	return u.idp == idpAnonymous && !now.Before(u.lastToken.Add(p.cfg.AnonymousTokenTTL))
}

// sweepAnonymousLocked removes the anonymous users whose last token is older than AnonymousTokenTTL. p.mu must be
// held.
func (p *Provider) sweepAnonymousLocked() {
	now := p.cfg.Now()
	if now.Before(p.anonEarliest) {
		return
	}
	var next time.Time
	for _, u := range p.users {
		if u.idp != idpAnonymous {
			continue
		}
		if exp := u.lastToken.Add(p.cfg.AnonymousTokenTTL); !now.Before(exp) {
			p.removeUserLocked(u)
		} else if next.IsZero() || exp.Before(next) {
			next = exp
		}
	}
	p.anonEarliest = next
}

// usersFull is the answer when no more users can be created.
func usersFull() *oauthError {
	return storeFull("users", 0)
}

// anonymousUsersFull is the answer when max_anonymous_users anonymous users are live.
func anonymousUsersFull(limit int) *oauthError {
	return &oauthError{status: http.StatusServiceUnavailable, code: "temporarily_unavailable",
		description: fmt.Sprintf("the provider holds too many anonymous users at the moment (max_anonymous_users, %d); try again later", limit)}
}

// linkAnonymous is App ID's progressive authentication: the anonymous user that anonToken (an access token this
// provider issued to an anonymous user) names becomes u, its attributes moving to u (u's own win), and the
// anonymous profile is removed. A token of another kind, or an invalid one, is refused.
func (p *Provider) linkAnonymous(r *http.Request, anonToken string, u *user) *oauthError {
	c, err := p.verifyAccessToken(anonToken, p.issuer(r))
	if err != nil || len(c.AMR) != 1 || c.AMR[0] != idpAnonymous {
		return invalidGrant("appid_access_token is not a valid anonymous access token")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	anon := p.users[c.Subject]
	if anon == nil || anon.idp != idpAnonymous || anon == u {
		return nil // already linked (or gone): nothing left to move
	}
	for name, value := range anon.attrs {
		if _, ok := u.attrs[name]; !ok && len(u.attrs) < MaxAttributes {
			u.attrs[name] = value
			p.attrBytes += attributeSize(name, value) // removeUserLocked takes the anonymous copy off
		}
	}
	p.removeUserLocked(anon)
	return nil
}
