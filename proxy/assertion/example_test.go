package assertion_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// An upstream behind appidgate proxy verifies each request's assertion with the keys the proxy publishes at
// JWKSPath. The assertion is bound to the request's method and path: replayed on another route, it fails.
func ExampleVerifier_Verify() {
	// The proxy's public origin, which serves its JWK set; see proxySigning for the proxy's side.
	proxyOrigin, sign, stop := proxySigning()
	defer stop()

	v, err := assertion.NewVerifier(assertion.Config{
		JWKSURL:  proxyOrigin + assertion.JWKSPath,
		Issuer:   proxyOrigin,
		Audience: "http://127.0.0.1:8000", // the upstream, as the proxy names it
	})
	if err != nil {
		log.Fatal(err)
	}
	r := httptest.NewRequest("GET", "http://127.0.0.1:8000/orders/7", nil)
	r.Header.Set(assertion.Header, sign("GET", "/orders/7")) // what the proxy adds
	id, err := v.Verify(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.Subject, id.Email, id.Roles, id.HasScope("view"))

	replayed := httptest.NewRequest("DELETE", "http://127.0.0.1:8000/orders/7", nil)
	replayed.Header.Set(assertion.Header, r.Header.Get(assertion.Header))
	_, err = v.Verify(replayed)
	fmt.Println(err)

	_, err = v.Verify(httptest.NewRequest("GET", "http://127.0.0.1:8000/orders/7", nil))
	fmt.Println(errors.Is(err, assertion.ErrNoAssertion))
	// Output:
	// alice-id alice@example.com [user] true
	// assertion: made for method "GET", request is "DELETE"
	// true
}

// Middleware answers 401 to requests without a valid assertion; handlers read the user with IdentityFrom.
func ExampleVerifier_Middleware() {
	proxyOrigin, sign, stop := proxySigning()
	defer stop()
	v, err := assertion.NewVerifier(assertion.Config{
		JWKSURL: proxyOrigin + assertion.JWKSPath, Issuer: proxyOrigin, Audience: "http://127.0.0.1:8000",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/orders/", func(w http.ResponseWriter, r *http.Request) {
		id, _ := assertion.IdentityFrom(r.Context())
		fmt.Fprintf(w, "orders of %s", id.Subject)
	})
	handler := v.Middleware(mux) // outside any http.StripPrefix: the assertion names the path as received

	for _, withAssertion := range []bool{true, false} {
		r := httptest.NewRequest("GET", "http://127.0.0.1:8000/orders/", nil)
		if withAssertion {
			r.Header.Set(assertion.Header, sign("GET", "/orders/"))
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, r)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 orders of alice-id
	// 401 401 Unauthorized: missing or invalid identity assertion
}

// proxySigning plays appidgate proxy's part for the examples: it serves a signer's JWK set on a loopback origin
// and returns that origin, a function that signs alice's assertion for a method and path as the proxy does, and
// a function that stops the server.
func proxySigning() (origin string, sign func(method, path string) string, stop func()) {
	srv := httptest.NewUnstartedServer(nil)
	origin = "http://" + srv.Listener.Addr().String()
	signer, err := proxy.NewAssertionSigner(proxy.AssertionConfig{Issuer: origin, Audience: "http://127.0.0.1:8000"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET "+assertion.JWKSPath, signer.JWKSHandler())
	srv.Config.Handler = mux
	srv.Start()
	alice := &appid.User{ID: "alice-id", Email: "alice@example.com", Roles: []string{"user"}, Scopes: []string{"appidgate-demo/view"}}
	sign = func(method, path string) string {
		tok, err := signer.Sign(alice, method, path)
		if err != nil {
			log.Fatal(err)
		}
		return tok
	}
	return origin, sign, srv.Close
}
