package localappid

import (
	"html/template"
	"net/http"
)

// loginTemplate is the plain login form. It posts back to /authorization with the request in hidden fields.
var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<h1>Sign in to {{.ClientName}}</h1>
<p>Local App ID-compatible provider (demo: not for production).</p>
{{if .Message}}<p role="alert" id="error">{{.Message}}</p>{{end}}
<form method="post" action="{{.Action}}">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<label>Username <input type="text" name="username" value="{{.Username}}" autocomplete="username" required autofocus></label>
<label>Password <input type="password" name="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
</body></html>
`))

type hiddenField struct{ Name, Value string }

// renderLogin shows the login form with status (200 at first, 401 after a failed attempt, 403 after a stale form).
func (p *Provider) renderLogin(w http.ResponseWriter, r *http.Request, status int, req authRequest, username, message string) {
	hidden := []hiddenField{{"csrf_token", p.csrfToken(w, r)}}
	for _, f := range []hiddenField{
		{"client_id", req.ClientID}, {"redirect_uri", req.RedirectURI}, {"response_type", req.ResponseType},
		{"scope", req.Scope}, {"state", req.State}, {"nonce", req.Nonce},
		{"code_challenge", req.CodeChallenge}, {"code_challenge_method", req.CodeChallengeMethod},
	} {
		if f.Value != "" {
			hidden = append(hidden, f)
		}
	}
	name := req.ClientID
	if c := p.clients[req.ClientID]; c != nil && c.Name != "" {
		name = c.Name
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	loginTemplate.Execute(w, struct {
		ClientName, Action, Username, Message string
		Hidden                                []hiddenField
	}{name, p.oauthPath + "/authorization", username, message, hidden})
}
