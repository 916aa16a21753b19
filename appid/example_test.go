package appid_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/localappid"
)

// Example is the README's "use the library in your own app": the reference app's routes plus a role-protected
// page and a scope-protected API.
func Example() {
	ctx := context.Background()
	cfg, err := appid.ConfigFromEnv() // the reference's six variables; names every missing one at once
	if err != nil {
		log.Print(err)
		return
	}
	auth, err := appid.New(ctx, cfg) // no network here: provider metadata and keys load lazily
	if err != nil {
		log.Fatal(err)
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := appid.UserFrom(r.Context())
		fmt.Fprintf(w, "Hello %s, your roles: %v\n", u.Name, u.Roles)
	})
	mux := http.NewServeMux()
	auth.Mount(mux)                                                     // the callback (path of APPID_REDIRECT_URI) and /logout
	mux.Handle("/auth_route", auth.Check(hello))                        // logged in and any role, as the reference
	mux.Handle("/admin", auth.Require(appid.Role("admin"))(hello))      // per-route policies
	mux.Handle("/api/", auth.RequireBearer(appid.Scope("view"))(hello)) // Authorization: Bearer <access token>
	log.Fatal(http.ListenAndServe(":8080", mux))
}

// ExampleAnyOf composes policies: Claim reads a provider's group or role claims (here Keycloak's
// realm_access.roles and Cognito's cognito:groups), AnyOf and AllOf combine policies, and PolicyFunc is any rule
// of your own. Pass the result to Require or RequireBearer, e.g. mux.Handle("/reports", auth.Require(reports)(h)).
func ExampleAnyOf() {
	staffEmail := appid.PolicyFunc("email:example.com", func(u *appid.User) bool {
		return strings.HasSuffix(u.Email, "@example.com")
	})
	reports := appid.AnyOf(
		appid.Role("admin"),
		appid.Claim("realm_access.roles", "auditor"),
		appid.AllOf(appid.Claim("cognito:groups", "finance"), staffEmail),
	)
	fmt.Println(reports)

	auditor := &appid.User{ID: "a", Claims: map[string]any{"realm_access": map[string]any{"roles": []any{"auditor"}}}}
	finance := &appid.User{ID: "f", Email: "fay@example.com", Claims: map[string]any{"cognito:groups": []any{"finance"}}}
	outsider := &appid.User{ID: "o", Email: "olga@elsewhere.example", Claims: map[string]any{"cognito:groups": []any{"finance"}}}
	fmt.Println(reports.Allows(auditor), reports.Allows(finance), reports.Allows(outsider))
	// Output:
	// any(role:admin|claim:realm_access.roles=auditor|claim:cognito:groups=finance,email:example.com)
	// true true false
}

// ConfigFromLookup reads the settings through any lookup function (os.LookupEnv in production, a map in tests)
// and names every missing or invalid one at once in a *ConfigError.
func ExampleConfigFromLookup() {
	env := map[string]string{
		"APPID_CLIENT_ID":           "my-client-id",
		"APPID_OAUTH_SERVER_URL":    "https://us-south.appid.cloud.ibm.com/oauth/v4/my-tenant",
		"APPID_REDIRECT_URI":        "https://app.example.com/afterauth",
		"APPIDGATE_SESSION_MAX_AGE": "two hours",
	}
	_, err := appid.ConfigFromLookup(func(name string) (string, bool) {
		v, ok := env[name]
		return v, ok
	})
	var cfgErr *appid.ConfigError
	if errors.As(err, &cfgErr) {
		for _, p := range cfgErr.Problems {
			fmt.Println(p) // p.Setting and p.Reason
		}
	}
	// Output:
	// APPIDGATE_SESSION_MAX_AGE: expected a duration such as 24h, got "two hours"
	// APPID_CLIENT_SECRET: required, not set
	// SESSION_SECRET_KEY: required, not set
	// IBM_CLOUD_APIKEY: required, not set
}

// Scope admits users whose access token grants a scope. App ID writes the scopes that roles grant as
// "<application>/<scope>"; a bare scope matches the part after the last "/".
func ExampleScope() {
	viewer := &appid.User{ID: "a", Roles: []string{"user"}, Scopes: []string{"openid", "my-app/view"}}
	fmt.Println(appid.Scope("view").Allows(viewer), appid.Scope("my-app/view").Allows(viewer))
	fmt.Println(appid.Scope("edit").Allows(viewer), appid.Role("user").Allows(viewer), appid.AnyRole().Allows(viewer))
	// Output:
	// true true
	// false true true
}

// Check and Require guard handlers on a ServeMux. Here the provider is localappid, the App ID-compatible provider
// that tests and local runs use: an anonymous browser is sent to its /authorization endpoint, while an API
// request gets 401 instead of a redirect.
func ExampleAuth_Check() {
	idp, err := localappid.Listen("127.0.0.1:0", localappid.DefaultConfig()) // `appidgate idp` in a test
	if err != nil {
		log.Fatal(err)
	}
	defer idp.Close()
	auth, err := appid.New(context.Background(), appid.Config{
		ClientID:       localappid.DemoClientID,
		ClientSecret:   localappid.DemoClientSecret,
		OAuthServerURL: idp.Provider().OAuthServerURL(),
		RedirectURL:    "http://localhost:5000/afterauth",
		SessionKeys:    [][]byte{[]byte("at-least-16-bytes-of-secret-key")},
		IBMCloudAPIKey: localappid.DemoAPIKey,
		IAMTokenURL:    idp.Provider().IAMTokenURL(),
	})
	if err != nil {
		log.Fatal(err)
	}
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	mux := http.NewServeMux()
	auth.Mount(mux)
	mux.Handle("/auth_route", auth.Check(hello))
	mux.Handle("/api/reports", auth.Require(appid.Role("admin"))(hello))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost:5000/auth_route", nil))
	login, _ := url.Parse(rec.Header().Get("Location"))
	fmt.Println(rec.Code, login.Path, login.Query().Get("redirect_uri"))

	api := httptest.NewRequest("GET", "http://localhost:5000/api/reports", nil)
	api.Header.Set("Accept", "application/json")
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, api)
	fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate") != "")
	// Output:
	// 302 /oauth/v4/local-tenant/authorization http://localhost:5000/afterauth
	// 401 true
}
