package localappid

import (
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/appidgate/appidgate/internal/pages"
)

// The Cloud Directory's browser pages, where IBM's WebAppStrategy sends users: sign-up (response_type=sign_up at
// /authorization), forgot password, change password and change details, and the links of the emails it would
// have sent (confirm a sign-up, reset a password).

// renderForm shows a Cloud Directory form with its CSRF token.
func (p *Provider) renderForm(w http.ResponseWriter, r *http.Request, status int, f pages.Form) {
	f.Hidden = append([]pages.Field{{Name: "csrf_token", Value: p.csrfToken(w, r)}}, f.Hidden...)
	w.Header().Set("X-Frame-Options", "DENY")
	p.pages.Write(w, status, "default-src 'none'; frame-ancestors 'none'", f)
}

// writeNotice shows a short page saying what happened, with a 200 status.
func (p *Provider) writeNotice(w http.ResponseWriter, title, message string) {
	p.writeErrorPage(w, http.StatusOK, title, message)
}

// hiddenFields keeps the named values of v as hidden fields, in order, leaving out empty ones.
func hiddenFields(v url.Values, names ...string) []pages.Field {
	var out []pages.Field
	for _, n := range names {
		if s := v.Get(n); s != "" {
			out = append(out, pages.Field{Name: n, Value: s})
		}
	}
	return out
}

// pageClient checks the client_id and redirect_uri of a Cloud Directory page; when they are not a registered
// pair it has shown an error page and returns false.
func (p *Provider) pageClient(w http.ResponseWriter, v url.Values) bool {
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(v[name]) > 1 {
			p.writeErrorPage(w, http.StatusBadRequest, "Invalid request", name+" is given more than once.")
			return false
		}
	}
	c := p.clients[v.Get("client_id")]
	switch {
	case c == nil:
		p.writeErrorPage(w, http.StatusBadRequest, "Invalid request", "The client_id is not a registered application.")
	case !c.allowsRedirect(v.Get("redirect_uri")):
		p.writeErrorPage(w, http.StatusBadRequest, "Invalid request", "The redirect_uri is not registered for this application.")
	default:
		return true
	}
	return false
}

// readPageForm reads a Cloud Directory form's POST and checks its CSRF token; on failure it has answered.
func (p *Provider) readPageForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if e := parsePostForm(w, r); e != nil {
		p.writeErrorPage(w, e.status, "Invalid request", "The form could not be read.")
		return nil, false
	}
	if !p.validCSRF(r, r.PostForm.Get("csrf_token")) {
		p.writeErrorPage(w, http.StatusForbidden, "The form expired", "Please go back, reload the page and try again.")
		return nil, false
	}
	return r.PostForm, true
}

// redirectFlow sends the browser back to the application with flow=<flow>, as App ID ends its sign-up and
// forgot-password flows (IBM's WebAppStrategy then returns the user to where they were).
func redirectFlow(w http.ResponseWriter, r *http.Request, redirectURI, flow string) {
	u, err := url.Parse(redirectURI)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	q := u.Query()
	q.Set("flow", flow)
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// signUpInputs are the sign-up form's fields.
func signUpInputs(email, name string) []pages.Input {
	return []pages.Input{
		{Label: "Email", Name: "email", Type: "email", Value: email, Autocomplete: "email"},
		{Label: "Name", Name: "name", Type: "text", Value: name, Autocomplete: "name"},
		{Label: "Password", Name: "password", Type: "password", Autocomplete: "new-password"},
	}
}

// renderSignUp shows the sign-up form for an authorization request with response_type=sign_up.
func (p *Provider) renderSignUp(w http.ResponseWriter, r *http.Request, status int, v url.Values, message string) {
	p.renderForm(w, r, status, pages.Form{Title: "Sign up", Lead: "Create an account. We will email you a link to confirm it.",
		Message: message, Action: p.oauthPath + "/cloud_directory/sign_up", Submit: "Sign up",
		Inputs: signUpInputs(v.Get("email"), v.Get("name")), Hidden: hiddenFields(v, "client_id", "redirect_uri", "state")})
}

// handleSignUpPage takes the sign-up form: it creates a pending user and mails the confirmation link.
func (p *Provider) handleSignUpPage(w http.ResponseWriter, r *http.Request) {
	f, ok := p.readPageForm(w, r)
	if !ok || !p.pageClient(w, f) {
		return
	}
	_, e := p.signUp(r, strings.TrimSpace(f.Get("email")), f.Get("password"), strings.TrimSpace(f.Get("name")), "", f.Get("client_id"), f.Get("redirect_uri"))
	if e != nil {
		status := http.StatusBadRequest
		if e.status == http.StatusConflict || e.status == http.StatusServiceUnavailable {
			status = e.status
		}
		p.renderSignUp(w, r, status, f, e.detail+".")
		return
	}
	p.writeNotice(w, "Check your email", "We sent a link to "+f.Get("email")+". Follow it to confirm your account, then sign in.")
}

// handleVerifyLink is the confirmation link of a sign-up email: the user is confirmed and goes back to the
// application with flow=sign_up (or sees a page when the sign-up came through the management API).
func (p *Provider) handleVerifyLink(w http.ResponseWriter, r *http.Request) {
	c, ok := p.contextFor(r.URL.Query().Get("context"), ctxVerify)
	if !ok {
		p.writeErrorPage(w, http.StatusBadRequest, "Link expired", "This confirmation link is unknown or expired. Ask for a new one.")
		return
	}
	p.mu.Lock()
	c.followed = true
	wasConfirmed := p.users[c.userID] != nil && p.users[c.userID].confirmed
	u := p.updateUserLocked(c.userID, func(u *user) { u.confirmed = true })
	if u != nil && u.Email != "" && !wasConfirmed {
		p.sendLocked(u.Email, u.ID, "WELCOME", "Welcome", "Hello "+u.displayName()+",\n\nyour account is ready.\n")
	}
	p.mu.Unlock()
	if u == nil {
		p.writeErrorPage(w, http.StatusNotFound, "No such account", "The account of this link no longer exists.")
		return
	}
	if c.redirectURI != "" {
		redirectFlow(w, r, c.redirectURI, "sign_up")
		return
	}
	p.writeNotice(w, "Email confirmed", "Your account is ready: you can sign in now.")
}

// handleForgotPasswordPage is GET {oauth}/cloud_directory/forgot_password: the form asking for the email.
func (p *Provider) handleForgotPasswordPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !p.pageClient(w, q) {
		return
	}
	p.renderForgot(w, r, http.StatusOK, q, "")
}

func (p *Provider) renderForgot(w http.ResponseWriter, r *http.Request, status int, v url.Values, message string) {
	p.renderForm(w, r, status, pages.Form{Title: "Forgot your password?", Lead: "Enter the email address of your account: we will email you a link to set a new password.",
		Message: message, Action: p.oauthPath + "/cloud_directory/forgot_password", Submit: "Send the link",
		Inputs: []pages.Input{{Label: "Email", Name: "email", Type: "email", Value: v.Get("email"), Autocomplete: "email"}},
		Hidden: hiddenFields(v, "client_id", "redirect_uri")})
}

// handleForgotPasswordPost mails a reset link when an account has the email, and says the same either way, so
// the page does not reveal who has an account.
func (p *Provider) handleForgotPasswordPost(w http.ResponseWriter, r *http.Request) {
	f, ok := p.readPageForm(w, r)
	if !ok || !p.pageClient(w, f) {
		return
	}
	email := strings.TrimSpace(f.Get("email"))
	if !validEmail(email) {
		p.renderForgot(w, r, http.StatusBadRequest, f, "Enter an email address.")
		return
	}
	p.mu.Lock()
	if u := p.logins[strings.ToLower(email)]; u != nil && strings.EqualFold(u.Email, email) {
		p.sendLinkLocked(r, u, ctxReset, f.Get("client_id"), f.Get("redirect_uri"))
	}
	p.mu.Unlock()
	p.writeNotice(w, "Check your email", "If an account has the address "+email+", a link to set a new password is on its way.")
}

// handleResetPage is the link of a reset email: a form for the new password. Opening it is what
// forgot_password/confirmation_result reports as success.
func (p *Provider) handleResetPage(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("context")
	c, ok := p.contextFor(key, ctxReset)
	if !ok {
		p.writeErrorPage(w, http.StatusBadRequest, "Link expired", "This password reset link is unknown or expired. Ask for a new one.")
		return
	}
	p.mu.Lock()
	c.followed = true
	p.mu.Unlock()
	p.renderReset(w, r, http.StatusOK, key, "")
}

func (p *Provider) renderReset(w http.ResponseWriter, r *http.Request, status int, key, message string) {
	p.renderForm(w, r, status, pages.Form{Title: "Set a new password", Message: message,
		Action: p.oauthPath + "/cloud_directory/reset_password", Submit: "Set the password",
		Inputs: []pages.Input{{Label: "New password", Name: "new_password", Type: "password", Autocomplete: "new-password"}},
		Hidden: []pages.Field{{Name: "context", Value: key}}})
}

// handleResetPost sets the new password once, then sends the browser back with flow=forgot_password.
func (p *Provider) handleResetPost(w http.ResponseWriter, r *http.Request) {
	f, ok := p.readPageForm(w, r)
	if !ok {
		return
	}
	key := f.Get("context")
	c, ok := p.contextFor(key, ctxReset)
	if !ok {
		p.writeErrorPage(w, http.StatusBadRequest, "Link expired", "This password reset link is unknown, expired or used. Ask for a new one.")
		return
	}
	hash, err := p.hashPassword(f.Get("new_password"))
	if err != nil {
		p.renderReset(w, r, http.StatusBadRequest, key, strings.ToUpper(err.Error()[:1])+err.Error()[1:]+".")
		return
	}
	// Take the context and set the password in one step: of two posts of one link, only one gets here with it.
	p.mu.Lock()
	c, ok = p.takeContextLocked(key, ctxReset)
	var u *user
	if ok {
		u = p.setPasswordLocked(c.userID, hash)
	}
	p.mu.Unlock()
	if !ok {
		p.writeErrorPage(w, http.StatusBadRequest, "Link expired", "This password reset link is unknown, expired or used. Ask for a new one.")
		return
	}
	if u == nil {
		p.writeErrorPage(w, http.StatusNotFound, "No such account", "The account of this link no longer exists.")
		return
	}
	if c.redirectURI != "" {
		redirectFlow(w, r, c.redirectURI, "forgot_password")
		return
	}
	p.writeNotice(w, "Password changed", "Your new password is set: you can sign in with it now.")
}

// handleChangePasswordPage is GET {oauth}/cloud_directory/change_password?client_id&redirect_uri&user_id.
func (p *Provider) handleChangePasswordPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !p.pageClient(w, q) {
		return
	}
	p.renderChangePassword(w, r, http.StatusOK, q, "")
}

func (p *Provider) renderChangePassword(w http.ResponseWriter, r *http.Request, status int, v url.Values, message string) {
	p.renderForm(w, r, status, pages.Form{Title: "Change your password", Message: message,
		Action: p.oauthPath + "/cloud_directory/change_password", Submit: "Change the password",
		Inputs: []pages.Input{
			{Label: "Current password", Name: "current_password", Type: "password", Autocomplete: "current-password"},
			{Label: "New password", Name: "new_password", Type: "password", Autocomplete: "new-password"},
		},
		Hidden: hiddenFields(v, "client_id", "redirect_uri", "user_id")})
}

// handleChangePasswordPost checks the current password of user_id, sets the new one and sends the browser back
// to the application with an authorization code, as App ID does.
func (p *Provider) handleChangePasswordPost(w http.ResponseWriter, r *http.Request) {
	f, ok := p.readPageForm(w, r)
	if !ok || !p.pageClient(w, f) {
		return
	}
	u := p.userByID(f.Get("user_id"))
	hash := p.dummyHash
	if u != nil && u.idp == idpCloudDirectory {
		hash = u.hash
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(f.Get("current_password"))) != nil || u == nil || u.idp != idpCloudDirectory {
		p.renderChangePassword(w, r, http.StatusUnauthorized, f, "The current password is wrong.")
		return
	}
	newHash, err := p.hashPassword(f.Get("new_password"))
	if err != nil {
		p.renderChangePassword(w, r, http.StatusBadRequest, f, strings.ToUpper(err.Error()[:1])+err.Error()[1:]+".")
		return
	}
	p.mu.Lock()
	p.setPasswordLocked(u.ID, newHash)
	p.mu.Unlock()
	p.redirectCode(w, r, authRequest{ClientID: f.Get("client_id"), RedirectURI: f.Get("redirect_uri"), Scope: "appid_default"}, u.ID, p.cfg.Now(), "")
}

// handleGenerateCode is GET {oauth}/cloud_directory/generate_code with "Authorization: Bearer <access token>
// <id token>": a one-time code (text/plain) that opens the change-details page for the token's user.
func (p *Provider) handleGenerateCode(w http.ResponseWriter, r *http.Request) {
	raw, ok := bearerToken(r)
	access, _, _ := strings.Cut(raw, " ")
	if !ok {
		writeBearerError(w, http.StatusUnauthorized, "invalid_request", "a Bearer access token is required")
		return
	}
	c, err := p.verifyAccessToken(access, p.issuer(r))
	var u *user
	if err == nil {
		u = p.userByID(c.Subject)
	}
	if u == nil || u.idp != idpCloudDirectory {
		writeBearerError(w, http.StatusUnauthorized, "invalid_token", "the access token is not a valid Cloud Directory user's")
		return
	}
	p.mu.Lock()
	key := p.newContextLocked(cdContext{kind: ctxDetails, userID: u.ID}, detailsCodeTTL)
	p.mu.Unlock()
	if key == "" {
		writeOAuthError(w, storeFull("codes", 0))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write([]byte(key))
}

// handleChangeDetailsPage is GET {oauth}/cloud_directory/change_details?client_id&redirect_uri&code.
func (p *Provider) handleChangeDetailsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !p.pageClient(w, q) {
		return
	}
	c, ok := p.contextFor(q.Get("code"), ctxDetails)
	u := (*user)(nil)
	if ok {
		u = p.userByID(c.userID)
	}
	if u == nil {
		p.writeErrorPage(w, http.StatusBadRequest, "Link expired", "This page's code is unknown, expired or used. Go back to the application and try again.")
		return
	}
	v := url.Values{"email": {u.Email}, "name": {u.Name}}
	for _, k := range []string{"client_id", "redirect_uri", "code"} {
		v.Set(k, q.Get(k))
	}
	p.renderChangeDetails(w, r, http.StatusOK, v, "")
}

func (p *Provider) renderChangeDetails(w http.ResponseWriter, r *http.Request, status int, v url.Values, message string) {
	p.renderForm(w, r, status, pages.Form{Title: "Change your details", Message: message,
		Action: p.oauthPath + "/cloud_directory/change_details", Submit: "Save",
		Inputs: []pages.Input{
			{Label: "Name", Name: "name", Type: "text", Value: v.Get("name"), Autocomplete: "name"},
			{Label: "Email", Name: "email", Type: "email", Value: v.Get("email"), Autocomplete: "email"},
		},
		Hidden: hiddenFields(v, "client_id", "redirect_uri", "code")})
}

// handleChangeDetailsPost spends the code, saves the details and sends the browser back with an authorization
// code (so the application gets tokens with the new details).
func (p *Provider) handleChangeDetailsPost(w http.ResponseWriter, r *http.Request) {
	f, ok := p.readPageForm(w, r)
	if !ok || !p.pageClient(w, f) {
		return
	}
	c, ok := p.contextFor(f.Get("code"), ctxDetails)
	if !ok {
		p.writeErrorPage(w, http.StatusBadRequest, "Link expired", "This page's code is unknown, expired or used. Go back to the application and try again.")
		return
	}
	email, name := strings.TrimSpace(f.Get("email")), strings.TrimSpace(f.Get("name"))
	if !validEmail(email) || len(name) > maxCDFieldLen {
		p.renderChangeDetails(w, r, http.StatusBadRequest, f, "Enter an email address and a name of at most 254 characters.")
		return
	}
	p.mu.Lock()
	e := p.updateDetailsLocked(c.userID, email, name, "")
	if e == nil {
		p.contexts.delete(f.Get("code"))
	}
	p.mu.Unlock()
	if e != nil {
		p.renderChangeDetails(w, r, e.status, f, e.detail+".")
		return
	}
	p.redirectCode(w, r, authRequest{ClientID: f.Get("client_id"), RedirectURI: f.Get("redirect_uri"), Scope: "appid_default"}, c.userID, p.cfg.Now(), "")
}
