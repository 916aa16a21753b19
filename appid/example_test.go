package appid_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

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
