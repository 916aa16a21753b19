package localappid

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/appidgate/appidgate/internal/pages"
)

// oauthError is an OAuth 2.0 error response (RFC 6749 section 5.2) with the HTTP status App ID answers it with.
type oauthError struct {
	status      int
	code        string
	description string
	basicAuth   bool          // the client tried HTTP Basic: answer 401 with a Basic challenge
	retryAfter  time.Duration // sent as Retry-After with a 503
	// appIDCode answers with App ID's own shape, {"error_code": code, "error_description": ...}, as it does for
	// an unverified user (FORBIDDEN).
	appIDCode bool
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

func invalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: desc}
}

func invalidGrant(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, code: "invalid_grant", description: desc}
}

// writeOAuthError writes the JSON error body with no-store caching.
func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized && e.basicAuth {
		w.Header().Set("WWW-Authenticate", `Basic realm="localappid"`)
	}
	setRetryAfter(w, e.retryAfter)
	w.Header().Set("Cache-Control", "no-store")
	if e.appIDCode {
		writeJSON(w, e.status, map[string]string{"error_code": e.code, "error_description": e.description})
		return
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.description})
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// maxFormBytes bounds every request body the provider reads; OAuth forms and role updates are far smaller.
const maxFormBytes = 64 << 10

// parsePostForm reads a bounded url-encoded body. It refuses a body over maxFormBytes (413), one that does not
// parse, and any parameter given twice (RFC 6749 section 3.1).
func parsePostForm(w http.ResponseWriter, r *http.Request) *oauthError {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &oauthError{status: http.StatusRequestEntityTooLarge, code: "invalid_request", description: "request body too large"}
		}
		return invalidRequest("malformed form body")
	}
	for name, values := range r.PostForm {
		if len(values) > 1 {
			return invalidRequest("parameter " + name + " given more than once")
		}
	}
	return nil
}

// writeErrorPage answers a browser request that cannot be redirected back to the client with a short HTML page.
func (p *Provider) writeErrorPage(w http.ResponseWriter, status int, title, message string) {
	p.pages.Write(w, status, "default-src 'none'; frame-ancestors 'none'", pages.Error{Status: status, Title: title,
		Message: message, Brand: "Local App ID"})
}
