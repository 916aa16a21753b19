package main

import (
	"io"
	"log/slog"
	"net/http"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/pages"
)

// The reference app's answers, word for word.
const (
	authRouteText   = "This route requires authentication and authorization - Powered by IBM Cloud App ID!"
	noauthRouteText = "This route is open to all!"
)

// demoRoutes registers the reference app's routes on mux: / sends to /auth_route, which needs a login and a
// role; /api/auth_route answers the same to an access token granting the demo's "view" scope (the API form of
// the route, with no session; with another OpenID Connect provider, to an access token of a user with a role);
// /noauth_route is open; /profile shows who is signed in, as a page of set (its rendering failures go to log).
// The callback and /logout come from auth.Mount.
func demoRoutes(mux *http.ServeMux, auth *appid.Auth, provider string, set *pages.Set, log *slog.Logger) {
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
	mux.Handle("GET /profile", auth.Require(appid.Authenticated())(profile(set, log)))
	auth.Mount(mux)
}

// profileCSP is the profile page's policy: no form-action, since its log-out form's POST redirects to the
// provider's logout on another origin, and browsers apply form-action to those redirects.
const profileCSP = "default-src 'none'; frame-ancestors 'none'"

// referenceText answers with text alone, byte for byte what the reference's Flask view returns (as text/html).
func referenceText(text string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, text)
	})
}

// profile shows the signed-in user: name, email, roles, scopes and token expiry, with the demo's routes.
func profile(set *pages.Set, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := appid.UserFrom(r.Context())
		data := pages.Profile{LogoutAction: "/logout", User: pages.User{ID: u.ID, Name: u.Name, Email: u.Email,
			Roles: u.Roles, Scopes: u.Scopes, ExpiresAt: u.ExpiresAt}}
		for _, path := range []string{"/auth_route", "/noauth_route", "/profile"} {
			data.Links = append(data.Links, pages.Link{URL: path, Text: path, Current: path == r.URL.Path})
		}
		if err := set.Write(w, http.StatusOK, profileCSP, data); err != nil {
			log.ErrorContext(r.Context(), "rendering the profile page failed", "error", err)
		}
	})
}
