package localappid

import (
	"encoding/json"
	"net/http"
	"strings"
)

// userinfoResponse is App ID's userinfo body.
type userinfoResponse struct {
	Subject    string     `json:"sub"`
	Name       string     `json:"name,omitempty"`
	Email      string     `json:"email,omitempty"`
	Identities []identity `json:"identities"`
}

// handleUserinfo answers a Bearer access token with the user's claims; a bad token gets 401 invalid_token.
func (p *Provider) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	raw, ok := bearerToken(r)
	if !ok {
		writeBearerError(w, http.StatusUnauthorized, "invalid_request", "a Bearer access token is required")
		return
	}
	c, err := p.verifyAccessToken(raw, p.issuer(r))
	u := p.userByID(c.Subject)
	if err != nil || u == nil {
		writeBearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, userinfoResponse{
		Subject: u.ID, Name: u.Name, Email: u.Email, Identities: []identity{u.identity()},
	})
}

// bearerToken extracts the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

// writeBearerError answers with an RFC 6750 challenge and a JSON body.
func writeBearerError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="localappid", error="`+code+`", error_description="`+desc+`"`)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// handleActivityLogging is POST {oauth}/activity_logging, where IBM's WebAppStrategy.logout reports the logout
// ({"eventName": "logout", "id_token": ...}) with the user's access token. localappid keeps no activity log: it
// checks the token and the bounded body, and answers 204.
func (p *Provider) handleActivityLogging(w http.ResponseWriter, r *http.Request) {
	raw, ok := bearerToken(r)
	if !ok {
		writeBearerError(w, http.StatusUnauthorized, "invalid_request", "a Bearer access token is required")
		return
	}
	if _, err := p.verifyAccessToken(raw, p.issuer(r)); err != nil {
		writeBearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
		return
	}
	var event struct {
		EventName string `json:"eventName"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes)).Decode(&event); err != nil || event.EventName == "" {
		writeBearerError(w, http.StatusBadRequest, "invalid_request", "the body must be JSON with an eventName")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
