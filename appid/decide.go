package appid

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/appidgate/appidgate/internal/audit"
)

// Authorization decisions reported to Observer.AuthorizationDecided.
const (
	decisionAllow           = "allow"
	decisionDeny            = "deny"
	decisionUnauthenticated = "unauthenticated"
)

// Why a request is refused. Refuse answers each; Authorize and AuthorizeBearerOrSession return them (wrapped in
// errors that say more, so compare with errors.Is).
var (
	// ErrLoginRequired: the request carries no valid session (or, where tokens are accepted, no valid token).
	ErrLoginRequired = errors.New("appid: login required")
	// ErrForbidden: the user is signed in, but the policy refuses them.
	ErrForbidden = errors.New("appid: the policy refuses the user")
	// ErrSessionStoreUnavailable: the session store failed, so nobody can tell who the user is.
	ErrSessionStoreUnavailable = errors.New("appid: the session store is unavailable")
	// ErrProviderUnavailable: a bearer token could not be checked, as the provider's keys (or its introspection
	// endpoint) are out of reach; the token is not at fault.
	ErrProviderUnavailable = errors.New("appid: the identity provider is out of reach")
)

// credential is what a request is decided by.
type credential uint8

const (
	bySession credential = iota // the session cookie, refreshed or revalidated when due
	byBearer                    // the "Authorization: Bearer" access token
)

// String names the credential in audit records: "session" or "bearer".
func (c credential) String() string {
	if c == byBearer {
		return "bearer"
	}
	return "session"
}

// decide is the one decision on a request, whichever door it came through (Require, RequireBearer, Authorize,
// AuthorizeBearerOrSession, and through them the proxy and forward-auth): it finds the user by the credential
// (writing a renewed session's cookie to w), lets Config.OnUser adjust them, applies policy and reports the
// outcome to the observer. A refused request gets an error for Refuse, and no answer; a user the policy refuses
// is returned with the error.
func (a *Auth) decide(w http.ResponseWriter, r *http.Request, policy Policy, by credential) (*userContext, error) {
	var uc *userContext
	var err error
	if by == byBearer {
		uc, err = a.bearerUser(r)
	} else {
		uc, err = a.sessionUser(w, r)
	}
	if err != nil {
		if errors.Is(err, ErrLoginRequired) {
			a.observer.AuthorizationDecided(policy.name, decisionUnauthenticated)
		}
		return nil, err
	}
	if a.cfg.OnUser != nil {
		a.cfg.OnUser(r, &uc.user)
	}
	if !policy.Allows(&uc.user) {
		a.observer.AuthorizationDecided(policy.name, decisionDeny)
		a.audit.Write(r, audit.Record{Event: audit.AccessDenied, Outcome: audit.Denied, UserID: uc.user.ID,
			Reason: "policy", Attrs: []slog.Attr{slog.String("policy", policy.name), slog.String("credential", by.String())}})
		return uc, &refusal{policy: policy.name, user: uc.user, bearer: by == byBearer}
	}
	a.observer.AuthorizationDecided(policy.name, decisionAllow)
	return uc, nil
}

// sessionUser is the user of the request's session, as the request's own copy.
func (a *Auth) sessionUser(w http.ResponseWriter, r *http.Request) (*userContext, error) {
	st, err := a.sessions.loadSession(w, r)
	if err != nil {
		return nil, ErrSessionStoreUnavailable
	}
	if st == nil || (st.user.Anonymous && !a.cfg.AllowAnonymous) { // anonymous users no longer admitted
		return nil, ErrLoginRequired
	}
	uc := newUserContext(&st.user) // st may be shared with other requests
	uc.user.accessToken = st.accessToken
	return uc, nil
}

// bearerUser is the user of the request's bearer token, as the request's own copy.
func (a *Auth) bearerUser(r *http.Request) (*userContext, error) {
	raw, ok := bearerToken(r)
	if !ok {
		return nil, &tokenRefusal{err: ErrLoginRequired}
	}
	uc, err := a.bearer.user(r.Context(), raw)
	if err != nil {
		return nil, tokenError(err)
	}
	return uc, nil
}

// tokenError is the refusal of a token that bearerVerifier.user refused with err.
func tokenError(err error) *tokenRefusal {
	switch {
	case errors.Is(err, errIntrospectionUnavailable):
		return &tokenRefusal{err: ErrProviderUnavailable, cause: err,
			what: "Could not reach the identity provider's introspection endpoint"}
	case errors.Is(err, errProviderUnavailable):
		return &tokenRefusal{err: ErrProviderUnavailable, cause: err, what: "Could not load the identity provider's keys"}
	}
	return &tokenRefusal{err: ErrLoginRequired, cause: err, code: "invalid_token"}
}

// Check is the reference app's decorator: it admits signed-in users holding at least one role. Browsers without
// a session are sent to login, API requests get 401, users without a role get 403 "Unauthorized!".
func (a *Auth) Check(h http.Handler) http.Handler {
	return a.Require(AnyRole())(h)
}

// Require returns middleware that admits signed-in users whom every policy allows (Authenticated when none is
// given), with the user in the request context (see UserFrom). A valid session costs no network call. Refused
// requests are answered by Refuse.
func (a *Auth) Require(policies ...Policy) func(http.Handler) http.Handler {
	return a.middleware(AllOf(policies...), bySession)
}

// RequireBearer returns middleware for APIs: it admits requests whose "Authorization: Bearer" access token
// verifies (signature, issuer, audience, expiry) and satisfies every policy, with no session involved. Roles come
// from the RolesClaim claim when the token has one. In ProviderOIDC mode, a token that is not a JWT for this
// client (an opaque one) is admitted when the provider's introspection endpoint says it is active and this
// client's. Missing or invalid tokens (id tokens included) get 401, refused ones 403, as JSON; 503 only when
// the provider's keys or introspection could not be reached.
func (a *Auth) RequireBearer(policies ...Policy) func(http.Handler) http.Handler {
	return a.middleware(AllOf(policies...), byBearer)
}

// middleware admits requests that decide allows by the credential, and has Refuse answer the others.
func (a *Auth) middleware(policy Policy, by credential) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			uc, err := a.decide(w, r, policy, by)
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
	return a.authorize(w, r, policy, bySession)
}

// AuthorizeBearerOrSession is Authorize for routes that also serve API clients with tokens (oauth2-proxy's
// --skip-jwt-bearer-tokens): a request with an "Authorization: Bearer" token is decided by that token as
// RequireBearer decides it (a missing session does not matter; an invalid token is refused, never passed to the
// session), any other request by its session as Authorize decides it. Token refusals wrap ErrLoginRequired,
// ErrForbidden or ErrProviderUnavailable; Refuse answers them as RequireBearer does.
func (a *Auth) AuthorizeBearerOrSession(w http.ResponseWriter, r *http.Request, policy Policy) (*User, error) {
	if _, ok := bearerToken(r); ok {
		return a.authorize(w, r, policy, byBearer)
	}
	return a.authorize(w, r, policy, bySession)
}

func (a *Auth) authorize(w http.ResponseWriter, r *http.Request, policy Policy, by credential) (*User, error) {
	uc, err := a.decide(w, r, policy, by)
	if uc == nil {
		return nil, err
	}
	return &uc.user, err
}

// Login sends the browser to the provider's login, to come back to returnTo after it: a same-origin path with
// its query (anything else becomes "/"). Programs call it from a sign-in link or a forward-auth sign-in
// endpoint; Refuse calls it for protected pages.
func (a *Auth) Login(w http.ResponseWriter, r *http.Request, returnTo string) {
	a.login.startLogin(w, r, returnTo)
}
