package appid_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/appidgate/appidgate/appid"
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
