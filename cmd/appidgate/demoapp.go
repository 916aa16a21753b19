package main

import (
	"bytes"
	"html/template"
	"io"
	"net/http"
	"strings"

	"github.com/appidgate/appidgate/appid"
)

// The reference app's answers, word for word.
const (
	authRouteText   = "This route requires authentication and authorization - Powered by IBM Cloud App ID!"
	noauthRouteText = "This route is open to all!"
)

// demoRoutes registers the reference app's routes on mux: / sends to /auth_route, which needs a login and a
// role; /api/auth_route answers the same to an access token granting the demo's "view" scope (the API form of
// the route, with no session; with another OpenID Connect provider, to an access token of a user with a role);
// /noauth_route is open; /profile shows who is signed in. The callback and /logout come from auth.Mount.
func demoRoutes(mux *http.ServeMux, auth *appid.Auth, provider string) {
	mux.Handle("GET /{$}", http.RedirectHandler("/auth_route", http.StatusFound))
	mux.Handle("GET /auth_route", auth.Check(referenceText(authRouteText)))
	// App ID's access tokens carry scopes ("<app>/view"), not role names: App ID puts roles in no token claim.
	// Other providers' tokens (or their introspection answers) carry the roles claim, and no "view" scope.
	api := appid.Scope("view")
	if provider == appid.ProviderOIDC {
		api = appid.AnyRole()
	}
	mux.Handle("GET /api/auth_route", auth.RequireBearer(api)(referenceText(authRouteText)))
	mux.Handle("GET /noauth_route", referenceText(noauthRouteText))
	mux.Handle("GET /profile", auth.Require(appid.Authenticated())(http.HandlerFunc(profile)))
	auth.Mount(mux)
}

// pageTemplate is the /profile page.
var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"join": func(s []string) string { return strings.Join(s, ", ") },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>appidgate demo</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}nav a{margin-right:1rem}
dt{font-weight:bold}</style></head>
<body><main><h1>Your profile</h1>{{with .}}
<dl><dt>Name</dt><dd>{{.Name}}</dd><dt>Email</dt><dd>{{.Email}}</dd><dt>User id</dt><dd>{{.ID}}</dd>
<dt>Roles</dt><dd>{{if .Roles}}{{join .Roles}}{{else}}none{{end}}</dd>
<dt>Scopes</dt><dd>{{join .Scopes}}</dd><dt>Access token expires</dt><dd>{{.ExpiresAt.UTC.Format "2006-01-02 15:04:05 MST"}}</dd></dl>{{end}}
</main><nav><a href="/auth_route">/auth_route</a><a href="/noauth_route">/noauth_route</a><a href="/profile">/profile</a><a href="/logout">log out</a></nav>
</body></html>
`))

// referenceText answers with text alone, byte for byte what the reference's Flask view returns (as text/html).
func referenceText(text string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, text)
	})
}

// profile shows the signed-in user: name, email, roles, scopes and token expiry.
func profile(w http.ResponseWriter, r *http.Request) {
	u, _ := appid.UserFrom(r.Context())
	writePage(w, u)
}

// writePage renders u's profile into a buffer first, so that a rendering failure is an honest 500 and not half
// a page.
func writePage(w http.ResponseWriter, u *appid.User) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, u); err != nil {
		http.Error(w, "could not render the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
