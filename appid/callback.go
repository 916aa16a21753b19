package appid

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/appidgate/appidgate/appid/iam"
	"github.com/appidgate/appidgate/internal/audit"
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

// Why a login failed: the reason of its audit record (audit.LoginFailed). Each implies one outcome reported to
// Observer.LoginFinished (see loginFailure.result).
const (
	failProviderError       = "provider_error"        // the provider answered with an error (such as access_denied)
	failMissingCodeOrState  = "missing_code_or_state" // the callback lacks its code or state
	failStateUnknown        = "state_unknown"         // no login in progress with this state: forged, expired, elsewhere
	failStateReplayed       = "state_replayed"        // the state was redeemed before
	failIssuerMismatch      = "issuer_mismatch"       // the callback's iss names another provider (RFC 9207)
	failProviderUnreachable = "provider_unreachable"  // discovery or the provider's keys out of reach
	// failCodeExchange: the token endpoint refused the code (its error invalid_grant: the code was used or
	// expired, or the PKCE verifier does not match).
	failCodeExchange  = "code_exchange_failed"
	failNonceMismatch = "nonce_mismatch"       // the id token's nonce is not the login's
	failTokenInvalid  = "token_invalid"        // the tokens failed verification (signature, iss, aud, times)
	failAnonymousUser = "anonymous_user"       // App ID's anonymous user, without Config.AllowAnonymous
	failRolesRead     = "roles_read_failed"    // the user's roles could not be read
	failSessionStore  = "session_store_failed" // the session could not be saved
)

// loginFailure is why a callback started no session: its audit record's reason, the user when known, and the
// provider's error code when it gave one.
type loginFailure struct {
	reason, userID, code string
}

// result is the outcome of the failure for Observer.LoginFinished.
func (l loginFailure) result() string {
	switch l.reason {
	case failProviderError:
		return loginDenied
	case failMissingCodeOrState, failStateUnknown, failStateReplayed, failIssuerMismatch:
		return loginInvalidRequest
	case failRolesRead:
		return loginRolesError
	}
	return loginProviderError
}

// handleCallback finishes a login: it checks state (once only) and iss, exchanges the code with PKCE and HTTP
// Basic client authentication, verifies both tokens, reads the roles, starts a new session and returns the
// user to the page that asked for the login.
func (f *loginFlow) handleCallback(w http.ResponseWriter, r *http.Request) {
	a := f.a
	if r.URL.RawQuery == "" {
		f.signInAgain(w, r) // back from the logout of "sign in as someone else" (switchuser.go)
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	w.Header().Set("Cache-Control", "no-store")
	now := a.cfg.Now()
	if e := q.Get("error"); e != "" {
		a.observer.LoginFinished(loginDenied)
		a.audit.Write(r, loginFailure{reason: failProviderError, code: e}.record())
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
		f.failLogin(w, r, loginFailure{reason: failMissingCodeOrState}, http.StatusBadRequest,
			"Invalid login response", "The login response lacks its code or state.")
		return
	}
	pending, err := f.takePendingLogin(w, r, state, now)
	if err != nil {
		f.failLogin(w, r, loginFailure{reason: failStateUnknown}, http.StatusBadRequest, "Invalid login response",
			"This login is unknown, expired or already used. Please start again.")
		return
	}
	if !f.redeemState(w, r, state, now) {
		return
	}
	meta, err := a.discovery.metadata(ctx)
	if err != nil {
		a.log.WarnContext(ctx, "appid: callback cannot reach the provider", "error", err)
		f.failLogin(w, r, loginFailure{reason: failProviderUnreachable}, http.StatusServiceUnavailable,
			"Could not retrieve user tokens",
			"The identity provider is unavailable at the moment. Please try again shortly.")
		return
	}
	// RFC 9207: a callback that names its issuer must name ours (mix-up attack defence).
	if iss, ok := q["iss"]; ok && (len(iss) != 1 || iss[0] != meta.Issuer) {
		f.failLogin(w, r, loginFailure{reason: failIssuerMismatch}, http.StatusBadRequest, "Invalid login response",
			"The login response comes from an unexpected issuer.")
		return
	}
	tok, err := f.exchange(ctx, meta, code, pending.Verifier)
	if err != nil {
		a.log.WarnContext(ctx, "appid: code exchange failed", "error", err)
		status := http.StatusBadGateway
		fail := loginFailure{reason: failCodeExchange}
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			fail.code = re.ErrorCode
			if re.ErrorCode == "invalid_grant" {
				status = http.StatusBadRequest
			}
		}
		f.failLogin(w, r, fail, status, "Could not retrieve user tokens",
			"The identity provider did not issue tokens for this login.")
		return
	}
	vctx, span := startSpan(ctx, a.tracer, spanVerifyTokens)
	st, err := a.provider.session(vctx, tok, pending.Nonce, nil, now)
	endSpan(span, err)
	if err != nil {
		a.log.WarnContext(ctx, "appid: tokens refused", "error", err)
		status, fail := http.StatusBadGateway, loginFailure{reason: failTokenInvalid}
		title, detail := "Could not verify user tokens", "The tokens from the identity provider failed verification."
		switch {
		case errors.Is(err, errAnonymousUser):
			status, fail.reason = http.StatusForbidden, failAnonymousUser
			title, detail = "Sign-in required", "This app does not admit anonymous users. Please sign in with an account."
		case errors.Is(err, errNonceMismatch):
			status, fail.reason = http.StatusUnauthorized, failNonceMismatch
		case errors.Is(err, errTokenInvalid):
			status = http.StatusUnauthorized
		case errors.Is(err, errProviderUnavailable):
			status = http.StatusServiceUnavailable // the provider's keys are out of reach
			fail.reason = failProviderUnreachable
		}
		f.failLogin(w, r, fail, status, title, detail)
		return
	}
	st.id = newSessionID()
	if a.roles != nil && !st.user.Anonymous { // an anonymous user holds no role
		rctx, span := startSpan(ctx, a.tracer, spanRoles)
		roles, err := a.roles(rctx, st.user.ID)
		endSpan(span, err)
		if err != nil {
			a.log.WarnContext(ctx, "appid: reading roles failed", "error", err)
			if errors.Is(err, iam.ErrNoToken) { // no credential to ask with: this app's setup, not App ID
				f.failLogin(w, r, loginFailure{reason: failRolesRead, userID: st.user.ID}, http.StatusServiceUnavailable,
					"Could not retrieve user roles",
					"This app could not obtain an IBM Cloud IAM token to read the user's roles. Please try again shortly.")
				return
			}
			f.failLogin(w, r, loginFailure{reason: failRolesRead, userID: st.user.ID}, http.StatusBadGateway,
				"Could not retrieve user roles",
				"The App ID management API did not return the user's roles. Please try again shortly.")
			return
		}
		st.user.Roles = roles
	}
	if err := a.sessions.saveSession(w, r, st, true); err != nil {
		f.failLogin(w, r, loginFailure{reason: failSessionStore, userID: st.user.ID}, http.StatusServiceUnavailable,
			"Could not save the session",
			"The session store is unavailable at the moment. Please try again shortly.")
		return
	}
	a.observer.LoginFinished(loginSuccess)
	a.audit.Write(r, audit.Record{Event: audit.LoginSucceeded, Outcome: audit.Success, UserID: st.user.ID})
	http.Redirect(w, r, pending.ReturnTo, http.StatusFound)
}

// redeemState marks state used, once only; on refusal it answers the request and returns false.
func (f *loginFlow) redeemState(w http.ResponseWriter, r *http.Request, state string, now time.Time) bool {
	if f.usedStates.markUsed(state, now) {
		return true
	}
	f.failLogin(w, r, loginFailure{reason: failStateReplayed}, http.StatusBadRequest, "Invalid login response",
		"This login is unknown, expired or already used. Please start again.")
	return false
}

// failLogin answers a callback that starts no session, reporting why to the observer and the audit log.
func (f *loginFlow) failLogin(w http.ResponseWriter, r *http.Request, fail loginFailure, status int,
	title, detail string) {
	a := f.a
	a.observer.LoginFinished(fail.result())
	a.audit.Write(r, fail.record())
	a.respondError(w, r, status, title, detail)
}

// record is the audit record of the failure. The provider's error code, which anyone linking to the callback
// can choose, is kept only when it looks like one (RFC 6749's characters, at most 64).
func (l loginFailure) record() audit.Record {
	rec := audit.Record{Event: audit.LoginFailed, Outcome: audit.Failure, UserID: l.userID, Reason: l.reason}
	if l.code != "" {
		code := l.code
		unreadable := func(c rune) bool { return c < 0x21 || c > 0x7e || c == '"' || c == '\\' }
		if len(code) > 64 || strings.ContainsFunc(code, unreadable) {
			code = "unreadable"
		}
		rec.Attrs = []slog.Attr{slog.String("provider_error", code)}
	}
	return rec
}

// exchange redeems the code at the token endpoint.
func (f *loginFlow) exchange(ctx context.Context, meta *providerMetadata, code, verifier string) (tok *oauth2.Token, err error) {
	a := f.a
	ctx, span := startSpan(ctx, a.tracer, spanTokenExchange)
	defer func() { endSpan(span, err) }()
	ctx, cancel := context.WithTimeout(ctx, providerCallTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, f.client.http)
	return f.client.oauth2Config(meta).Exchange(ctx, code, oauth2.VerifierOption(verifier))
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
