// Package appid is the relying party: it logs users in with IBM Cloud App ID (or any OpenID Connect provider),
// keeps their session, and admits requests by role and scope.
//
// It is the Go successor of IBM's python-appid-auth code pattern: the same environment variables and the same
// role check, with a hardened login (state, nonce, PKCE, verified tokens) and sessions that need no shared
// state. For apps written in other languages, package [github.com/appidgate/appidgate/proxy] puts the same
// checks in front of them.
//
// # Quick start
//
// Read the configuration, build an [Auth], mount its endpoints and wrap the handlers that need a login:
//
//	cfg, err := appid.ConfigFromEnv() // names every missing or invalid variable at once
//	if err != nil {
//		log.Fatal(err)
//	}
//	auth, err := appid.New(ctx, cfg) // no network call: provider metadata and keys load on first use
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux := http.NewServeMux()
//	auth.Mount(mux)                                                 // the callback, /logout, back-channel logout
//	mux.Handle("/auth_route", auth.Check(h))                        // signed in and holding a role
//	mux.Handle("/admin", auth.Require(appid.Role("admin"))(h))      // a policy per route
//	mux.Handle("/api/", auth.RequireBearer(appid.Scope("view"))(h)) // APIs: Authorization: Bearer <token>
//
// In a handler, [UserFrom] returns the signed-in [User]: its ID, Email, Name, Roles, Scopes and Claims.
//
// # How a request flows
//
// Three types carry the package: [Config] says what to trust, [Auth] (built from it by [New]) guards handlers,
// and [User] is who a request comes from, in its context. For a route guarded by [Auth.Require]:
//
//  1. Session. The request's session is read from the [session.Store] (encrypted cookies by default). A
//     request without one, or with one past its idle or absolute lifetime ([Config.SessionIdleTimeout],
//     [Config.SessionMaxAge]) or logged out, is not signed in.
//  2. Refresh. When the session's access token has expired, or the provider has not confirmed the session for
//     [Config.RevalidateInterval], its refresh token is redeemed, once for all the session's concurrent
//     requests (on every replica at once with a store that implements [session.SessionLocker], such as Redis).
//     A refused refresh ends the session; an unreachable provider ends it only once the access token has
//     expired. Otherwise a valid session costs no network call (unless [Config.Introspect]).
//  3. Policy. Every policy given to Require must allow the user.
//  4. Handler. The handler runs with the user in the request context.
//
// [Auth.Refuse] answers a refused request: without a session, a browser navigation is redirected to the
// provider's login and comes back to the same URL, while API and script requests (a JSON Accept, an
// Authorization header, a Sec-Fetch-Mode other than navigate, X-Requested-With) get 401 JSON with
// WWW-Authenticate; a signed-in user whom the policy refuses gets 403 (a page saying who is signed in, what
// the route needs and whom to ask, [Config.AccessContact]; JSON "Unauthorized!" for API requests); a failed
// session store gets 503. Programs that answer refusals themselves, as the proxy does, call [Auth.Authorize]
// (or [Auth.AuthorizeBearerOrSession], which also takes bearer tokens), which returns [ErrLoginRequired],
// [ErrForbidden], [ErrSessionStoreUnavailable] or [ErrProviderUnavailable] instead, and pass the error to Refuse
// or answer it themselves.
//
// The login ([Auth.Login], which Refuse starts) is the authorization-code flow with state, nonce and PKCE. The
// callback that [Auth.Mount] serves at the path of [Config.RedirectURL] verifies the tokens, reads the user's
// roles (from App ID's management API when [Config.IBMCloudAPIKey] is set, else from the [Config.RolesClaim]
// claim), starts a new session and returns to the page the user asked for. Roles read from the management API
// are read at login only; a refresh keeps them.
//
// # Policies
//
// A [Policy] decides whether a signed-in user may use a route:
//
//   - [Authenticated] admits every signed-in user; [AnyRole] users holding at least one role (the reference
//     app's rule). App ID's anonymous users are signed in only with [Config.AllowAnonymous]; then Authenticated
//     admits them ([User.Anonymous] says which they are) and AnyRole does not, since they hold no role.
//   - [Role] admits users holding a role; [Scope] users whose access token grants a scope. App ID writes the
//     scopes that roles grant as "<application>/<scope>"; a bare scope matches the part after the last "/".
//   - [Claim] admits users whose token claim, named or given as a dotted path ("groups",
//     "realm_access.roles"), equals a value or, as an array, holds it.
//   - [AnyOf] and [AllOf] combine policies; [PolicyFunc] turns a function of your own into one.
//
// [Auth.Check] is Require(AnyRole()), the reference app's decorator. [Auth.Require] guards pages with sessions
// and admits users whom every policy given allows. [Auth.RequireBearer] guards APIs: it verifies the request's
// bearer access token (or, with [ProviderOIDC], asks the provider's introspection endpoint about an opaque
// one) and involves no session; [Auth.VerifyBearer] is that check alone, for tokens that arrive elsewhere.
// Every policy has a name, such as "role:admin", reported to the [Observer]. [ParsePolicy] reads policies
// written as the proxy's routes write them ("any-of [role:admin, scope:reports]"). [Policy.Allows] evaluates a
// policy on a [User] you build yourself, and [NewContext] puts one in a request's context, for tests.
//
// # Sessions and stores
//
// By default a session lives in the browser: sealed with AES-256-GCM under [Config.SessionKeys] in HttpOnly,
// SameSite=Lax cookies (Secure and "__Host-" prefixed when [Config.RedirectURL] is https), split across several
// cookies when large. Any replica serves any user without shared state, so an app scales to zero and back.
// The first key seals and all of them open: to rotate, add the new key as a previous key everywhere
// (APPIDGATE_SESSION_PREVIOUS_KEYS), then make it the first.
//
// With [Config.Store] set to a [github.com/appidgate/appidgate/appid/session/redisstore.RedisStore] (a package
// of its own, so that only programs that import it link a Redis client), the cookie holds only a random session
// id and the sealed session lives in Redis:
//
//	client, err := redisstore.NewRedisClientFromURL(redisURL) // appidgate reads APPIDGATE_REDIS_URL
//	...
//	codec, err := session.NewCodec(cfg.SessionKeys...)
//	...
//	cfg.Store = redisstore.NewRedisStore(client, codec, redisstore.RedisOptions{Secure: true})
//	auth, err := appid.New(ctx, cfg)
//
// Redis costs a network call per request, and buys logout and back-channel logout that end a session on every
// replica at once, and one refresh per session across replicas.
//
// # Logout and back-channel logout
//
// [Auth.Mount] serves GET /logout, a page with a logout button, and POST /logout, which ends the session,
// revokes its refresh token where the provider allows, and sends the browser to the provider's logout (App
// ID's SSO logout, or a generic provider's end_session_endpoint). That returns to the form's return_to, a
// same-origin path, or to [Config.PostLogoutPath]. App ID redirects only to registered URLs: register each
// post-logout URL, such as https://app.example/noauth_route, as a redirect URI.
//
// Mount also serves OpenID Connect Back-Channel Logout 1.0 at POST [DefaultBackchannelLogoutPath]
// ([Config.BackchannelLogoutPath]; "off" serves none): the provider posts a signed logout token naming one of
// its sessions (sid) or a user (sub), and the matching sessions end. With a Redis store they end on every
// replica at once. With cookie sessions the replica that receives the token refuses them at once, and the
// others when they next revalidate them with the provider, within [Config.RevalidateInterval] (sessions
// without a refresh token: when their access token expires).
//
// # Configuration
//
// [ConfigFromEnv] reads the reference app's six variables (APPID_CLIENT_ID, APPID_CLIENT_SECRET,
// APPID_OAUTH_SERVER_URL, APPID_REDIRECT_URI, SESSION_SECRET_KEY, IBM_CLOUD_APIKEY), IAM_TOKEN_URL and
// appidgate's APPIDGATE_* settings; each [Config] field names its variable in brackets. [ConfigFromLookup]
// reads through any lookup function, such as a map in tests. The appidgate command reads a few settings of its
// own around these, which Auth never reads: the Redis session store (APPIDGATE_REDIS_URL) and, on IBM Cloud Code
// Engine, an App ID service binding (CE_SERVICES) that stands in for the App ID variables; a program that wants
// either builds it itself (see "Sessions and stores" above). Every setting, its type, its default and what reads it are
// listed in the configuration reference:
// https://github.com/appidgate/appidgate/blob/main/docs/configuration.md
//
// Programs may also fill a [Config] themselves and pass it to [New], which checks it and applies the defaults
// to zero fields. [Config.Provider] selects the provider: [ProviderAppID] (the default: roles from the
// management API, App ID's logout and revocation paths) or [ProviderOIDC] (any OpenID Connect provider, such
// as Keycloak, Entra ID, Google or Cognito: endpoints from discovery, roles from [Config.RolesClaim]).
//
// # Errors
//
// [ConfigFromLookup] and [New] refuse a configuration with a *[ConfigError] that lists every [Problem] at once,
// each naming its setting: the environment variable for ConfigFromLookup, the Config field for New. Read them
// with errors.As. At request time, handlers see no errors: refusals are answered as described above, a
// provider that cannot be reached during login gets a 502 or 503 page, and the failures are logged to
// [Config.Logger], never with tokens. [Config.Observer] receives login, authorization, refresh and store events
// for metrics; package [github.com/appidgate/appidgate/metrics] implements it for Prometheus. With
// [Config.TracerProvider] (OpenTelemetry), the steps that wait on the provider (token exchange, token checks,
// roles, refresh, introspection) are spans under the request's span, recording no token. [Auth.Ready] suits
// a readiness probe. The built-in pages (403, failures, logout) can be replaced with templates of your own
// ([Config.TemplatesDir]).
//
// # Testing
//
// Package [github.com/appidgate/appidgate/localappid] is an App ID-compatible provider that runs inside a test
// on a loopback port, with demo users alice (role user), bob (no role) and carol (roles user and admin). Point
// a Config at it (its OAuthServerURL and IAMTokenURL, the demo client's credentials and API key) and drive the
// app with net/http/httptest, as the example of [Auth.Check] does; package
// [github.com/appidgate/appidgate/localappid/localappidtest] fills its login form as a browser would.
// [Config.Now] replaces the clock, so that expiry is tested without sleeping. Policies need no provider: build
// a [User] and call [Policy.Allows].
package appid
