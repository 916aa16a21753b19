package proxy_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/netip"
	"net/url"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// The proxy strips the client's identity headers on every request, then, for a signed-in user, sets its own
// and the signed assertion for the path the upstream will receive.
func ExampleAssertionSigner() {
	sessionKeys := [][]byte{[]byte("0123456789abcdef0123456789abcdef")} // appid.Config.SessionKeys
	upstream, _ := url.Parse("http://127.0.0.1:8000")

	keys, err := proxy.DeriveAssertionKeys(sessionKeys...) // or proxy.ParseAssertionKeys(pemFromTheEnvironment)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := proxy.NewAssertionSigner(proxy.AssertionConfig{
		Issuer: "https://myapp.example.com", Audience: "http://127.0.0.1:8000", Keys: keys,
	})
	if err != nil {
		log.Fatal(err)
	}
	headers := proxy.IdentityHeaders{OAuth2Proxy: true}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream)
		headers.Strip(pr.Out.Header)
		u, ok := appid.UserFrom(pr.In.Context())
		if !ok {
			return
		}
		headers.Set(pr.Out.Header, u, "")
		tok, err := signer.Sign(u, pr.Out.Method, pr.Out.URL.Path)
		if err != nil {
			log.Print(err) // the upstream will answer 401 without it
			return
		}
		pr.Out.Header[assertion.Header] = []string{tok}
	}}

	mux := http.NewServeMux()
	mux.Handle("GET "+assertion.JWKSPath, signer.JWKSHandler()) // open, never proxied
	mux.Handle("/", rp)                                         // behind the login check in the real proxy
	_ = mux
	// Output:
}

// routesYAML is a routes file: an open page, an admin area, and an API that answers 401 instead of redirecting.
const routesYAML = `
default: any-role
routes:
  - path: /noauth_route
    public: true
  - path: /admin
    policy: role:admin
  - path: /api/
    api: true
    policy: scope:view
`

// New puts login and the routes' policies in front of an upstream app in any language. The upstream gets the
// user's identity in headers the proxy sets itself; identity headers a client sends are removed.
func ExampleNew() {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "upstream: %s user=%q\n", r.URL.Path, r.Header.Get("X-Appidgate-User"))
	}))
	defer upstream.Close()
	auth, stop := newDemoAuth() // an *appid.Auth: see package appid
	defer stop()

	routes, err := proxy.ParseRoutes("routes.yaml", []byte(routesYAML))
	if err != nil {
		log.Fatal(err)
	}
	target, _ := url.Parse(upstream.URL)
	p, err := proxy.New(proxy.Config{Upstream: target, Auth: auth, Routes: routes})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	auth.Mount(mux) // the callback and /logout are the proxy's own
	mux.Handle("/", p)

	open := httptest.NewRequest("GET", "http://localhost:5000/noauth_route", nil)
	open.Header.Set("X-Appidgate-User", "mallory") // a client's claim to be someone: stripped
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, open)
	fmt.Print(rec.Code, " ", rec.Body.String())

	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost:5000/admin", nil))
	login, _ := url.Parse(rec.Header().Get("Location"))
	fmt.Println(rec.Code, login.Path)

	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "http://localhost:5000/api/orders", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output:
	// 200 upstream: /noauth_route user=""
	// 302 /oauth/v4/local-tenant/authorization
	// 401 application/json
}

// ForwardAuth answers nginx's auth_request (AuthPath), and Traefik's and Caddy's forward-auth (VerifyPath), with
// the same routes and policies, for deployments where that proxy stays in front of the app. It reads the
// original request from headers that only a trusted proxy may send.
func ExampleForwardAuth() {
	auth, stop := newDemoAuth() // an *appid.Auth: see package appid
	defer stop()
	routes, err := proxy.ParseRoutes("routes.yaml", []byte(routesYAML))
	if err != nil {
		log.Fatal(err)
	}
	fa, err := proxy.NewForwardAuth(proxy.Config{
		Auth:           auth,
		Routes:         routes,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, // where nginx runs
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	auth.Mount(mux)
	fa.Mount(mux)

	// nginx: auth_request /.appidgate/auth; proxy_set_header X-Original-URI $request_uri; ...
	for _, uri := range []string{"/noauth_route", "/admin", "/noauth_route/../admin"} {
		r := httptest.NewRequest("GET", "http://localhost:5000"+proxy.AuthPath, nil)
		r.RemoteAddr = "127.0.0.1:40000"
		r.Header.Set("X-Original-URI", uri)
		r.Header.Set("X-Original-Method", "GET")
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, r)
		fmt.Println(uri, rec.Code)
	}
	// Output:
	// /noauth_route 200
	// /admin 401
	// /noauth_route/../admin 403
}

// newDemoAuth returns an *appid.Auth against a local App ID-compatible provider on a loopback port, and a
// function that stops the provider.
func newDemoAuth() (*appid.Auth, func()) {
	idp, err := localappid.Listen("127.0.0.1:0", localappid.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	auth, err := appid.New(context.Background(), appid.Config{
		ClientID:       localappid.DemoClientID,
		ClientSecret:   localappid.DemoClientSecret,
		OAuthServerURL: idp.Provider().OAuthServerURL(),
		RedirectURL:    "http://localhost:5000/afterauth",
		SessionKeys:    [][]byte{[]byte("at-least-16-bytes-of-secret-key")},
		IBMCloudAPIKey: localappid.DemoAPIKey,
		IAMTokenURL:    idp.Provider().IAMTokenURL(),
		Logger:         slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	return auth, func() { idp.Close() }
}

// Match says which rule applies to a request: paths match on whole segments, the longest path wins, and paths
// no rule names get the default.
func ExampleRoutes_Match() {
	routes, err := proxy.ParseRoutes("routes.yaml", []byte(routesYAML))
	if err != nil {
		log.Fatal(err)
	}
	for _, path := range []string{"/noauth_route", "/admin/users", "/administrator", "/api/orders"} {
		rule := routes.Match("GET", path)
		fmt.Printf("%-14s rule=%-13s public=%-5v api=%-5v policy=%v\n", path, rule.Pattern, rule.Public, rule.API, rule.Policy)
	}
	// Output:
	// /noauth_route  rule=/noauth_route public=true  api=false policy=
	// /admin/users   rule=/admin        public=false api=false policy=role:admin
	// /administrator rule=default       public=false api=false policy=any_role
	// /api/orders    rule=/api/         public=false api=true  policy=scope:view
}
