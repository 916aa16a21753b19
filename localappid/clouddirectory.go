package localappid

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Lifetimes of the Cloud Directory's one-time links and codes.
const (
	verifyLinkTTL  = 24 * time.Hour  // the sign-up confirmation link
	resetLinkTTL   = time.Hour       // the password reset link
	detailsCodeTTL = 5 * time.Minute // a generate_code code for the change-details page
	maxPasswordLen = 256             // bcrypt reads 72 bytes; longer is refused, not cut
	maxCDFieldLen  = 254             // an email address, a user name, a display name
)

// Kinds of Cloud Directory context.
const (
	ctxVerify  = "sign_up"         // the confirmation link of a sign-up
	ctxReset   = "forgot_password" // the link of a forgot-password email
	ctxDetails = "change_details"  // a generate_code code
)

// cdContext is a one-time Cloud Directory link or code: what it is for, whose, and whether it was followed.
type cdContext struct {
	kind        string
	userID      string
	clientID    string // the application whose pages sent it, "" for the management API
	redirectURI string
	expires     time.Time
	followed    bool // the link was opened (confirmation_result answers success)
}

// newContextLocked stores a context and returns its key, or "" when the store is full. p.mu must be held.
func (p *Provider) newContextLocked(c cdContext, ttl time.Duration) string {
	key := randomToken()
	now := p.cfg.Now()
	c.expires = now.Add(ttl)
	if !p.contexts.add(now, key, &c) {
		return ""
	}
	return key
}

// contextFor returns a live context of a kind.
func (p *Provider) contextFor(key, kind string) (*cdContext, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.contexts.get(key)
	if !ok || c.kind != kind || p.cfg.Now().After(c.expires) {
		return nil, false
	}
	return c, true
}

// takeContextLocked removes a live context of a kind and returns it, so that it is used at most once. p.mu must
// be held.
func (p *Provider) takeContextLocked(key, kind string) (*cdContext, bool) {
	c, ok := p.contexts.get(key)
	if !ok || c.kind != kind || p.cfg.Now().After(c.expires) {
		return nil, false
	}
	p.contexts.delete(key)
	return c, true
}

// updateUserLocked replaces a user with a changed copy, so that readers holding the old one never see it change.
// p.mu must be held. It returns the new user, or nil when there is none with this id.
func (p *Provider) updateUserLocked(id string, change func(*user)) *user {
	old := p.users[id]
	if old == nil {
		return nil
	}
	u := *old
	change(&u)
	p.users[id] = &u
	for _, login := range []string{old.Username, old.Email} {
		if login != "" && p.logins[strings.ToLower(login)] == old {
			delete(p.logins, strings.ToLower(login))
		}
	}
	if u.idp == idpCloudDirectory {
		for _, login := range []string{u.Username, u.Email} {
			if login != "" {
				p.logins[strings.ToLower(login)] = &u
			}
		}
	}
	return &u
}

// loginTakenLocked reports whether a login name belongs to a user other than exceptID. p.mu must be held.
func (p *Provider) loginTakenLocked(login, exceptID string) bool {
	u := p.logins[strings.ToLower(login)]
	return u != nil && u.ID != exceptID
}

// hashPassword checks and hashes a new password.
func (p *Provider) hashPassword(password string) ([]byte, error) {
	if password == "" || len(password) > maxPasswordLen {
		return nil, fmt.Errorf("a password is 1-%d bytes", maxPasswordLen)
	}
	if len(password) > 72 {
		return nil, errors.New("a password is at most 72 bytes here (bcrypt)")
	}
	cost := p.cfg.PasswordHashCost
	if cost == 0 {
		cost = bcrypt.MinCost
	}
	return bcrypt.GenerateFromPassword([]byte(password), cost)
}

// validEmail accepts a bare address of at most 254 bytes.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= maxCDFieldLen
}

// signUp creates an unconfirmed Cloud Directory user and mails the confirmation link (to clientID's pages, or the
// management API's when clientID is "").
func (p *Provider) signUp(r *http.Request, email, password, name, userName, clientID, redirectURI string) (*user, *scimError) {
	if !validEmail(email) {
		return nil, scimBad("invalidValue", "emails[0].value must be an email address")
	}
	if len(name) > maxCDFieldLen || len(userName) > maxCDFieldLen {
		return nil, scimBad("invalidValue", fmt.Sprintf("names are at most %d bytes", maxCDFieldLen))
	}
	hash, err := p.hashPassword(password)
	if err != nil {
		return nil, scimBad("invalidValue", err.Error())
	}
	u := &user{User: User{ID: uuidShaped("localappid sign-up " + randomToken()), Email: email, Name: name, Username: userName},
		hash: hash, idp: idpCloudDirectory, attrs: map[string]string{}}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.loginTakenLocked(email, "") || (userName != "" && p.loginTakenLocked(userName, "")) {
		return nil, &scimError{status: http.StatusConflict, scimType: "uniqueness", detail: "a user with this email or user name already exists"}
	}
	if !p.addUserLocked(u) {
		return nil, &scimError{status: http.StatusServiceUnavailable, detail: "the provider holds too many users"}
	}
	p.userRoles[u.ID] = []string{}
	if e := p.sendLinkLocked(r, u, ctxVerify, clientID, redirectURI); e != nil {
		return nil, e
	}
	return u, nil
}

// sendLinkLocked mails a user a link of kind: ctxVerify confirms a sign-up, ctxReset sets a new password. p.mu
// must be held.
func (p *Provider) sendLinkLocked(r *http.Request, u *user, kind, clientID, redirectURI string) *scimError {
	ttl, page, template, subject, text := verifyLinkTTL, "verify", "USER_VERIFICATION", "Verify your email",
		"confirm your email address to finish signing up:"
	if kind == ctxReset {
		ttl, page, template, subject, text = resetLinkTTL, "reset_password", "RESET_PASSWORD", "Reset your password",
			"set a new password here:"
	}
	key := p.newContextLocked(cdContext{kind: kind, userID: u.ID, clientID: clientID, redirectURI: redirectURI}, ttl)
	if key == "" {
		return &scimError{status: http.StatusServiceUnavailable, detail: "the provider holds too many pending links"}
	}
	link := p.issuer(r) + "/cloud_directory/" + page + "?context=" + key
	p.sendLocked(u.Email, u.ID, template, subject, "Hello "+u.displayName()+",\n\n"+text+"\n"+link+"\n", link)
	return nil
}

// setPasswordLocked replaces a user's password hash and sends App ID's password-changed notice. p.mu must be held.
func (p *Provider) setPasswordLocked(id string, hash []byte) *user {
	u := p.updateUserLocked(id, func(u *user) { u.hash = hash })
	if u != nil && u.Email != "" {
		p.sendLocked(u.Email, u.ID, "PASSWORD_CHANGED", "Your password was changed",
			"Hello "+u.displayName()+",\n\nthe password of your account was changed.\n")
	}
	return u
}

// displayName is the name to greet a user by.
func (u *user) displayName() string {
	for _, s := range []string{u.Name, u.Username, u.Email} {
		if s != "" {
			return s
		}
	}
	return u.ID
}

// scimError is a Cloud Directory (SCIM) error: App ID answers its Cloud Directory APIs with SCIM's error shape.
type scimError struct {
	status   int
	scimType string
	detail   string
}

func scimBad(scimType, detail string) *scimError {
	return &scimError{status: http.StatusBadRequest, scimType: scimType, detail: detail}
}

func writeSCIMError(w http.ResponseWriter, e *scimError) {
	body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": fmt.Sprint(e.status), "detail": e.detail}
	if e.scimType != "" {
		body["scimType"] = e.scimType
	}
	writeJSON(w, e.status, body)
}

// scimUser is a Cloud Directory user in SCIM form.
type scimUser struct {
	Schemas     []string    `json:"schemas"`
	ID          string      `json:"id"`
	UserName    string      `json:"userName,omitempty"`
	DisplayName string      `json:"displayName,omitempty"`
	Name        *scimName   `json:"name,omitempty"`
	Emails      []scimEmail `json:"emails,omitempty"`
	Active      bool        `json:"active"`
	Status      string      `json:"status"` // PENDING until the email is confirmed, then CONFIRMED
	Meta        scimMeta    `json:"meta"`
}

type scimName struct {
	Formatted  string `json:"formatted,omitempty"`
	GivenName  string `json:"givenName,omitempty"`
	FamilyName string `json:"familyName,omitempty"`
}

type scimEmail struct {
	Value   string `json:"value"`
	Primary bool   `json:"primary"`
}

type scimMeta struct {
	ResourceType string `json:"resourceType"`
}

// scimView renders a user; p.mu must be held (confirmed may change).
func scimView(u *user) scimUser {
	v := scimUser{Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, ID: u.ID, UserName: u.Username,
		DisplayName: u.Name, Active: true, Status: "CONFIRMED", Meta: scimMeta{ResourceType: "User"}}
	if !u.confirmed {
		v.Status = "PENDING"
	}
	if u.Name != "" {
		v.Name = &scimName{Formatted: u.Name}
	}
	if u.Email != "" {
		v.Emails = []scimEmail{{Value: u.Email, Primary: true}}
	}
	return v
}

// scimInput is what sign_up and PUT /cloud_directory/Users/{id} read.
type scimInput struct {
	UserName    string      `json:"userName"`
	DisplayName string      `json:"displayName"`
	Name        *scimName   `json:"name"`
	Emails      []scimEmail `json:"emails"`
	Password    string      `json:"password"`
}

// email is the primary (else first) email; name the display name, else the formatted or given and family name.
func (in scimInput) email() string {
	for _, e := range in.Emails {
		if e.Primary {
			return e.Value
		}
	}
	if len(in.Emails) > 0 {
		return in.Emails[0].Value
	}
	return ""
}

func (in scimInput) name() string {
	if in.DisplayName != "" || in.Name == nil {
		return in.DisplayName
	}
	if in.Name.Formatted != "" {
		return in.Name.Formatted
	}
	return strings.TrimSpace(in.Name.GivenName + " " + in.Name.FamilyName)
}

// readJSON decodes a bounded JSON body into v; it has answered with a SCIM error and returns false when it cannot.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeSCIMError(w, &scimError{status: http.StatusRequestEntityTooLarge, detail: "request body too large"})
			return false
		}
		writeSCIMError(w, scimBad("invalidSyntax", "the body is not the JSON object expected"))
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeSCIMError(w, scimBad("invalidSyntax", "data after the JSON object"))
		return false
	}
	return true
}

// handleCDSignUp is POST {management}/cloud_directory/sign_up: a SCIM user with a password; 201 with the user,
// who is PENDING until the confirmation email's link is followed.
func (p *Provider) handleCDSignUp(w http.ResponseWriter, r *http.Request) {
	var in scimInput
	if !readJSON(w, r, &in) {
		return
	}
	u, e := p.signUp(r, in.email(), in.Password, in.name(), in.UserName, "", "")
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	p.mu.Lock()
	v := scimView(u)
	p.mu.Unlock()
	writeJSON(w, http.StatusCreated, v)
}

// handleCDForgotPassword is POST {management}/cloud_directory/forgot_password with {"email"}: it mails a reset
// link and answers with the user; an unknown email is 404.
func (p *Provider) handleCDForgotPassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email string `json:"email"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.logins[strings.ToLower(strings.TrimSpace(in.Email))]
	if u == nil || !strings.EqualFold(u.Email, strings.TrimSpace(in.Email)) {
		writeSCIMError(w, &scimError{status: http.StatusNotFound, detail: "no user has this email"})
		return
	}
	if e := p.sendLinkLocked(r, u, ctxReset, "", ""); e != nil {
		writeSCIMError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, scimView(u))
}

// handleCDResend is POST {management}/cloud_directory/resend/{template} with {"uuid"}: it sends the email again
// (USER_VERIFICATION for a pending user, RESET_PASSWORD, WELCOME, PASSWORD_CHANGED).
func (p *Provider) handleCDResend(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UUID string `json:"uuid"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[in.UUID]
	if u == nil || u.idp != idpCloudDirectory || u.Email == "" {
		writeSCIMError(w, &scimError{status: http.StatusNotFound, detail: "no Cloud Directory user with this uuid and an email"})
		return
	}
	var e *scimError
	switch t := r.PathValue("template"); t {
	case "USER_VERIFICATION":
		if u.confirmed {
			e = scimBad("invalidValue", "the user's email is already verified")
		} else {
			e = p.sendLinkLocked(r, u, ctxVerify, "", "")
		}
	case "RESET_PASSWORD":
		e = p.sendLinkLocked(r, u, ctxReset, "", "")
	case "WELCOME":
		p.sendLocked(u.Email, u.ID, t, "Welcome", "Hello "+u.displayName()+",\n\nwelcome.\n")
	case "PASSWORD_CHANGED":
		p.sendLocked(u.Email, u.ID, t, "Your password was changed", "Hello "+u.displayName()+",\n\nthe password of your account was changed.\n")
	default:
		e = scimBad("invalidValue", "template must be USER_VERIFICATION, RESET_PASSWORD, WELCOME or PASSWORD_CHANGED")
	}
	if e != nil {
		writeSCIMError(w, e)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"message": "the notification was sent"})
}

// handleCDConfirmationResult answers POST {management}/cloud_directory/{sign_up,forgot_password}/
// confirmation_result with {"context"}: success and the user's uuid once the email's link was followed.
func (p *Provider) handleCDConfirmationResult(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Context string `json:"context"`
		}
		if !readJSON(w, r, &in) {
			return
		}
		c, ok := p.contextFor(in.Context, kind)
		p.mu.Lock()
		followed := ok && c.followed
		p.mu.Unlock()
		switch {
		case !ok:
			writeJSON(w, http.StatusOK, map[string]any{"success": false, "error": map[string]string{"code": "NOT_FOUND", "description": "the context is unknown or expired"}})
		case !followed:
			writeJSON(w, http.StatusOK, map[string]any{"success": false, "error": map[string]string{"code": "NOT_CONFIRMED", "description": "the email's link was not followed yet"}})
		default:
			writeJSON(w, http.StatusOK, map[string]any{"success": true, "uuid": c.userID})
		}
	}
}

// handleCDChangePassword is POST {management}/cloud_directory/change_password with {"uuid","newPassword"}.
func (p *Provider) handleCDChangePassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UUID             string `json:"uuid"`
		NewPassword      string `json:"newPassword"`
		ChangedIPAddress string `json:"changedIpAddress"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	hash, err := p.hashPassword(in.NewPassword)
	if err != nil {
		writeSCIMError(w, scimBad("invalidValue", err.Error()))
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := p.users[in.UUID]; u == nil || u.idp != idpCloudDirectory {
		writeSCIMError(w, &scimError{status: http.StatusNotFound, detail: "no Cloud Directory user with this uuid"})
		return
	}
	writeJSON(w, http.StatusOK, scimView(p.setPasswordLocked(in.UUID, hash)))
}

// cdUser returns the Cloud Directory user of the path's {id}; p.mu must be held.
func (p *Provider) cdUserLocked(w http.ResponseWriter, r *http.Request) *user {
	u := p.users[r.PathValue("id")]
	if u == nil || u.idp != idpCloudDirectory {
		writeSCIMError(w, &scimError{status: http.StatusNotFound, detail: "no Cloud Directory user with this id"})
		return nil
	}
	return u
}

// handleCDGetUser is GET {management}/cloud_directory/Users/{id}.
func (p *Provider) handleCDGetUser(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := p.cdUserLocked(w, r); u != nil {
		writeJSON(w, http.StatusOK, scimView(u))
	}
}

// handleCDUpdateUser is PUT {management}/cloud_directory/Users/{id}: it replaces the email, user name and
// display name (a password in the body is refused: change_password sets it).
func (p *Provider) handleCDUpdateUser(w http.ResponseWriter, r *http.Request) {
	var in scimInput
	if !readJSON(w, r, &in) {
		return
	}
	if in.Password != "" {
		writeSCIMError(w, scimBad("mutability", "the password is changed with change_password"))
		return
	}
	email, name := in.email(), in.name()
	if email != "" && !validEmail(email) {
		writeSCIMError(w, scimBad("invalidValue", "emails[0].value must be an email address"))
		return
	}
	if len(name) > maxCDFieldLen || len(in.UserName) > maxCDFieldLen {
		writeSCIMError(w, scimBad("invalidValue", fmt.Sprintf("names are at most %d bytes", maxCDFieldLen)))
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.cdUserLocked(w, r)
	if u == nil {
		return
	}
	if e := p.updateDetailsLocked(u.ID, email, name, in.UserName); e != nil {
		writeSCIMError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, scimView(p.users[u.ID]))
}

// updateDetailsLocked sets a user's email, display name and user name (empty ones stay as they are), refusing a
// login name another user has. p.mu must be held.
func (p *Provider) updateDetailsLocked(id, email, name, userName string) *scimError {
	if (email != "" && p.loginTakenLocked(email, id)) || (userName != "" && p.loginTakenLocked(userName, id)) {
		return &scimError{status: http.StatusConflict, scimType: "uniqueness", detail: "another user has this email or user name"}
	}
	p.updateUserLocked(id, func(u *user) {
		if email != "" {
			u.Email = email
		}
		if name != "" {
			u.Name = name
		}
		if userName != "" {
			u.Username = userName
		}
	})
	return nil
}

// handleCDDeleteUser is DELETE {management}/cloud_directory/Users/{id}: the user, its roles, attributes and
// login sessions go; 204.
func (p *Provider) handleCDDeleteUser(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	u := p.cdUserLocked(w, r)
	if u == nil {
		p.mu.Unlock()
		return
	}
	p.removeUserLocked(u)
	for _, login := range []string{u.Username, u.Email} {
		if login != "" {
			delete(p.logins, strings.ToLower(login))
		}
	}
	for id, s := range p.sessions.entries {
		if s.userID == u.ID {
			p.sessions.delete(id)
		}
	}
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
