package appid

import (
	"context"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Refresh outcomes reported to Observer.RefreshFinished.
const (
	refreshSuccess = "success"
	refreshFailure = "failure"
)

// refresh renews the expired access token of st with its refresh token and returns the renewed session, or nil
// when that is impossible (no refresh token, refused, provider down). Concurrent requests of one session share
// one refresh, so the provider sees each refresh token once even when refresh tokens rotate.
func (a *Auth) refresh(r *http.Request, st *sessionState, now time.Time) *sessionState {
	if st.refreshToken == "" {
		return nil
	}
	// A request sent with the old cookie while another one refreshed must not redeem the refresh token again:
	// providers that rotate refresh tokens (App ID, localappid) would revoke the whole session.
	if renewed := a.recentRefreshes.get(st.refreshToken, now); renewed != nil {
		own := *renewed
		return &own
	}
	// The key is the refresh token itself: unique per session, and never leaves this process.
	v, err, _ := a.refreshGroup.Do(st.refreshToken, func() (any, error) {
		renewed, err := a.redeemRefreshToken(r, st, now)
		if err != nil {
			a.observer.RefreshFinished(refreshFailure)
			a.log.InfoContext(r.Context(), "appid: token refresh failed; the user must log in again", "error", err)
			return nil, err
		}
		a.observer.RefreshFinished(refreshSuccess)
		a.recentRefreshes.put(st.refreshToken, renewed, now)
		return renewed, nil
	})
	if err != nil {
		return nil
	}
	shared := v.(*sessionState)
	own := *shared // each request writes its own copy's times
	return &own
}

// redeemRefreshToken performs one refresh at the token endpoint and verifies the new tokens.
func (a *Auth) redeemRefreshToken(r *http.Request, st *sessionState, now time.Time) (*sessionState, error) {
	// Detached from the request: other requests of the session wait on this refresh too.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), providerCallTimeout)
	defer cancel()
	meta, err := a.discovery.metadata(ctx)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
	tok, err := a.oauth2Config(meta).TokenSource(ctx, &oauth2.Token{RefreshToken: st.refreshToken}).Token()
	if err != nil {
		return nil, err
	}
	renewed, err := a.sessionFromTokens(ctx, tok, "", now)
	if err != nil {
		return nil, err
	}
	if renewed.user.ID != st.user.ID {
		return nil, errSubjectChanged
	}
	renewed.createdAt = st.createdAt // the absolute lifetime still runs from the login
	if renewed.refreshToken == "" {
		renewed.refreshToken = st.refreshToken
	}
	if a.roles != nil || len(renewed.user.Roles) == 0 {
		renewed.user.Roles = st.user.Roles // roles were read at login; refresh costs no management call
	}
	if renewed.user.Email == "" {
		renewed.user.Email, renewed.user.Name = st.user.Email, st.user.Name
	}
	return renewed, nil
}

// refreshGrace is how long the outcome of a refresh is reused for requests that still carry the old session.
const refreshGrace = time.Minute

// maxRecentRefreshes bounds the memory of recentRefreshes.
const maxRecentRefreshes = 10000

// recentRefreshes remembers, per replica and for refreshGrace, the session that each redeemed refresh token
// turned into.
type recentRefreshes struct {
	mu      sync.Mutex
	entries map[string]recentRefresh
}

type recentRefresh struct {
	renewed *sessionState
	until   time.Time
}

func (c *recentRefreshes) get(refreshToken string, now time.Time) *sessionState {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[refreshToken]
	if !ok || !now.Before(e.until) {
		return nil
	}
	return e.renewed
}

func (c *recentRefreshes) put(refreshToken string, renewed *sessionState, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxRecentRefreshes {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		if c.entries == nil || len(c.entries) >= maxRecentRefreshes {
			c.entries = make(map[string]recentRefresh)
		}
	}
	c.entries[refreshToken] = recentRefresh{renewed: renewed, until: now.Add(refreshGrace)}
}
