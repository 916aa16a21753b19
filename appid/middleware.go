package appid

import "net/http"

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
			u := new(User) // the handler's own: st may be shared with other requests
			*u = st.user
			if a.cfg.OnUser != nil {
				a.cfg.OnUser(r, u)
			}
			if !set.allows(u) {
				a.observer.AuthorizationDecided(set.name, decisionDeny)
				respondForbidden(w, r)
				return
			}
			a.observer.AuthorizationDecided(set.name, decisionAllow)
			next.ServeHTTP(w, r.WithContext(withUser(r.Context(), u)))
		})
	}
}
