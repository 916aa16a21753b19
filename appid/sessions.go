package appid

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/internal/expiring"
)

// unknownKeyWarning is logged, at most once per unknownKeyWarningEvery, when a session was sealed with a secret
// this replica does not have: its user is sent to the login.
const (
	unknownKeyWarning = "appid: a session was sealed with a session secret this replica does not have, and its user " +
		"must sign in again; most likely a key rotation done in one step is in progress (some replicas already seal " +
		"with a new SESSION_SECRET_KEY). Rotate in two steps, the new key first in APPIDGATE_SESSION_PREVIOUS_KEYS on " +
		"every replica: see docs/sessions.md, Key rotation"
	unknownKeyWarningEvery = time.Minute
)

// sessions reads a request's session from the store, refreshes or revalidates it when due (one refresh at a
// time per session: per replica through refreshGroup, across replicas through the store's lock when it has
// one), saves renewed sessions and ends them.
type sessions struct {
	a               *Auth
	client          *client       // redeems refresh tokens
	introspector    *introspector // asks whether a session's access token is active, with Config.Introspect
	refreshGroup    singleflight.Group
	recentRefreshes *expiring.Cache[refreshOutcome] // by refresh token
	// verified holds sessions decoded from cookies, by cookie (cacheKeys is the store's, nil when it has none);
	// ended names the sessions logged out here.
	verified  *expiring.Cache[*sessionState]
	cacheKeys session.CacheKeyer
	ended     *expiring.Cache[struct{}]
	// locker, when the store can lock, serializes refreshes of one session across replicas.
	locker session.SessionLocker
	// unknownKeyWarning rate-limits the warning about sessions sealed with a secret this replica does not have.
	unknownKeyWarning rate.Sometimes
}

// touchInterval is how stale the session's last write may get before a request rewrites it to extend the idle
// timeout; rewriting on every request would cost a cookie (or Redis write) per request.
const touchInterval = time.Minute

// Bounds of the per-replica session memories (see expiring.Cache for the rule by which they forget).
const (
	// maxVerifiedSessions bounds the cache of decoded cookie sessions: about 1 KB an entry.
	maxVerifiedSessions = 10_000
	// maxEndedSessions bounds the list of sessions logged out on this replica: about 100 bytes an entry.
	maxEndedSessions = 100_000
)

// loadSession returns the request's valid session, refreshed, revalidated or touched as needed, or nil when
// there is none. The error is set only when the store itself failed.
func (m *sessions) loadSession(w http.ResponseWriter, r *http.Request) (*sessionState, error) {
	a := m.a
	now := a.cfg.Now()
	st, err := m.readSession(r, now)
	if st == nil || err != nil {
		return nil, err
	}
	if !now.Before(st.user.ExpiresAt) || m.revalidationDue(st, now) {
		return m.refresh(w, r, st, now), nil
	}
	if a.cfg.Introspect && !m.introspector.sessionActive(r.Context(), st) {
		return nil, nil
	}
	if now.Sub(st.savedAt) > touchInterval {
		own := *st // st may be shared with other requests
		own.savedAt = now
		m.saveSession(w, r, &own, false) // a failed write is logged; this request still has a valid session
		return &own, nil
	}
	return st, nil
}

// readSession returns the request's session unless it has none, or one past its lifetime or logged out. With a
// cookie store, a cookie seen before is not decrypted and decoded again: the session decoded from it is shared,
// read-only, by every request that carries the same cookie.
func (m *sessions) readSession(r *http.Request, now time.Time) (*sessionState, error) {
	a := m.a
	var (
		data []byte
		key  string
		err  error
	)
	if m.cacheKeys != nil {
		if k, ok := m.cacheKeys.CacheKey(r); ok {
			if st, ok := m.verified.Get(k, now); ok {
				if m.sessionOver(st, now) {
					return nil, nil
				}
				return st, nil
			}
		}
		// The key to cache under is what the store opened: the first session cookie may be another, planted one.
		data, key, err = m.cacheKeys.LoadKeyed(r)
	} else {
		data, err = a.store.Load(r)
	}
	if err != nil {
		if errors.Is(err, session.ErrNoSession) {
			if errors.Is(err, session.ErrUnknownKey) {
				m.unknownKeyWarning.Do(func() {
					a.log.WarnContext(r.Context(), unknownKeyWarning, "error", err,
						"every", unknownKeyWarningEvery.String())
				})
			}
			return nil, nil
		}
		a.observer.SessionStoreError("load")
		a.log.ErrorContext(r.Context(), "appid: loading the session failed", "error", err)
		return nil, err
	}
	st, err := decodeSession(data)
	if err != nil || m.sessionOver(st, now) {
		return nil, nil
	}
	if key != "" {
		// The key is a slice of the request's Cookie header: keep a copy, not the whole header.
		m.verified.Put(strings.Clone(key), st, m.sessionEnd(st), now)
	}
	return st, nil
}

// sessionEnd is when st ends at the latest without a new write: its absolute or idle lifetime.
func (m *sessions) sessionEnd(st *sessionState) time.Time {
	a := m.a
	end := st.createdAt.Add(a.cfg.SessionMaxAge)
	if idle := st.savedAt.Add(a.cfg.SessionIdleTimeout); idle.Before(end) {
		end = idle
	}
	return end
}

// sessionOver reports whether st is past its lifetime or was logged out on this replica (at /logout, or by a
// back-channel logout it received).
func (m *sessions) sessionOver(st *sessionState, now time.Time) bool {
	a := m.a
	if !now.Before(m.sessionEnd(st)) {
		return true
	}
	_, ended := m.ended.Get(st.id, now)
	return ended || a.backchannel.loggedOut(st, now)
}

// revalidationDue reports whether the provider should confirm st again (see Config.RevalidateInterval).
func (m *sessions) revalidationDue(st *sessionState, now time.Time) bool {
	a := m.a
	return a.cfg.RevalidateInterval > 0 && st.refreshToken != "" &&
		now.Sub(st.validatedAt) >= a.cfg.RevalidateInterval
}

// endSession remembers st as logged out on this replica for the rest of its life, so that a copy of its cookie is
// refused here at once; other replicas refuse such a copy when they next revalidate it, as its refresh token was
// revoked.
func (m *sessions) endSession(st *sessionState, now time.Time) {
	a := m.a
	if st.id != "" {
		m.ended.Put(st.id, struct{}{}, st.createdAt.Add(a.cfg.SessionMaxAge), now)
	}
}

// saveSession writes st as the request's session; renew starts a new session (login), against fixation.
func (m *sessions) saveSession(w http.ResponseWriter, r *http.Request, st *sessionState, renew bool) error {
	a := m.a
	err := a.store.Save(w, r, st.encode(make([]byte, 0, 512)), session.SaveOptions{
		Expiry: st.createdAt.Add(a.cfg.SessionMaxAge),
		Renew:  renew,
		// For back-channel logout: a store that can end sessions by name files a new one under these.
		Index:   a.backchannel.index(st),
		Created: st.createdAt,
	})
	if err != nil {
		a.observer.SessionStoreError("save")
		a.log.ErrorContext(r.Context(), "appid: saving the session failed", "error", err)
	}
	return err
}

// protocolClaims are the id token claims that only serve its verification: a session does not keep them.
var protocolClaims = []string{"iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "auth_time", "azp",
	"jti", "sid"}

// keepIdentityClaims records the provider's session id of a verified id token, and its identity claims (all but
// protocolClaims) as the session's User.Claims.
func (s *sessionState) keepIdentityClaims(id *oidc.IDToken) error {
	var claims map[string]json.RawMessage
	if err := id.Claims(&claims); err != nil {
		return fmt.Errorf("%w: id token claims: %v", errTokenInvalid, err)
	}
	if sid, ok := claims["sid"]; ok && json.Unmarshal(sid, &s.providerSID) != nil {
		return fmt.Errorf("%w: id token: sid claim is not a string", errTokenInvalid)
	}
	for _, name := range protocolClaims {
		delete(claims, name)
	}
	raw, err := json.Marshal(claims)
	if err != nil {
		return fmt.Errorf("%w: id token claims: %v", errTokenInvalid, err)
	}
	s.claims = string(raw)
	if err := json.Unmarshal(raw, &s.user.Claims); err != nil {
		return fmt.Errorf("%w: id token claims: %v", errTokenInvalid, err)
	}
	return nil
}
