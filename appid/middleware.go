package appid

import (
	"errors"
	"net/http"
)

// Authorization decisions reported to Observer.AuthorizationDecided.
const (
	decisionAllow           = "allow"
	decisionDeny            = "deny"
	decisionUnauthenticated = "unauthenticated"
)

// Why Authorize refuses a request. Refuse answers each as Require does.
var (
	// ErrLoginRequired: the request carries no valid session.
	ErrLoginRequired = errors.New("appid: login required")
	// ErrForbidden: the user is signed in, but the policy refuses them.
	ErrForbidden = errors.New("appid: the policy refuses the user")
	// ErrSessionStoreUnavailable: the session store failed, so nobody can tell who the user is.
	ErrSessionStoreUnavailable = errors.New("appid: the session store is unavailable")
)

// Check is the reference app's decorator: it admits signed-in users holding at least one role. Browsers without
// a session are sent to login, API requests get 401, users without a role get 403 "Unauthorized!".
func (a *Auth) Check(h http.Handler) http.Handler {
	return a.Require(AnyRole())(h)
}

// Require returns middleware that admits signed-in users whom every policy allows (Authenticated when none is
// given), with the user in the request context (see UserFrom). A valid session costs no network call. Refused
// requests are answered by Refuse.
func (a *Auth) Require(policies ...Policy) func(http.Handler) http.Handler {
	policy := AllOf(policies...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			uc, err := a.authorize(w, r, policy)
			if err != nil {
				a.Refuse(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(withUser(r.Context(), uc)))
		})
	}
}

// Authorize is Require's request path without a handler, for programs that answer refusals themselves (a
// proxy, a forward-auth endpoint): it loads the request's session, refreshing or revalidating it when due
// (writing the renewed session's cookie to w), and returns its user if policy allows them. Otherwise it returns
// ErrLoginRequired, ErrForbidden (with the user, so that the refusal can say who was refused) or
// ErrSessionStoreUnavailable, and writes no answer. The user is the caller's own copy, lists included.
func (a *Auth) Authorize(w http.ResponseWriter, r *http.Request, policy Policy) (*User, error) {
	uc, err := a.authorize(w, r, policy)
	if uc == nil {
		return nil, err
	}
	return &uc.user, err
}

// authorize is Authorize, with the user in the userContext that Require puts in the request context.
func (a *Auth) authorize(w http.ResponseWriter, r *http.Request, policy Policy) (*userContext, error) {
	st, err := a.loadSession(w, r)
	if err != nil {
		return nil, ErrSessionStoreUnavailable
	}
	if st == nil {
		a.observer.AuthorizationDecided(policy.name, decisionUnauthenticated)
		return nil, ErrLoginRequired
	}
	uc := newUserContext(&st.user) // st may be shared with other requests
	uc.user.accessToken = st.accessToken
	if a.cfg.OnUser != nil {
		a.cfg.OnUser(r, &uc.user)
	}
	if !policy.Allows(&uc.user) {
		a.observer.AuthorizationDecided(policy.name, decisionDeny)
		return uc, &refusal{policy: policy.name, user: uc.user}
	}
	a.observer.AuthorizationDecided(policy.name, decisionAllow)
	return uc, nil
}

// Refuse answers a request that Authorize refused with err, as Require does: without a session, a browser
// navigation is sent to login (and comes back to the same URL) while API and script requests get 401 JSON with
// WWW-Authenticate; a refused user gets 403 "Unauthorized!"; a failed store gets 503.
func (a *Auth) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrLoginRequired):
		if wantsRedirect(r) {
			a.startLogin(w, r, r.URL.RequestURI())
		} else {
			respondUnauthorized(w, "")
		}
	case errors.Is(err, ErrForbidden):
		a.respondForbidden(w, r, err)
	default:
		a.respondError(w, r, http.StatusServiceUnavailable, "Could not load the session",
			"The session store is unavailable at the moment. Please try again shortly.")
	}
}

// Login sends the browser to the provider's login, to come back to returnTo after it: a same-origin path with
// its query (anything else becomes "/"). Programs call it from a sign-in link or a forward-auth sign-in
// endpoint; Refuse calls it for protected pages.
func (a *Auth) Login(w http.ResponseWriter, r *http.Request, returnTo string) {
	a.startLogin(w, r, returnTo)
}
