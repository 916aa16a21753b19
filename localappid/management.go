package localappid

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
)

// roleRef is a role as GET/PUT /users/{id}/roles list it.
type roleRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// roleView is a role as GET /roles lists it.
type roleView struct {
	ID          string           `json:"id"`
	Name        string           `json:"name"`
	Description string           `json:"description,omitempty"`
	Access      []roleAccessView `json:"access"`
}

type roleAccessView struct {
	ApplicationID string   `json:"application_id"`
	Scopes        []string `json:"scopes"`
}

// profileView is App ID's user profile.
type profileView struct {
	ID         string            `json:"id"`
	Name       string            `json:"name,omitempty"`
	Email      string            `json:"email,omitempty"`
	Identities []profileIdentity `json:"identities"`
	Attributes map[string]any    `json:"attributes"`
}

type profileIdentity struct {
	Provider    string         `json:"provider"`
	ID          string         `json:"id"`
	IdpUserInfo map[string]any `json:"idpUserInfo"`
}

// writeManagementError writes App ID's management error shape.
func writeManagementError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"errorCode": code, "message": message})
}

// requireIAM admits a management call only with a Bearer IAM token this provider issued and that is unexpired by
// its clock; anything else gets 401, so relying parties exercise their renew-and-retry path.
func (p *Provider) requireIAM(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, message := p.checkIAM(r); code != "" {
			w.Header().Set("WWW-Authenticate", iamChallenge(code))
			writeManagementError(w, http.StatusUnauthorized, code, message)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		next(w, r)
	})
}

// checkIAM checks the request's Bearer IAM token: this provider issued it and it is unexpired by its clock. It
// returns App ID's error code and message for a missing or bad token, and "" for a good one.
func (p *Provider) checkIAM(r *http.Request) (code, message string) {
	token, ok := bearerToken(r)
	if !ok {
		return "UNAUTHORIZED", "a Bearer IAM access token is required"
	}
	now := p.cfg.Now()
	p.mu.Lock()
	exp, known := p.iamTokens.get(token)
	p.mu.Unlock()
	if !known || !now.Before(exp) {
		return "INVALID_TOKEN", "the IAM access token is invalid or expired"
	}
	return "", ""
}

// iamChallenge is the WWW-Authenticate header for checkIAM's error code.
func iamChallenge(code string) string {
	if code == "INVALID_TOKEN" {
		return `Bearer realm="localappid", error="invalid_token"`
	}
	return `Bearer realm="localappid"`
}

// userRoleRefs lists a user's roles; ok is false for an unknown user.
func (p *Provider) userRoleRefs(userID string) (refs []roleRef, ok bool) {
	if p.userByID(userID) == nil {
		return nil, false
	}
	p.mu.Lock()
	ids := slices.Clone(p.userRoles[userID])
	p.mu.Unlock()
	refs = []roleRef{}
	for _, id := range ids {
		if r := p.roleByID[id]; r != nil {
			refs = append(refs, roleRef{ID: r.ID, Name: r.Name})
		}
	}
	return refs, true
}

// handleGetUserRoles is GET /users/{id}/roles: {"roles":[{"id","name"}]}.
func (p *Provider) handleGetUserRoles(w http.ResponseWriter, r *http.Request) {
	refs, ok := p.userRoleRefs(r.PathValue("id"))
	if !ok {
		writeManagementError(w, http.StatusNotFound, "NOT_FOUND", "no user with this id")
		return
	}
	writeJSON(w, http.StatusOK, map[string][]roleRef{"roles": refs})
}

// handlePutUserRoles is PUT /users/{id}/roles with {"roles":{"ids":[...]}}: it replaces the user's roles.
func (p *Provider) handlePutUserRoles(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if p.userByID(id) == nil {
		writeManagementError(w, http.StatusNotFound, "NOT_FOUND", "no user with this id")
		return
	}
	var body struct {
		Roles *struct {
			IDs []string `json:"ids"`
		} `json:"roles"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err := dec.Decode(&body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeManagementError(w, http.StatusRequestEntityTooLarge, "BAD_REQUEST", "request body too large")
			return
		}
		writeManagementError(w, http.StatusBadRequest, "BAD_REQUEST", "body must be JSON like {\"roles\":{\"ids\":[...]}}")
		return
	}
	if body.Roles == nil {
		writeManagementError(w, http.StatusBadRequest, "BAD_REQUEST", "body must be JSON like {\"roles\":{\"ids\":[...]}}")
		return
	}
	ids := []string{}
	for _, rid := range body.Roles.IDs {
		if p.roleByID[rid] == nil {
			writeManagementError(w, http.StatusBadRequest, "BAD_REQUEST", "unknown role id "+rid)
			return
		}
		if !slices.Contains(ids, rid) {
			ids = append(ids, rid)
		}
	}
	p.mu.Lock()
	p.userRoles[id] = ids
	p.mu.Unlock()
	refs, _ := p.userRoleRefs(id)
	writeJSON(w, http.StatusOK, map[string][]roleRef{"roles": refs})
}

// handleGetRoles is GET /roles: every role with its access per application.
func (p *Provider) handleGetRoles(w http.ResponseWriter, r *http.Request) {
	out := make([]roleView, 0, len(p.roles))
	for _, role := range p.roles {
		v := roleView{ID: role.ID, Name: role.Name, Description: role.Description, Access: []roleAccessView{}}
		for _, a := range role.Access {
			v.Access = append(v.Access, roleAccessView{ApplicationID: a.ApplicationID, Scopes: append([]string{}, a.Scopes...)})
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string][]roleView{"roles": out})
}

// handleGetProfile is GET /users/{id}/profile.
func (p *Provider) handleGetProfile(w http.ResponseWriter, r *http.Request) {
	u := p.userByID(r.PathValue("id"))
	if u == nil {
		writeManagementError(w, http.StatusNotFound, "NOT_FOUND", "no user with this id")
		return
	}
	info := map[string]any{"id": u.ID, "displayName": u.Name, "userName": u.Username}
	if u.Email != "" {
		info["emails"] = []map[string]any{{"value": u.Email, "primary": true}}
	}
	attrs := map[string]any{}
	p.mu.Lock()
	for name, value := range u.attrs {
		attrs[name] = json.RawMessage(value)
	}
	p.mu.Unlock()
	ident := u.identity()
	writeJSON(w, http.StatusOK, profileView{
		ID: u.ID, Name: u.Name, Email: u.Email, Attributes: attrs,
		Identities: []profileIdentity{{Provider: ident.Provider, ID: ident.ID, IdpUserInfo: info}},
	})
}
