package localappid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Bounds of a user's custom attributes (the profiles API).
const (
	// MaxAttributes is how many custom attributes a user may hold.
	MaxAttributes = 100
	// MaxAttributeBytes bounds one attribute's value.
	MaxAttributeBytes = 16 << 10
	// maxAttributeNameLen bounds an attribute's name.
	maxAttributeNameLen = 128
)

// validAttributeName accepts 1-128 letters, digits, '.', '_' and '-'.
func validAttributeName(name string) bool {
	if len(name) == 0 || len(name) > maxAttributeNameLen {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// Scopes of App ID's profiles API.
const (
	scopeReadAttributes  = "appid_readuserattr"
	scopeWriteAttributes = "appid_writeuserattr"
)

// attributeUser authenticates a profiles API request: a Bearer access token of a user this provider has, holding
// scope. It has answered (401 or 403) and returns nil when not.
func (p *Provider) attributeUser(w http.ResponseWriter, r *http.Request, scope string) *user {
	raw, ok := bearerToken(r)
	if !ok {
		writeBearerError(w, http.StatusUnauthorized, "invalid_request", "a Bearer access token is required")
		return nil
	}
	c, err := p.verifyAccessToken(raw, p.issuer(r))
	if err != nil {
		writeBearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
		return nil
	}
	if !slices.Contains(strings.Fields(c.Scope), scope) {
		writeBearerError(w, http.StatusForbidden, "insufficient_scope", "the access token lacks scope "+scope)
		return nil
	}
	u := p.userByID(c.Subject)
	if u == nil {
		writeBearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked")
		return nil
	}
	return u
}

// attributeName reads the {name} path value; it has answered 400 and returns false when it is not a valid name.
func attributeName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if !validAttributeName(name) {
		writeBearerError(w, http.StatusBadRequest, "invalid_request", "an attribute name is 1-128 letters, digits, '.', '_' or '-'")
		return "", false
	}
	return name, true
}

// handleGetAttributes is GET {profiles}/api/v1/attributes: all the user's custom attributes as one JSON object.
func (p *Provider) handleGetAttributes(w http.ResponseWriter, r *http.Request) {
	u := p.attributeUser(w, r, scopeReadAttributes)
	if u == nil {
		return
	}
	p.mu.Lock()
	out := make(map[string]json.RawMessage, len(u.attrs))
	for name, value := range u.attrs {
		out[name] = json.RawMessage(value)
	}
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// handleGetAttribute is GET {profiles}/api/v1/attributes/{name}: the attribute's JSON value, 404 when unset.
func (p *Provider) handleGetAttribute(w http.ResponseWriter, r *http.Request) {
	u := p.attributeUser(w, r, scopeReadAttributes)
	if u == nil {
		return
	}
	name, ok := attributeName(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	value, found := u.attrs[name]
	p.mu.Unlock()
	if !found {
		writeBearerError(w, http.StatusNotFound, "not_found", "the user has no attribute "+name)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, json.RawMessage(value))
}

// handlePutAttribute is PUT {profiles}/api/v1/attributes/{name}: the body is the value, a JSON value or else
// plain text (kept as a JSON string, as IBM's SDK sends plain strings); it answers with the stored value.
func (p *Provider) handlePutAttribute(w http.ResponseWriter, r *http.Request) {
	u := p.attributeUser(w, r, scopeWriteAttributes)
	if u == nil {
		return
	}
	name, ok := attributeName(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxAttributeBytes))
	var value string
	if err == nil {
		value = attributeValue(body) // plain text grows as a JSON string
	}
	if err != nil || len(value) > MaxAttributeBytes {
		writeBearerError(w, http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("an attribute value is at most %d bytes", MaxAttributeBytes))
		return
	}
	p.mu.Lock()
	old, exists := u.attrs[name]
	full := !exists && len(u.attrs) >= MaxAttributes
	grow := attributeSize(name, value)
	if exists {
		grow -= attributeSize(name, old)
	}
	overBudget := !full && p.attrBytes+grow > p.cfg.AttributeBudget
	if !full && !overBudget {
		u.attrs[name] = value
		p.attrBytes += grow
	}
	p.mu.Unlock()
	if full {
		writeBearerError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("a user holds at most %d attributes", MaxAttributes))
		return
	}
	if overBudget {
		writeBearerError(w, http.StatusInsufficientStorage, "insufficient_storage",
			fmt.Sprintf("the provider's custom attributes are full (attribute_budget_bytes, %d bytes); delete some first", p.cfg.AttributeBudget))
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, json.RawMessage(value))
}

// handleDeleteAttribute is DELETE {profiles}/api/v1/attributes/{name}: 204, or 404 when unset.
func (p *Provider) handleDeleteAttribute(w http.ResponseWriter, r *http.Request) {
	u := p.attributeUser(w, r, scopeWriteAttributes)
	if u == nil {
		return
	}
	name, ok := attributeName(w, r)
	if !ok {
		return
	}
	p.mu.Lock()
	old, found := u.attrs[name]
	if found {
		delete(u.attrs, name)
		p.attrBytes -= attributeSize(name, old)
	}
	p.mu.Unlock()
	if !found {
		writeBearerError(w, http.StatusNotFound, "not_found", "the user has no attribute "+name)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// attributeSize is what one attribute counts against Config.AttributeBudget: its name and stored value.
func attributeSize(name, value string) int64 { return int64(len(name) + len(value)) }

// attributeValue is the stored form of a PUT body: compact JSON when it is JSON, else the text as a JSON string.
func attributeValue(body []byte) string {
	var buf bytes.Buffer
	if json.Valid(body) && json.Compact(&buf, body) == nil {
		return buf.String()
	}
	b, _ := json.Marshal(string(body)) // invalid UTF-8 becomes U+FFFD
	return string(b)
}
