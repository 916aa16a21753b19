package appid

import (
	"context"
	"errors"
	"net/http"
	"time"

	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/internal/audit"
)

// Refresh outcomes reported to Observer.RefreshFinished.
const (
	refreshSuccess = "success"
	refreshFailure = "failure"
)

const (
	// refreshGrace is how long the outcome of a refresh is reused for requests that still carry the old session.
	refreshGrace = time.Minute
	// refreshRetryAfter is how long a replica keeps a session on its still valid access token, without asking
	// again, after the provider could not be reached to revalidate it.
	refreshRetryAfter = 15 * time.Second
	// maxRecentRefreshes bounds the memory of recent refresh outcomes.
	maxRecentRefreshes = 10_000
)

// refreshOutcome is what one redemption of a refresh token came to, shared by every request that carried it.
type refreshOutcome struct {
	renewed     *sessionState // the renewed session (read-only, shared), or nil when the refresh failed
	unavailable bool          // the provider could not be reached, as opposed to refusing the refresh token
	saved       bool          // the leader wrote renewed to the shared store already (see refreshShared)
}

// refresh renews st with its refresh token, because its access token expired or it is due for revalidation,
// and writes the renewed session. It returns nil when the session has ended: no refresh token, refused, or
// provider down while the access token has expired; while the access token lasts, an unreachable provider only
// postpones the revalidation. Concurrent requests of one session share one refresh on this replica, and with a
// store that can lock (Redis) on every replica, so the provider sees each refresh token once even when refresh
// tokens rotate.
func (m *sessions) refresh(w http.ResponseWriter, r *http.Request, st *sessionState, now time.Time) *sessionState {
	if st.refreshToken == "" {
		return nil
	}
	// A request sent with the old cookie while another one refreshed must not redeem the refresh token again:
	// providers that rotate refresh tokens (App ID, localappid) would revoke the whole session.
	o, ok := m.recentRefreshes.Get(st.refreshToken, now)
	leader := false
	if !ok {
		// The key is the refresh token itself: unique per session, and never leaves this process.
		v, _, _ := m.refreshGroup.Do(st.refreshToken, func() (any, error) {
			leader = true // Do runs this function on the calling goroutine
			return m.refreshShared(w, r, st, now), nil
		})
		o = v.(refreshOutcome)
	}
	switch {
	case o.renewed != nil:
		own := *o.renewed // each request writes its own copy's times
		own.savedAt = now
		if !leader || !o.saved {
			m.saveSession(w, r, &own, false) // a failed write is logged; this request still has a valid session
		}
		return &own
	case o.unavailable && now.Before(st.user.ExpiresAt):
		return st
	default:
		return nil
	}
}

// refreshShared redeems st's refresh token once for every request of this replica that waits on it. With a
// store that can lock, it holds the session's lock across replicas first, and takes the session that another
// replica renewed meanwhile instead of redeeming the token again; it then writes the renewed session before
// the lock is released, so that the next holder finds it.
func (m *sessions) refreshShared(w http.ResponseWriter, r *http.Request, st *sessionState, now time.Time) refreshOutcome {
	a := m.a
	// Detached from the request: other requests of the session wait on this refresh too, and what the provider
	// issued must reach the store even when this request's client goes away.
	ctx := context.WithoutCancel(r.Context())
	r = r.WithContext(ctx)
	if m.locker != nil {
		// Another replica holds the lock at most for one refresh: wait that long.
		lockCtx, cancel := context.WithTimeout(ctx, providerCallTimeout)
		release, err := m.locker.LockSession(r.WithContext(lockCtx))
		cancel()
		if err != nil {
			a.log.WarnContext(ctx, "appid: cannot take the session's refresh lock", "error", err)
			return m.refreshFailed(st, now, true)
		}
		defer release()
		if cur := m.storedSession(r, st.id, now); cur != nil {
			o := refreshOutcome{renewed: cur, saved: true}
			m.recentRefreshes.Put(st.refreshToken, o, now.Add(refreshGrace), now)
			return o
		}
	}
	renewed, err := m.redeemRefreshToken(ctx, st, now)
	if err != nil {
		refused := refusedRefresh(err)
		a.observer.RefreshFinished(refreshFailure)
		if refused {
			a.log.InfoContext(ctx, "appid: token refresh refused; the user must log in again", "error", err)
		} else {
			a.log.WarnContext(ctx, "appid: token refresh failed: provider unavailable", "error", err)
		}
		if refused {
			// The session is over: its copies are refused here from now on without asking the provider again.
			m.endSession(st, now)
			a.audit.Write(r, audit.Record{Event: audit.SessionRevoked, Outcome: audit.Denied, UserID: st.user.ID,
				Reason: "refresh_refused"})
		}
		return m.refreshFailed(st, now, !refused)
	}
	a.observer.RefreshFinished(refreshSuccess)
	o := refreshOutcome{renewed: renewed}
	if m.locker != nil {
		o.saved = m.saveSession(w, r, renewed, false) == nil
	}
	m.recentRefreshes.Put(st.refreshToken, o, now.Add(refreshGrace), now)
	return o
}

// refreshFailed returns the outcome of a failed refresh; an unreachable provider is remembered for a while, so
// that the session's requests do not each ask again.
func (m *sessions) refreshFailed(st *sessionState, now time.Time, unavailable bool) refreshOutcome {
	o := refreshOutcome{unavailable: unavailable}
	if unavailable {
		m.recentRefreshes.Put(st.refreshToken, o, now.Add(refreshRetryAfter), now)
	}
	return o
}

// storedSession returns the session the store holds now for r when it is the session id and needs no refresh:
// another replica renewed it while this one waited for the lock.
func (m *sessions) storedSession(r *http.Request, id string, now time.Time) *sessionState {
	a := m.a
	data, err := a.store.Load(r)
	if err != nil {
		return nil
	}
	cur, err := decodeSession(data)
	if err != nil || cur.id != id || m.sessionOver(cur, now) || !now.Before(cur.user.ExpiresAt) ||
		m.revalidationDue(cur, now) {
		return nil
	}
	return cur
}

// refusedRefresh reports whether err is the provider's refusal of a refresh (the session is over), rather than a
// failure to reach it: an OAuth error answer (RFC 6749 §5.2, such as invalid_grant) with status 400 or 401, or
// renewed tokens that fail verification. Anything else (429, 408, 5xx, an answer that is no OAuth error, a
// network failure) leaves the session as it is until the provider can answer.
func refusedRefresh(err error) bool {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return re.ErrorCode != "" && (status == http.StatusBadRequest || status == http.StatusUnauthorized)
	}
	return errors.Is(err, errTokenInvalid)
}

// redeemRefreshToken performs one refresh at the token endpoint and verifies the new tokens.
func (m *sessions) redeemRefreshToken(ctx context.Context, st *sessionState, now time.Time) (_ *sessionState, err error) {
	a := m.a
	ctx, span := startSpan(ctx, a.tracer, spanRefresh)
	defer func() { endSpan(span, err) }()
	ctx, cancel := context.WithTimeout(ctx, providerCallTimeout)
	defer cancel()
	meta, err := a.discovery.metadata(ctx)
	if err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, m.client.http)
	tok, err := m.client.oauth2Config(meta).TokenSource(ctx, &oauth2.Token{RefreshToken: st.refreshToken}).Token()
	if err != nil {
		return nil, err
	}
	renewed, err := a.provider.session(ctx, tok, "", st, now)
	if err != nil {
		return nil, err
	}
	if renewed.user.ID != st.user.ID {
		return nil, errSubjectChanged
	}
	renewed.id = st.id
	if renewed.id == "" {
		renewed.id = newSessionID() // a session written before session ids
	}
	renewed.createdAt = st.createdAt // the absolute lifetime still runs from the login
	if renewed.refreshToken == "" {
		renewed.refreshToken = st.refreshToken
	}
	if renewed.providerSID == "" {
		// Providers often leave sid out of refreshed id tokens: the session is still the provider's session
		// of the login, which back-channel logout names.
		renewed.providerSID = st.providerSID
	}
	a.provider.refreshed(renewed, st)
	return renewed, nil
}
