package appid

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/appidgate/appidgate/internal/pages"
)

// respondError answers with a short page naming what failed, with a link to try again and the request id of
// the log line: HTML for browsers, JSON for API requests.
func (a *Auth) respondError(w http.ResponseWriter, r *http.Request, status int, title, detail string) {
	if !wantsRedirect(r) {
		respondJSON(w, status, errorCode(status), title+": "+detail)
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

// respondJSON writes {"error": code, "error_description": description}.
func respondJSON(w http.ResponseWriter, status int, code, description string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{code, description})
}

// respondUnauthorized answers an API request that carries no valid session or token: 401 with
// WWW-Authenticate, never a redirect. tokenErr is the RFC 6750 error code, empty when no token was sent.
func respondUnauthorized(w http.ResponseWriter, tokenErr string) {
	challenge := `Bearer realm="appidgate"`
	if tokenErr != "" {
		challenge += `, error="` + tokenErr + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	respondJSON(w, http.StatusUnauthorized, "unauthorized", "login required")
}

// respondForbidden answers a signed-in user whom the policy refuses, in the reference app's words, saying who is
// signed in, what the route needs and whom to ask, with a button to sign in as someone else. err is the refusal
// of Authorize; without its details the page says less.
func (a *Auth) respondForbidden(w http.ResponseWriter, r *http.Request, err error) {
	if !wantsRedirect(r) {
		respondJSON(w, http.StatusForbidden, "forbidden", "Unauthorized!")
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
	a.rememberRefused(w, r)
	a.writePage(w, r, http.StatusForbidden, logoutPageCSP, data)
}

// refusal is Authorize's ErrForbidden with who was refused and by which policy, for the 403 page.
type refusal struct {
	policy string
	user   User
}

func (e *refusal) Error() string { return ErrForbidden.Error() + " (" + e.policy + ")" }

// Unwrap makes errors.Is(err, ErrForbidden) hold.
func (e *refusal) Unwrap() error { return ErrForbidden }

func errorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusServiceUnavailable:
		return "temporarily_unavailable"
	default:
		return "server_error"
	}
}
