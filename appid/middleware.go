package appid

import (
	"errors"
	"net/http"
	"time"

	"github.com/appidgate/appidgate/appid/session"
)

// touchInterval is how stale the session's last write may get before a request rewrites it to extend the idle
// timeout; rewriting on every request would cost a cookie (or Redis write) per request.
const touchInterval = time.Minute

// Authorization decisions reported to Observer.AuthorizationDecided.
const (
	decisionAllow           = "allow"
	decisionDeny            = "deny"
	decisionUnauthenticated = "unauthenticated"
)

// Check is the reference app's decorator: it admits signed-in users holding at least one role. Browsers without
// a session are sent to login, API requests get 401, users without a role get 403 "Unauthorized!".
func (a *Auth) Check(h http.Handler) http.Handler {
	return a.Require(AnyRole())(h)
}

// Require returns middleware that admits signed-in users whom every policy allows (Authenticated when none is
// given), with the user in the request context (see UserFrom). A valid session costs no network call.
func (a *Auth) Require(policies ...Policy) func(http.Handler) http.Handler {
	set := newPolicySet(policies)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			st, err := a.loadSession(w, r)
			if err != nil {
				a.respondError(w, r, http.StatusServiceUnavailable, "Could not load the session",
					"The session store is unavailable at the moment. Please try again shortly.")
				return
			}
			if st == nil {
				a.observer.AuthorizationDecided(set.name, decisionUnauthenticated)
				if wantsRedirect(r) {
					a.startLogin(w, r)
				} else {
					respondUnauthorized(w, "")
				}
				return
			}
			if a.cfg.OnUser != nil {
				a.cfg.OnUser(r, &st.user)
			}
			if !set.allows(&st.user) {
				a.observer.AuthorizationDecided(set.name, decisionDeny)
				respondForbidden(w, r)
				return
			}
			a.observer.AuthorizationDecided(set.name, decisionAllow)
			next.ServeHTTP(w, r.WithContext(withUser(r.Context(), &st.user)))
		})
	}
}

// loadSession returns the request's valid session, refreshed or touched as needed, or nil when there is none.
// The error is set only when the store itself failed.
func (a *Auth) loadSession(w http.ResponseWriter, r *http.Request) (*sessionState, error) {
	data, err := a.store.Load(r)
	if err != nil {
		if errors.Is(err, session.ErrNoSession) {
			return nil, nil
		}
		a.observer.SessionStoreError("load")
		a.log.ErrorContext(r.Context(), "appid: loading the session failed", "error", err)
		return nil, err
	}
	st, err := decodeSession(data)
	if err != nil {
		return nil, nil
	}
	now := a.cfg.Now()
	if now.After(st.createdAt.Add(a.cfg.SessionMaxAge)) || now.After(st.savedAt.Add(a.cfg.SessionIdleTimeout)) {
		return nil, nil
	}
	if !now.Before(st.user.ExpiresAt) {
		if st = a.refresh(r, st, now); st == nil {
			return nil, nil
		}
		st.savedAt = now
		a.saveSession(w, r, st, false) // a failed write is logged; this request still has a valid session
		return st, nil
	}
	if a.cfg.Introspect && !a.introspect(r, st) {
		return nil, nil
	}
	if now.Sub(st.savedAt) > touchInterval {
		st.savedAt = now
		a.saveSession(w, r, st, false)
	}
	return st, nil
}
