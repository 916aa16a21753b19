package localappid

import (
	"net/http"
	"net/url"

	"github.com/appidgate/appidgate/internal/pages"
)

// renderLogin shows the login form with status (200 at first, 401 after a failed attempt, 403 after a stale form).
// The form posts back to /authorization with the request in hidden fields. With ShowUsers it lists the users
// who have a plain password, with it.
func (p *Provider) renderLogin(w http.ResponseWriter, r *http.Request, status int, req authRequest, username, message string) {
	data := pages.SignIn{ClientName: req.ClientID, Action: p.oauthPath + "/authorization", Username: username,
		Message: message, Hidden: []pages.Field{{Name: "csrf_token", Value: p.csrfToken(w, r)}}}
	for _, f := range []pages.Field{
		{Name: "client_id", Value: req.ClientID}, {Name: "redirect_uri", Value: req.RedirectURI},
		{Name: "response_type", Value: req.ResponseType}, {Name: "scope", Value: req.Scope},
		{Name: "state", Value: req.State}, {Name: "nonce", Value: req.Nonce},
		{Name: "code_challenge", Value: req.CodeChallenge}, {Name: "code_challenge_method", Value: req.CodeChallengeMethod},
		{Name: "appid_access_token", Value: req.AnonToken},
	} {
		if f.Value != "" {
			data.Hidden = append(data.Hidden, f)
		}
	}
	if c := p.clients[req.ClientID]; c != nil && c.Name != "" {
		data.ClientName = c.Name
	}
	if req.AnonToken == "" { // App ID's widget offers these too; an anonymous user's upgrade signs in
		signUp := url.Values{"client_id": {req.ClientID}, "redirect_uri": {req.RedirectURI}, "response_type": {"sign_up"}}
		if req.State != "" {
			signUp.Set("state", req.State)
		}
		forgot := url.Values{"client_id": {req.ClientID}, "redirect_uri": {req.RedirectURI}}
		data.Links = []pages.Link{
			{URL: p.oauthPath + "/authorization?" + signUp.Encode(), Text: "Sign up"},
			{URL: p.oauthPath + "/cloud_directory/forgot_password?" + forgot.Encode(), Text: "Forgot your password?"},
		}
	}
	if p.cfg.ShowUsers {
		data.DemoUsers = p.demoUsers()
	}
	w.Header().Set("X-Frame-Options", "DENY")
	p.pages.Write(w, status, "default-src 'none'; frame-ancestors 'none'", data)
}

// demoUsers lists the configured users who have a plain password, with their roles as they are now (the
// management API may have changed them).
func (p *Provider) demoUsers() []pages.DemoUser {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []pages.DemoUser
	for _, u := range p.cfg.Users {
		if u.Password == "" || u.PasswordHash != "" {
			continue
		}
		d := pages.DemoUser{Username: u.Username, Password: u.Password}
		if d.Username == "" {
			d.Username = u.Email
		}
		for _, id := range p.userRoles[u.ID] {
			if r := p.roleByID[id]; r != nil {
				d.Roles = append(d.Roles, r.Name)
			}
		}
		out = append(out, d)
	}
	return out
}
