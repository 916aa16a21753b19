package localappid

import (
	"net/http"
	"net/url"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// authRequest is an authorization request's parameters, carried from the query into the login form and back.
type authRequest struct {
	ClientID            string
	RedirectURI         string
	ResponseType        string
	Scope               string
	State               string
	Nonce               string
	CodeChallenge       string
	CodeChallengeMethod string
	Prompt              string
	// IDP is App ID's idp parameter: appid_anon asks for an anonymous user.
	IDP string
	// AnonToken is App ID's appid_access_token: an anonymous user's access token, whose profile the sign-in links.
	AnonToken string
}

// authParams are the parameters an authorization request may carry once each.
var authParams = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "prompt", "idp", "appid_access_token"}

func authRequestFrom(v url.Values) authRequest {
	return authRequest{
		ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"), ResponseType: v.Get("response_type"),
		Scope: v.Get("scope"), State: v.Get("state"), Nonce: v.Get("nonce"), CodeChallenge: v.Get("code_challenge"),
		CodeChallengeMethod: v.Get("code_challenge_method"), Prompt: v.Get("prompt"), IDP: v.Get("idp"),
		AnonToken: v.Get("appid_access_token"),
	}
}

// authorizeOutcome says how to answer a checked authorization request.
type authorizeOutcome struct {
	client *Client
	// page is set when the error must not go back to redirect_uri (unknown client, unregistered redirect URI).
	page string
	// redirectErr is set for an OAuth error to send back to the (registered) redirect_uri.
	redirectErr *oauthError
}

// checkAuthRequest validates client and redirect URI first (errors there are shown, never redirected), then the
// rest (errors there go back to the client).
func (p *Provider) checkAuthRequest(v url.Values, req authRequest) authorizeOutcome {
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(v[name]) > 1 {
			return authorizeOutcome{page: name + " is given more than once."}
		}
	}
	client := p.clients[req.ClientID]
	switch {
	case req.ClientID == "":
		return authorizeOutcome{page: "The request has no client_id."}
	case client == nil:
		return authorizeOutcome{page: "The client_id is not a registered application."}
	case req.RedirectURI == "":
		return authorizeOutcome{page: "The request has no redirect_uri."}
	case !client.allowsRedirect(req.RedirectURI):
		return authorizeOutcome{page: "The redirect_uri is not registered for this application."}
	}
	out := authorizeOutcome{client: client}
	for _, name := range authParams {
		if len(v[name]) > 1 {
			out.redirectErr = invalidRequest(name + " is given more than once")
			return out
		}
	}
	switch {
	case req.ResponseType == "":
		out.redirectErr = invalidRequest("response_type is missing")
	case req.ResponseType != "code" && req.ResponseType != "sign_up":
		out.redirectErr = &oauthError{status: http.StatusBadRequest, code: "unsupported_response_type", description: "response_type must be code (or sign_up)"}
	case !client.allowsGrant(GrantAuthorizationCode):
		out.redirectErr = &oauthError{status: http.StatusBadRequest, code: "unauthorized_client", description: "client may not use the authorization code grant"}
	case req.CodeChallenge == "" && req.CodeChallengeMethod != "":
		out.redirectErr = invalidRequest("code_challenge_method without code_challenge")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != "S256":
		out.redirectErr = invalidRequest("code_challenge_method must be S256")
	case req.CodeChallenge != "" && !validPKCEValue(req.CodeChallenge):
		out.redirectErr = invalidRequest("code_challenge is malformed")
	case req.Prompt != "" && req.Prompt != "login" && req.Prompt != "none" && req.Prompt != "consent":
		out.redirectErr = invalidRequest("prompt must be login, none or consent")
	case req.IDP != "" && req.IDP != idpAnonymous && req.IDP != idpCloudDirectory:
		out.redirectErr = invalidRequest("idp " + req.IDP + " is not available (this provider has appid_anon and cloud_directory)")
	}
	return out
}

// handleAuthorize starts a login: it shows the login form, or, when the browser has a provider session and the
// client did not ask for prompt=login, issues a code straight away.
func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := authRequestFrom(q)
	out := p.checkAuthRequest(q, req)
	if out.page != "" {
		p.writeErrorPage(w, http.StatusBadRequest, "Invalid login request", out.page)
		return
	}
	if out.redirectErr != nil {
		p.redirectError(w, r, req, out.redirectErr)
		return
	}
	if req.ResponseType == "sign_up" {
		p.renderSignUp(w, r, http.StatusOK, q, "")
		return
	}
	if req.IDP == idpAnonymous {
		p.anonymousLogin(w, r, req)
		return
	}
	// An SSO session answers at once, but never links an anonymous profile: a cross-site page could send the
	// signed-in browser here with its own appid_access_token. A request that carries one gets the login form, and
	// links on the form's POST, which the user makes.
	if req.Prompt != "login" && req.AnonToken == "" {
		if s := p.currentSession(r); s != nil {
			p.redirectWithCode(w, r, req, s, false)
			return
		}
	}
	if req.Prompt == "none" {
		p.redirectError(w, r, req, &oauthError{code: "login_required", description: "no login session"})
		return
	}
	p.renderLogin(w, r, http.StatusOK, req, "", "")
}

// handleLogin takes the login form's POST: it checks the CSRF token, re-checks the authorization request and the
// credentials, starts a fresh provider session and redirects to the client with a code.
func (p *Provider) handleLogin(w http.ResponseWriter, r *http.Request) {
	if e := parsePostForm(w, r); e != nil {
		p.writeErrorPage(w, e.status, "Invalid login request", "The login form could not be read.")
		return
	}
	f := r.PostForm
	req := authRequestFrom(f)
	req.Prompt = ""
	out := p.checkAuthRequest(f, req)
	if out.page != "" {
		p.writeErrorPage(w, http.StatusBadRequest, "Invalid login request", out.page)
		return
	}
	if out.redirectErr != nil {
		p.redirectError(w, r, req, out.redirectErr)
		return
	}
	if !p.validCSRF(r, f.Get("csrf_token")) {
		p.renderLogin(w, r, http.StatusForbidden, req, f.Get("username"), "The login form expired. Please sign in again.")
		return
	}
	u := p.checkPassword(f.Get("username"), f.Get("password"))
	if u == nil {
		p.renderLogin(w, r, http.StatusUnauthorized, req, f.Get("username"), "Wrong username or password.")
		return
	}
	if !p.isConfirmed(u) {
		p.renderLogin(w, r, http.StatusForbidden, req, f.Get("username"), "Confirm your email address first: follow the link in the email we sent you.")
		return
	}
	s, retryAfter := p.startSession(w, r, u.ID, p.cfg.Now())
	if s == nil {
		setRetryAfter(w, retryAfter)
		p.writeErrorPage(w, http.StatusServiceUnavailable, "Sign-in is busy",
			"The local App ID provider holds too many login sessions at the moment. Please try again later.")
		return
	}
	p.redirectWithCode(w, r, req, s, true)
}

// checkPassword returns the user whose login name and password match, or nil. An unknown name costs one bcrypt
// comparison too, so response time does not reveal which users exist.
func (p *Provider) checkPassword(login, password string) *user {
	u := p.userByLogin(login)
	hash := p.dummyHash
	if u != nil {
		p.mu.Lock()
		hash = u.hash
		p.mu.Unlock()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || u == nil {
		return nil
	}
	return u
}

// redirectWithCode issues a code for the session's user, remembers that the client is signed in through the
// session (for its logout), and sends the browser back to the client with the code and state.
// With link (a fresh login form post only), an appid_access_token in the request links that anonymous user's
// profile to the session's user first.
func (p *Provider) redirectWithCode(w http.ResponseWriter, r *http.Request, req authRequest, s *loginSession, link bool) {
	if link && req.AnonToken != "" {
		u := p.userByID(s.userID)
		if u == nil {
			p.redirectError(w, r, req, invalidGrant("the signed-in user no longer exists"))
			return
		}
		if e := p.linkAnonymous(r, req.AnonToken, u); e != nil {
			p.redirectError(w, r, req, e)
			return
		}
	}
	if !p.redirectCode(w, r, req, s.userID, s.authTime, s.sid) {
		return
	}
	p.mu.Lock()
	s.clients[req.ClientID] = true
	p.mu.Unlock()
}

// redirectCode issues a code for the user and redirects back to the client with it; on failure it has
// redirected with the error and returns false.
func (p *Provider) redirectCode(w http.ResponseWriter, r *http.Request, req authRequest, userID string, authTime time.Time, sid string) bool {
	scope := req.Scope
	if scope == "" {
		scope = "openid"
	}
	code, e := p.issueCode(codeGrant{
		clientID: req.ClientID, redirectURI: req.RedirectURI, userID: userID, scope: scope, nonce: req.Nonce,
		codeChallenge: req.CodeChallenge, authTime: authTime, sid: sid,
	})
	if e != nil { // the client hears temporarily_unavailable (RFC 6749 section 4.1.2.1)
		p.redirectError(w, r, req, e)
		return false
	}
	p.redirectBack(w, r, req, url.Values{"code": {code}})
	return true
}

// redirectError sends an OAuth error back to the client's registered redirect URI.
func (p *Provider) redirectError(w http.ResponseWriter, r *http.Request, req authRequest, e *oauthError) {
	p.redirectBack(w, r, req, url.Values{"error": {e.code}, "error_description": {e.description}})
}

// redirectBack adds params and state to the redirect URI, keeping its own query, and iss (RFC 9207) only when
// Config.AuthorizationResponseIss asks for it: App ID sends none.
func (p *Provider) redirectBack(w http.ResponseWriter, r *http.Request, req authRequest, params url.Values) {
	u, err := url.Parse(req.RedirectURI)
	if err != nil { // registered URIs parse; this is defensive
		p.writeErrorPage(w, http.StatusBadRequest, "Invalid login request", "The redirect_uri is malformed.")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	if req.State != "" {
		q.Set("state", req.State)
	}
	if p.cfg.AuthorizationResponseIss {
		q.Set("iss", p.issuer(r))
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}
