package appid

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
)

// respondError answers with a short page naming what failed: HTML for browsers, JSON for API requests.
func (a *Auth) respondError(w http.ResponseWriter, r *http.Request, status int, title, detail string) {
	if !wantsRedirect(r) {
		respondJSON(w, status, errorCode(status), title+": "+detail)
		return
	}
	respondHTML(w, status, title, "<p>"+html.EscapeString(detail)+"</p>")
}

// Content security policies of the pages appid writes. Pages hold no script, style or image.
const (
	pageCSP = "default-src 'none'; form-action 'self'"
	// logoutPageCSP leaves form-action open: browsers apply it to the redirects that follow the form's POST,
	// and logging out redirects to the provider's logout on the provider's origin.
	logoutPageCSP = "default-src 'none'"
)

// respondHTML writes a minimal HTML page; body must already be escaped.
func respondHTML(w http.ResponseWriter, status int, title, body string) {
	respondHTMLWithCSP(w, status, pageCSP, title, body)
}

// respondHTMLWithCSP is respondHTML with its own content security policy.
func respondHTMLWithCSP(w http.ResponseWriter, status int, csp, title, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n"+
		"<body><h1>%s</h1>\n%s\n</body></html>\n", html.EscapeString(title), html.EscapeString(title), body)
}

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

// respondForbidden answers a signed-in user whom the policy refuses, in the reference app's words.
func respondForbidden(w http.ResponseWriter, r *http.Request) {
	if !wantsRedirect(r) {
		respondJSON(w, http.StatusForbidden, "forbidden", "Unauthorized!")
		return
	}
	respondHTML(w, http.StatusForbidden, "Unauthorized!", "<p>Unauthorized!</p>"+
		"<p>You are signed in, but your account lacks the role this page requires.</p>")
}

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
