package appid

import (
	"context"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/appidgate/appidgate/appid/iam"
	"golang.org/x/oauth2"
)

// Login outcomes reported to Observer.LoginFinished.
const (
	loginSuccess        = "success"
	loginDenied         = "denied"
	loginInvalidRequest = "invalid_request"
	loginProviderError  = "provider_error"
	loginRolesError     = "roles_error"
)

// handleCallback finishes a login: it checks state (once only) and iss, exchanges the code with PKCE and HTTP
// Basic client authentication, verifies both tokens, reads the roles, starts a new session and returns the
// user to the page that asked for the login.
func (f *loginFlow) handleCallback(w http.ResponseWriter, r *http.Request) {
	a := f.a
	if r.URL.RawQuery == "" {
		a.signInAgain(w, r) // back from the logout of "sign in as someone else" (switchuser.go)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	w.Header().Set("Cache-Control", "no-store")
	now := a.cfg.Now()
	if e := q.Get("error"); e != "" {
		a.observer.LoginFinished(loginDenied)
		status := http.StatusBadRequest
		if e == "access_denied" {
			status = http.StatusForbidden
		}
		// The provider's words are shown only to the browser whose login they answer (and only once): anyone
		// can link to the callback with an error and words of their choosing.
		detail := "The login did not complete. Please start again."
		if state := q.Get("state"); state != "" {
			_, err := f.takePendingLogin(w, r, state, now)
			if err == nil && f.usedStates.markUsed(state, now) {
				detail = "The identity provider answered: " + truncate(e, 64)
				if d := q.Get("error_description"); d != "" {
					detail += " (" + truncate(d, 200) + ")"
				}
			}
		}
		a.respondError(w, r, status, "Login failed", detail)
		return
	}
	state, code := q.Get("state"), q.Get("code")
	if state == "" || code == "" {
		f.failLogin(w, r, loginInvalidRequest, http.StatusBadRequest, "Invalid login response",
			"The login response lacks its code or state.")
		return
	}
	pending, err := f.takePendingLogin(w, r, state, now)
	if err != nil {
		f.failLogin(w, r, loginInvalidRequest, http.StatusBadRequest, "Invalid login response",
			"This login is unknown, expired or already used. Please start again.")
		return
	}
	if !f.redeemState(w, r, state, now) {
		return
	}
	meta, err := a.discovery.metadata(ctx)
	if err != nil {
		a.log.WarnContext(ctx, "appid: callback cannot reach the provider", "error", err)
		f.failLogin(w, r, loginProviderError, http.StatusServiceUnavailable, "Could not retrieve user tokens",
			"The identity provider is unavailable at the moment. Please try again shortly.")
		return
	}
	// RFC 9207: a callback that names its issuer must name ours (mix-up attack defence).
	if iss, ok := q["iss"]; ok && (len(iss) != 1 || iss[0] != meta.Issuer) {
		f.failLogin(w, r, loginInvalidRequest, http.StatusBadRequest, "Invalid login response",
			"The login response comes from an unexpected issuer.")
		return
	}
	tok, err := f.exchange(ctx, meta, code, pending.Verifier)
	if err != nil {
		a.log.WarnContext(ctx, "appid: code exchange failed", "error", err)
		status := http.StatusBadGateway
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			status = http.StatusBadRequest
		}
		f.failLogin(w, r, loginProviderError, status, "Could not retrieve user tokens",
			"The identity provider did not issue tokens for this login.")
		return
	}
	vctx, span := a.startSpan(ctx, spanVerifyTokens)
	st, err := a.provider.session(vctx, tok, pending.Nonce, nil, now)
	endSpan(span, err)
	if err != nil {
		a.log.WarnContext(ctx, "appid: tokens refused", "error", err)
		status := http.StatusBadGateway
		switch {
		case errors.Is(err, errTokenInvalid):
			status = http.StatusUnauthorized
		case errors.Is(err, errProviderUnavailable):
			status = http.StatusServiceUnavailable // the provider's keys are out of reach
		}
		f.failLogin(w, r, loginProviderError, status, "Could not verify user tokens",
			"The tokens from the identity provider failed verification.")
		return
	}
	st.id = newSessionID()
	if a.roles != nil {
		rctx, span := a.startSpan(ctx, spanRoles)
		roles, err := a.roles(rctx, st.user.ID)
		endSpan(span, err)
		if err != nil {
			a.log.WarnContext(ctx, "appid: reading roles failed", "error", err)
			if errors.Is(err, iam.ErrNoToken) { // no credential to ask with: this app's setup, not App ID
				f.failLogin(w, r, loginRolesError, http.StatusServiceUnavailable, "Could not retrieve user roles",
					"This app could not obtain an IBM Cloud IAM token to read the user's roles. Please try again shortly.")
				return
			}
			f.failLogin(w, r, loginRolesError, http.StatusBadGateway, "Could not retrieve user roles",
				"The App ID management API did not return the user's roles. Please try again shortly.")
			return
		}
		st.user.Roles = roles
	}
	if err := a.sessions.saveSession(w, r, st, true); err != nil {
		f.failLogin(w, r, loginProviderError, http.StatusServiceUnavailable, "Could not save the session",
			"The session store is unavailable at the moment. Please try again shortly.")
		return
	}
	a.observer.LoginFinished(loginSuccess)
	http.Redirect(w, r, pending.ReturnTo, http.StatusFound)
}

// redeemState marks state used, once only; on refusal it answers the request and returns false.
func (f *loginFlow) redeemState(w http.ResponseWriter, r *http.Request, state string, now time.Time) bool {
	if f.usedStates.markUsed(state, now) {
		return true
	}
	f.failLogin(w, r, loginInvalidRequest, http.StatusBadRequest, "Invalid login response",
		"This login is unknown, expired or already used. Please start again.")
	return false
}

func (f *loginFlow) failLogin(w http.ResponseWriter, r *http.Request, result string, status int, title, detail string) {
	a := f.a
	a.observer.LoginFinished(result)
	a.respondError(w, r, status, title, detail)
}

// exchange redeems the code at the token endpoint.
func (f *loginFlow) exchange(ctx context.Context, meta *providerMetadata, code, verifier string) (tok *oauth2.Token, err error) {
	a := f.a
	ctx, span := a.startSpan(ctx, spanTokenExchange)
	defer func() { endSpan(span, err) }()
	ctx, cancel := context.WithTimeout(ctx, providerCallTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, a.cfg.HTTPClient)
	return a.oauth2Config(meta).Exchange(ctx, code, oauth2.VerifierOption(verifier))
}

// truncate shortens s to at most n bytes without splitting a UTF-8 sequence, so that reflected provider
// messages stay short.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
