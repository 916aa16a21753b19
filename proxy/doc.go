// Package proxy puts appid's login and policies in front of an upstream HTTP app written in any language, as a
// reverse proxy (Proxy) that passes the signed-in user's identity on in headers and a signed assertion.
//
// It is the library behind `appidgate proxy`, which most deployments run as it is: the command reads the
// settings of package [github.com/appidgate/appidgate/appid] from the environment, its routes from a file or
// flags, and can start the app as its child. Use this package to build the same proxy into a Go program of
// your own, or to answer another reverse proxy's forward-auth questions.
//
// # Quick start
//
// Build an [appid.Auth] as package appid shows, describe the routes, and serve the proxy with Auth's own
// endpoints beside it:
//
//	routes, err := proxy.LoadRoutes("routes.yaml", proxy.RouteFlags{})
//	...
//	upstream, _ := url.Parse("http://127.0.0.1:8000")
//	p, err := proxy.New(proxy.Config{Upstream: upstream, Auth: auth, Routes: routes})
//	...
//	mux := http.NewServeMux()
//	auth.Mount(mux) // the callback and /logout are the proxy's, never the upstream's
//	mux.Handle("/", p)
//	log.Fatal(http.ListenAndServe(":8080", mux))
//
// # Routes
//
// [Routes] says, per request, which [Rule] applies: public (no login), a policy, and whether the path is an API
// that answers 401 JSON instead of redirecting to the login page. [LoadRoutes] reads a YAML file and command
// line flags ([RouteFlags]); [ParseRoutes] reads the file's content. Policies are written as text there
// (role:admin, scope:view, claim:groups=ops, any-of [...], all-of [...]) and become
// [appid.Policy] values. A rule's path is a prefix matched on whole segments; the longest one wins.
//
// [LiveRoutes] holds routes that can be reloaded while requests are served (Config.LiveRoutes instead of
// Config.Routes): [LiveRoutes.Reload] and [LiveRoutes.ReloadIfChanged] put a changed file in force atomically,
// and keep the routes in force when the file has problems ([RoutesError] lists them). Each request is decided
// by the routes in force when it arrived. [ValidMethod], [CleanPath] and [Routes.Match] are the steps a request
// takes to its [Rule], which names where it was written ([Rule.Source]) for tools that explain a decision.
//
// # How a request flows
//
// For every request [Proxy] cleans the path ([CleanPath]: 400 for a path servers could read in different
// ways, a redirect to the clean form for "//", "." and ".." segments), matches the rule, and for a route that
// is not public asks [appid.Auth.Authorize] (session, refresh, policy), or on a rule with [Rule.Bearer] and a
// request with a bearer token [appid.Auth.AuthorizeBearerOrSession] (the token instead of the session). A refusal
// is answered through [appid.Auth.Refuse]: a login redirect, 401, 403 or 503, as appid answers them. An admitted request is passed to the
// upstream with the client's identity headers removed and the proxy's own set, and the response streams back.
// The upstream is never reached by a request the policy refused.
//
// # What the upstream receives
//
// [IdentityHeaders] selects the headers: the X-Appidgate family (user, email, name, roles, scopes) always,
// oauth2-proxy's X-Forwarded-User family for apps migrating from it, and the access token only when asked.
// Every identity header a client sends, in any spelling, is removed first ([IdentityHeaders.Strip]).
//
// Headers prove nothing to an upstream that other workloads can reach. With [Config.Assertion], an
// [AssertionSigner] adds a short-lived ES256 JWT bound to the request's method and path, and serves its
// public keys at [github.com/appidgate/appidgate/proxy/assertion.JWKSPath]; package
// [github.com/appidgate/appidgate/proxy/assertion] verifies it in a Go upstream, and shows how in Python.
// [DeriveAssertionKeys] derives the signing keys from the session keys, so that replicas agree without
// another secret.
//
// # Forward-auth
//
// Where nginx, Traefik or Caddy stays in front of the app, [ForwardAuth] answers their "may this request
// pass?" with the same routes and policies: [AuthPath] for nginx auth_request and ingress-nginx, [VerifyPath]
// for Traefik forwardAuth and Caddy forward_auth, and [StartPath] to start a login from nginx's error_page.
// It believes the original request's headers only from [Config.TrustedProxies]. See [ForwardAuth] for what
// each endpoint answers.
//
// # Errors and testing
//
// [New], [NewForwardAuth] and [LoadRoutes] report every problem of their configuration at once; the routes'
// problems name the file, line and column or the flag. At request time the proxy answers failures itself: 502
// (a page, or JSON for API clients) when the upstream cannot be reached or does not answer in time
// ([Config.DialTimeout], [Config.ResponseHeaderTimeout]), logged to [Config.Logger] with the reason. The examples run the proxy against an upstream from
// net/http/httptest and an appid.Auth pointed at package [github.com/appidgate/appidgate/localappid], the local
// App ID-compatible provider, which is how this package's own tests run.
package proxy
