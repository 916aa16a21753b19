package appid

import (
	"context"
	"net/http"
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
	// The key is the refresh token itself: unique per session, and never leaves this process.
	v, err, _ := a.refreshGroup.Do(st.refreshToken, func() (any, error) {
		renewed, err := a.redeemRefreshToken(r, st, now)
		if err != nil {
			a.observer.RefreshFinished(refreshFailure)
			a.log.InfoContext(r.Context(), "appid: token refresh failed; the user must log in again", "error", err)
			return nil, err
		}
		a.observer.RefreshFinished(refreshSuccess)
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
