// Package answer holds what appid, the proxy and forward-auth answer alike: whether a request comes from a
// browser or an API client, and the JSON error answers (RFC 6750's 401 among them).
package answer

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Navigation reports whether r is a browser navigation, which may be redirected to the login page. API and
// script requests (a JSON Accept without text/html, an Authorization header, a Sec-Fetch-Mode other than
// navigate, X-Requested-With) are not: a redirect to a login page means nothing to them.
func Navigation(r *http.Request) bool {
	h := r.Header
	if h.Get("Authorization") != "" || h.Get("X-Requested-With") != "" {
		return false
	}
	if mode := h.Get("Sec-Fetch-Mode"); mode != "" && mode != "navigate" {
		return false
	}
	accept := h.Get("Accept")
	return !strings.Contains(accept, "json") || strings.Contains(accept, "text/html")
}

// AcceptsHTML reports whether r asks for a page (its Accept names text/html). The proxy's own short answers
// (400, 502) and forward-auth's are pages only for such requests; every other client gets JSON.
func AcceptsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// JSON writes {"error": code, "error_description": description} with status, uncached.
func JSON(w http.ResponseWriter, status int, code, description string) {
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

// Unauthorized answers a request that carries no valid session or token: 401 with WWW-Authenticate, never a
// redirect. tokenErr is the RFC 6750 error code ("invalid_token"), empty when no token was sent.
func Unauthorized(w http.ResponseWriter, tokenErr string) {
	challenge := `Bearer realm="appidgate"`
	if tokenErr != "" {
		challenge += `, error="` + tokenErr + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	JSON(w, http.StatusUnauthorized, "unauthorized", "login required")
}

// Code is the error code of a JSON answer with status.
func Code(status int) string {
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
