package appid

import (
	"errors"
	"net/http"

	"github.com/appidgate/appidgate/internal/answer"
	"github.com/appidgate/appidgate/internal/pages"
)

// Refuse answers a request that Authorize or AuthorizeBearerOrSession refused with err, as Require and
// RequireBearer do; it is the one place that answers refusals. Without a session, a browser navigation is sent
// to login (and comes back to the same URL) while API and script requests get 401 JSON with WWW-Authenticate; a
// refused user gets 403 "Unauthorized!" (a page for browsers); a failed store gets 503. A request decided by its
// bearer token gets JSON only: 401 (with error="invalid_token" for a token that does not verify), 403 with
// error="insufficient_scope", or 503 when the provider is out of reach.
func (a *Auth) Refuse(w http.ResponseWriter, r *http.Request, err error) {
	var tr *tokenRefusal
	var ref *refusal
	byToken := errors.As(err, &tr)
	switch {
	case errors.Is(err, ErrProviderUnavailable):
		w.Header().Set("Retry-After", "1")
		what := "Could not load the identity provider's keys"
		if tr != nil {
			what = tr.what
		}
		answer.JSON(w, http.StatusServiceUnavailable, "temporarily_unavailable", what)
	case errors.Is(err, ErrLoginRequired):
		switch {
		case byToken:
			answer.Unauthorized(w, tr.code)
		case answer.Navigation(r):
			a.login.startLogin(w, r, r.URL.RequestURI())
		default:
			answer.Unauthorized(w, "")
		}
	case errors.As(err, &ref) && ref.bearer:
		w.Header().Set("WWW-Authenticate", `Bearer realm="appidgate", error="insufficient_scope"`)
		answer.JSON(w, http.StatusForbidden, "forbidden", "Unauthorized!")
	case errors.Is(err, ErrForbidden):
		a.respondForbidden(w, r, err)
	default:
		a.respondError(w, r, http.StatusServiceUnavailable, "Could not load the session",
			"The session store is unavailable at the moment. Please try again shortly.")
	}
}

// refusal is decide's ErrForbidden with who was refused and by which policy, for the 403 page.
type refusal struct {
	policy string
	user   User
	bearer bool // decided by a bearer token: the answer is JSON with RFC 6750's challenge
}

func (e *refusal) Error() string { return ErrForbidden.Error() + " (" + e.policy + ")" }

// Unwrap makes errors.Is(err, ErrForbidden) hold.
func (e *refusal) Unwrap() error { return ErrForbidden }

// tokenRefusal is a bearer token's refusal: err is ErrLoginRequired (no token, or code "invalid_token" for one
// that does not verify) or ErrProviderUnavailable (what says what is out of reach).
type tokenRefusal struct {
	err   error
	cause error // why the token was refused, for logs; nil when no token was sent
	code  string
	what  string
}

func (e *tokenRefusal) Error() string {
	if e.cause != nil {
		return e.err.Error() + ": " + e.cause.Error()
	}
	return e.err.Error()
}

// Unwrap makes errors.Is(err, ErrLoginRequired) or errors.Is(err, ErrProviderUnavailable) hold.
func (e *tokenRefusal) Unwrap() error { return e.err }

// respondError answers with a short page naming what failed, with a link to try again and the request id of
// the log line: HTML for browsers, JSON for API requests.
func (a *Auth) respondError(w http.ResponseWriter, r *http.Request, status int, title, detail string) {
	if !answer.Navigation(r) {
		answer.JSON(w, status, answer.Code(status), title+": "+detail)
		return
	}
	a.writePage(w, r, status, pageCSP, pages.Error{Status: status, Title: title, Message: detail,
		RetryURL: a.retryURL(r), RequestID: requestID(w, r)})
}

// retryURL is where a failure page's "Try again" leads: the same page for a GET, the logout page for a failed
// logout, and the start for the callback, whose login cannot be tried twice.
func (a *Auth) retryURL(r *http.Request) string {
	switch {
	case r.URL.Path == "/logout":
		return "/logout"
	case r.Method != http.MethodGet || r.URL.Path == a.callbackPath:
		return "/"
	}
	return sanitizeReturnTo(r.URL.RequestURI())
}

// Content security policies of the pages appid writes. Pages hold no script or image; their one inline
// stylesheet is allowed by its hash, which pages.Set.Write adds (style-src 'sha256-...').
const (
	pageCSP = "default-src 'none'; form-action 'self'; frame-ancestors 'none'"
	// logoutPageCSP leaves form-action open: browsers apply it to the redirects that follow the form's POST,
	// and logging out redirects to the provider's logout on the provider's origin. Every page with a form that
	// posts to /logout (the logout page, the 403 page) uses it.
	logoutPageCSP = "default-src 'none'; frame-ancestors 'none'"
)

// respondForbidden answers a signed-in user whom the policy refuses, in the reference app's words, saying who is
// signed in, what the route needs and whom to ask, with a button to sign in as someone else. err is the refusal
// of Authorize; without its details the page says less.
func (a *Auth) respondForbidden(w http.ResponseWriter, r *http.Request, err error) {
	if !answer.Navigation(r) {
		answer.JSON(w, http.StatusForbidden, "forbidden", "Unauthorized!")
		return
	}
	data := pages.Forbidden{LogoutAction: "/logout", ReturnTo: a.callbackPath, RequestID: requestID(w, r)}
	var ref *refusal
	if errors.As(err, &ref) {
		data.User = pageUser(&ref.user)
		data.Required, data.Policy = describePolicy(ref.policy), ref.policy
	}
	if a.cfg.AccessContact != "" {
		data.Contact, data.ContactURL = contactLink(a.cfg.AccessContact)
	}
	a.login.rememberRefused(w, r)
	a.writePage(w, r, http.StatusForbidden, logoutPageCSP, data)
}
