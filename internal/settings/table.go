package settings

// served are the commands that serve an app: they read every library setting too.
const served = Library | Demo | Proxy

// table is every setting, grouped in documentation order. It is never changed: All returns a copy.
var table = []Setting{
	// Provider.
	{Name: "APPID_CLIENT_ID", Kind: KindString, Required: true, Group: GroupProvider, ReadBy: served,
		Summary: "The client id of the App ID application (its `clientId`), or of the OpenID Connect client."},
	{Name: "APPID_CLIENT_SECRET", Kind: KindSecret, Required: true, Group: GroupProvider, ReadBy: served,
		Summary: "The client's secret."},
	{Name: "APPID_OAUTH_SERVER_URL", Kind: KindURL, Default: "the local provider", Group: GroupProvider, ReadBy: served,
		Summary: "The provider's issuer: App ID's `oAuthServerUrl`, `https://{region}.appid.cloud.ibm.com/oauth/v4/{tenantId}`.",
		Details: "When neither `APPID_OAUTH_SERVER_URL` nor `APPIDGATE_ISSUER_URL` is set (and no App ID is bound " +
			"through `CE_SERVICES`), `demo` and `proxy` start the embedded local provider with its demo users, " +
			"unless `APPIDGATE_REQUIRE_APPID` forbids it. Once set, the six settings marked required are all " +
			"checked at start, and every missing or invalid one is named in one message (exit status 2)."},
	{Name: "APPID_REDIRECT_URI", Kind: KindURL, Required: true, Group: GroupProvider, ReadBy: served,
		Summary: "The callback registered with the provider, such as `https://app.example.com/afterauth`.",
		Details: "Its path is where the callback is served, and its scheme decides whether cookies are `Secure` and " +
			"`__Host-` prefixed (TLS usually ends in front of the app, so give the public https URL)."},
	{Name: "IBM_CLOUD_APIKEY", Kind: KindSecret, Required: true, Group: GroupProvider, ReadBy: served,
		Summary: "The IAM API key that reads users' roles from App ID's management API. App ID only.",
		Details: "Required with App ID; with `APPIDGATE_PROVIDER=oidc` it is an error to set it (as are " +
			"`IAM_TOKEN_URL` and `APPIDGATE_MANAGEMENT_URL`), since roles then come from a claim."},
	{Name: "IAM_TOKEN_URL", Kind: KindURL, Default: "https://iam.cloud.ibm.com/identity/token", Group: GroupProvider,
		ReadBy: served, Summary: "Where the API key is exchanged for an IAM token. App ID only."},
	{Name: "APPIDGATE_IAM_PROFILE_ID", Kind: KindString, Group: GroupProvider, ReadBy: served,
		Summary: "Instead of `IBM_CLOUD_APIKEY`: the IAM trusted profile (`Profile-...`) whose tokens read users' roles. App ID only.",
		Details: "Its tokens come from exchanging the compute-resource token in `APPIDGATE_IAM_CR_TOKEN_FILE` " +
			"(grant `urn:ibm:params:oauth:grant-type:cr-token`), so that no long-lived key is needed: on Code Engine, " +
			"create the app with `--trusted-profiles-enabled` (see docs/code-engine.md). Set it or " +
			"`APPIDGATE_IAM_PROFILE_NAME`, and leave `IBM_CLOUD_APIKEY` unset; an API key from a `CE_SERVICES` " +
			"binding gives way to the profile. An unreadable token file is named at start; a refused exchange " +
			"stops the start and, later, makes `/readyz` and logins answer 503."},
	{Name: "APPIDGATE_IAM_PROFILE_NAME", Kind: KindString, Group: GroupProvider, ReadBy: served,
		Summary: "The trusted profile by name, instead of `APPIDGATE_IAM_PROFILE_ID`."},
	{Name: "APPIDGATE_IAM_CR_TOKEN_FILE", Kind: KindFile,
		Default: "/var/run/secrets/codeengine.cloud.ibm.com/compute-resource-token/token", Group: GroupProvider,
		ReadBy: served, Summary: "The compute-resource token exchanged for the trusted profile's tokens, read again at each renewal."},
	{Name: "APPIDGATE_MANAGEMENT_URL", Kind: KindURL, Default: "the issuer with /oauth/ replaced by /management/",
		Group: GroupProvider, ReadBy: served, Summary: "App ID's management API, where roles are read. App ID only."},
	{Name: "APPIDGATE_PROVIDER", Kind: KindString, Default: "appid", Group: GroupProvider, ReadBy: served,
		Summary: "`appid` for IBM Cloud App ID, or `oidc` for any other OpenID Connect provider (see docs/providers.md)."},
	{Name: "APPIDGATE_ISSUER_URL", Kind: KindURL, Group: GroupProvider, ReadBy: served,
		Summary: "Another name for `APPID_OAUTH_SERVER_URL`: set one, or both equal.",
		Details: "The issuer is compared exactly as the provider's discovery document writes it, trailing slash " +
			"included."},
	{Name: "APPIDGATE_ROLES_CLAIM", Kind: KindString, Default: "roles", Group: GroupProvider, ReadBy: served,
		Summary: "With `oidc`: the claim of the user's roles, a name (`groups`) or a dotted path (`realm_access.roles`).",
		Details: "It is looked up in the id token, then userinfo, then the access token when that is a JWT for this " +
			"client; for bearer requests, in the access token or the introspection answer."},
	{Name: "APPIDGATE_ALLOW_ANONYMOUS", Kind: KindBool, Default: "false", Group: GroupProvider, ReadBy: served,
		Summary: "App ID only: `true` admits App ID's anonymous users (`amr` `appid_anon`), who hold no roles.",
		Details: "App ID signs anyone in anonymously, without credentials, when the login redirect says " +
			"`idp=appid_anon`, which a visitor can add. Off, such tokens are refused at login (audit reason " +
			"`anonymous_user`), at refresh and as bearer tokens (401 `invalid_token`). On, they are users with " +
			"`User.Anonymous` set and no roles: `authenticated` admits them, role checks do not. Turn it on only " +
			"for an app that uses progressive authentication."},
	{Name: "APPIDGATE_SCOPES", Kind: KindList, Default: "openid; openid profile email with oidc", Group: GroupProvider,
		ReadBy: served, Summary: "Scopes requested at login, space or comma separated; `openid` is always included."},
	{Name: "APPIDGATE_AUTH_PARAMS", Kind: KindQuery, Group: GroupProvider, ReadBy: served,
		Summary: "Extra authorization request parameters, as a query string such as `access_type=offline&prompt=consent`.",
		Details: "They cannot replace the protocol's own parameters (`scope`, `state`, `nonce`, `redirect_uri`, " +
			"`acr_values`, `max_age` and the like): naming one is a start-up problem."},
	{Name: "APPIDGATE_OFFLINE_ACCESS", Kind: KindBool, Default: "true", Group: GroupProvider, ReadBy: served,
		Summary: "With `oidc`: `false` stops requesting `offline_access`, which is asked for when discovery lists it."},
	{Name: "APPIDGATE_LOGOUT_RETURN_PARAM", Kind: KindString, Default: "post_logout_redirect_uri", Group: GroupProvider,
		ReadBy: served, Summary: "With `oidc`: the end-session parameter that carries the return URL (`logout_uri` for Amazon Cognito)."},
	{Name: "APPIDGATE_INTROSPECT", Kind: KindBool, Default: "false", Group: GroupProvider, ReadBy: served,
		Summary: "Also ask the provider's introspection endpoint about the access token on every request (one network call each)."},
	{Name: "CE_SERVICES", Kind: KindJSON, Group: GroupProvider, ReadBy: Demo | Proxy,
		Summary: "Set by Code Engine for bound service instances: one App ID binding stands in for the client settings.",
		Details: "While `APPID_CLIENT_ID`, `APPID_CLIENT_SECRET` and `APPID_OAUTH_SERVER_URL` are all unset, the one " +
			"App ID binding's credentials stand in for them, and for `IBM_CLOUD_APIKEY` and " +
			"`APPIDGATE_MANAGEMENT_URL` when those are unset (see docs/code-engine.md)."},

	// Sessions.
	{Name: "SESSION_SECRET_KEY", Kind: KindSecret, Required: true, Group: GroupSessions, ReadBy: served,
		Summary: "Encrypts and authenticates the session cookies: at least 16 bytes, 32 random bytes recommended."},
	{Name: "APPIDGATE_SESSION_PREVIOUS_KEYS", Kind: KindList, Group: GroupSessions, ReadBy: served,
		Summary: "Older session keys, comma separated, still accepted, so that keys can be rotated."},
	{Name: "APPIDGATE_SESSION_IDLE_TIMEOUT", Kind: KindDuration, Default: "1h", Group: GroupSessions, ReadBy: served,
		Summary: "A session not used for this long ends."},
	{Name: "APPIDGATE_SESSION_MAX_AGE", Kind: KindDuration, Default: "24h", Group: GroupSessions, ReadBy: served,
		Summary: "A session ends this long after login, used or not."},
	{Name: "APPIDGATE_CLOCK_SKEW", Kind: KindDuration, Default: "1m", Group: GroupSessions, ReadBy: served,
		Summary: "The tolerance when checking token times, at most 5m."},
	{Name: "APPIDGATE_REVALIDATE_INTERVAL", Kind: KindDuration, Default: "5m", Group: GroupSessions, ReadBy: served,
		Summary: "A session goes at most this long without the provider confirming it; `off` for never.",
		Details: "The session's refresh token is redeemed again, even while its access token is valid. This bounds " +
			"how long a copied cookie of a logged-out session keeps working on other replicas (see docs/sessions.md)."},
	{Name: "APPIDGATE_REDIS_URL", Kind: KindURL, Default: "sessions in cookies", Group: GroupSessions, ReadBy: Demo | Proxy,
		Summary: "A `redis://` or `rediss://` URL: keep sessions in Redis, so that logout ends them on every replica."},
	{Name: "APPIDGATE_REDIS_CA_CERT", Kind: KindString, Default: "the system's CAs", Group: GroupSessions, ReadBy: Demo | Proxy,
		Summary: "The CA certificate of a `rediss://` server: PEM, or base64 of PEM as IBM Cloud Databases for Redis gives it.",
		Details: "IBM's service credentials hold it in `connection.rediss.certificate.certificate_base64`. A value that " +
			"is no certificate, or one given with a `redis://` URL, is named at start; a CA that did not sign the " +
			"server's certificate makes `/readyz` fail with the check `redis` naming this setting."},
	{Name: "APPIDGATE_KEEP_ACCESS_TOKEN", Kind: KindBool, Default: "false", Group: GroupSessions, ReadBy: served,
		Summary: "Sessions keep the raw access token for handlers (`User.AccessToken`); they grow by its size."},
	{Name: "APPIDGATE_POST_LOGOUT_PATH", Kind: KindPath, Default: "/noauth_route", Group: GroupSessions, ReadBy: served,
		Summary: "The same-origin path users land on after logout; register the app's URL plus it with the provider."},
	{Name: "APPIDGATE_BACKCHANNEL_LOGOUT_PATH", Kind: KindPath, Default: "/backchannel_logout", Group: GroupSessions,
		ReadBy: served, Summary: "Where the provider's back-channel logout tokens are received; `off` serves none."},

	// Pages.
	{Name: "APPIDGATE_TEMPLATES_DIR", Kind: KindFile, Default: "the built-in pages", Group: GroupPages, ReadBy: served,
		Summary: "A folder of templates that replace the built-in pages, checked at start (see docs/pages.md)."},
	{Name: "APPIDGATE_ACCESS_CONTACT", Kind: KindString, Default: "not shown", Group: GroupPages, ReadBy: served,
		Summary: "Whom a refused user should ask for access, on the 403 page: free text, or a `mailto:` or http(s) URL."},

	// Proxy.
	{Name: "APPIDGATE_UPSTREAM", Flag: "upstream", Kind: KindURL, Required: true, Group: GroupProxy, ReadBy: Proxy,
		Summary: "The app's URL, such as `http://127.0.0.1:8000`."},
	{Name: "APPIDGATE_ROUTES", Flag: "routes", Kind: KindFile, Group: GroupProxy, ReadBy: Proxy,
		Summary: "A YAML file of routes: public paths, API paths and who may see what (see docs/proxy.md)."},
	{Flag: "public", Kind: KindList, Group: GroupProxy, ReadBy: Proxy,
		Summary: "Paths open to everyone, comma-separated prefixes."},
	{Flag: "api", Kind: KindList, Group: GroupProxy, ReadBy: Proxy,
		Summary: "API paths: they answer 401 JSON instead of redirecting to the login."},
	{Flag: "policy", Kind: KindList, Group: GroupProxy, ReadBy: Proxy,
		Summary: "PATH=POLICY, such as `/admin=role:admin`."},
	{Flag: "default-policy", Kind: KindString, Default: "any-role", Group: GroupProxy, ReadBy: Proxy,
		Summary: "Who may see the paths no rule names: by default, a signed-in user with at least one role."},
	{Flag: "oauth2-proxy-headers", Kind: KindBool, Default: "false", Group: GroupProxy, ReadBy: Proxy,
		Summary: "Also send oauth2-proxy's X-Forwarded-User, -Email, -Groups and -Preferred-Username headers."},
	{Flag: "pass-authorization", Kind: KindBool, Default: "false", Group: GroupProxy, ReadBy: Proxy,
		Summary: "Pass the client's Authorization header to the app."},
	{Name: "APPIDGATE_PASS_ACCESS_TOKEN", Flag: "pass-access-token", Kind: KindBool, Default: "false",
		Group: GroupProxy, ReadBy: Proxy,
		Summary: "Send the user's access token to the app as X-Appidgate-Access-Token; sessions then keep it."},
	{Name: "APPIDGATE_ASSERTION_SECRET", Kind: KindSecret, Default: "derived from SESSION_SECRET_KEY", Group: GroupProxy,
		ReadBy: Proxy, Summary: "The secret the signing key of X-Appidgate-Assertion is derived from.",
		Details: "Comma-separated during a rotation: the first secret signs, and the keys of the others stay " +
			"published at `/.well-known/appidgate/jwks.json`. Rotate in two steps as the session key " +
			"(`OLD,NEW` on every replica, then `NEW,OLD`; see docs/sessions.md)."},
	{Flag: "upstream-timeout", Kind: KindDuration, Default: "60s", Group: GroupProxy, ReadBy: Proxy,
		Summary: "How long the app may take to start answering a request."},
	{Flag: "start-timeout", Kind: KindDuration, Default: "1m", Group: GroupProxy, ReadBy: Proxy,
		Summary: "How long the app started after `--` may take to listen on the upstream's port."},
	{Name: "APPIDGATE_ROUTES_RELOAD_INTERVAL", Kind: KindDuration, Default: "5s", Group: GroupProxy, ReadBy: Proxy,
		Summary: "How often the proxy looks for a change of its routes file, and reloads it when its content changed; `off` never looks.",
		Details: "The proxy also reloads the routes file on SIGHUP. A file with any problem leaves the routes in force " +
			"as they are, and each problem is logged with its file, line and column (see docs/proxy.md). The look " +
			"compares the content's SHA-256, so it follows a file that is replaced, such as a Kubernetes or Code " +
			"Engine config map mounted as a volume. A change is put in force at the next look that reads the same " +
			"content again (one to two intervals), so that a file read while half written is never in force."},

	// Forward-auth.
	{Name: "APPIDGATE_TRUSTED_PROXIES", Flag: "trusted-proxy", Kind: KindList, Group: GroupForward, ReadBy: Proxy,
		Summary: "The addresses (CIDRs) of front proxies whose X-Forwarded-* headers are believed.",
		Details: "The forward-auth endpoints under `/.appidgate/` answer only these peers (see docs/forward-auth.md)."},
	{Flag: "return-host", Kind: KindList, Default: "the host of APPID_REDIRECT_URI", Group: GroupForward, ReadBy: Proxy,
		Summary: "Hosts the forward-auth sign-in may return to; by default the host of `APPID_REDIRECT_URI`."},

	// Local provider.
	{Name: "APPIDGATE_REQUIRE_APPID", Kind: KindBool, Default: "false; true in the image", Group: GroupLocal,
		ReadBy:  Demo | Proxy,
		Summary: "Never fall back to the local provider: missing provider settings are a start-up problem."},
	{Name: "APPIDGATE_LOCAL_IDP", Kind: KindBool, Default: "false", Group: GroupLocal, ReadBy: Demo | Proxy,
		Summary: "Run the local provider even where `APPIDGATE_REQUIRE_APPID` is set, such as for a demo in a container."},
	{Name: "APPIDGATE_IDP_ADDR", Kind: KindAddress, Default: "127.0.0.1:0; :5001 with APPIDGATE_LOCAL_IDP",
		Group: GroupLocal, ReadBy: Demo | Proxy, Summary: "Where the embedded local provider listens."},
	{Name: "APPIDGATE_IDP_URL", Kind: KindURL, Default: "its listen address", Group: GroupLocal, ReadBy: Demo | Proxy,
		Summary: "The local provider's public origin, when browsers reach it by another name."},
	{Flag: "addr", Kind: KindAddress, Default: "127.0.0.1:5001", Group: GroupLocal, ReadBy: IdP,
		Summary: "The address `appidgate idp` listens on."},
	{Flag: "config", Kind: KindFile, Default: "the demo data", Group: GroupLocal, ReadBy: IdP,
		Summary: "A YAML or JSON file of the tenant, clients, users, roles and API keys `appidgate idp` serves."},
	{Flag: "issuer-url", Kind: KindURL, Group: GroupLocal, ReadBy: IdP,
		Summary: "The public origin of `appidgate idp`, when browsers reach it by another host name."},

	// Operations.
	{Name: "PORT", Kind: KindPort, Default: "5000", Group: GroupOperations, ReadBy: Demo | Proxy,
		Summary: "The port to listen on; Code Engine sets it (8080)."},
	{Name: "APPIDGATE_LISTEN_ADDR", Kind: KindAddress, Group: GroupOperations, ReadBy: Demo | Proxy,
		Default: "every interface and PORT; 127.0.0.1 for the local provider",
		Summary: "The host:port to listen on, overriding `PORT`."},
	{Name: "APPIDGATE_METRICS_ADDR", Kind: KindAddress, Default: "the main port", Group: GroupOperations,
		ReadBy: Demo | Proxy, Summary: "Serve /metrics on this address instead of the main port."},
	{Name: "APPIDGATE_SHUTDOWN_TIMEOUT", Kind: KindDuration, Default: "20s", Group: GroupOperations,
		ReadBy: Demo | Proxy, Summary: "How long requests in flight (and the proxy's app) may take to finish after SIGTERM."},
	{Name: "APPIDGATE_SHUTDOWN_DELAY", Kind: KindDuration, Default: "3s", Group: GroupOperations,
		ReadBy:  Demo | Proxy,
		Summary: "How long the server keeps accepting and serving after SIGTERM, before it closes its port and drains.",
		Details: "On SIGTERM, `/readyz` fails at once, and for this long the server still accepts connections and " +
			"answers every request with `Connection: close`, so that clients and load balancers that have not yet " +
			"noticed the shutdown finish on connections that close cleanly instead of being reset. Then the port " +
			"closes and requests in flight get `APPIDGATE_SHUTDOWN_TIMEOUT` to finish. `0` closes the port at once. " +
			"The delay and the timeout together must stay under the platform's grace period: Code Engine (Knative) " +
			"kills the instance 30 s after SIGTERM. Ctrl-C (SIGINT) skips the delay: it is for load balancers, and a terminal has none."},
	{Name: "APPIDGATE_LOG_FORMAT", Kind: KindString, Default: "auto; json in the image", Group: GroupOperations,
		ReadBy: Demo | Proxy, Summary: "`json`, `text`, or `auto`: text on a terminal, else JSON."},
	{Name: "APPIDGATE_LOG_LEVEL", Kind: KindString, Default: "info", Group: GroupOperations, ReadBy: Demo | Proxy,
		Summary: "`debug`, `info`, `warn` or `error`."},
	{Name: "APPIDGATE_STRICT_ENV", Kind: KindBool, Default: "false; true in the image", Group: GroupOperations,
		ReadBy:  Demo | Proxy | IdP,
		Summary: "An unknown `APPIDGATE_*` or `APPID_*` variable is a start-up problem rather than a warning.",
		Details: "At start, `demo`, `proxy` and `idp` look at every variable named `APPIDGATE_*` or `APPID_*`, or " +
			"starting like `SESSION_SECRET`, `IBM_CLOUD_` or `IAM_TOKEN`: one that no setting here knows is most " +
			"likely a typo, and is logged as `unknown setting NAME, did you mean SETTING?`. Other variables, such " +
			"as `PATH` or Code Engine's `CE_*`, are never looked at, and the variables read by other tools (below) are " +
			"known too."},
	{Name: "APPIDGATE_AUDIT_LOG", Kind: KindString, Default: "stderr", Group: GroupOperations, ReadBy: Demo | Proxy,
		Summary: "Where audit events go: `stderr`, `stdout`, `off`, or a file path (with a `/`) to append to.",
		Details: "Audit events (sign-ins, refusals, logouts, sessions the provider ended) are JSON records at INFO " +
			"with `log_type` `audit`, whatever `APPIDGATE_LOG_FORMAT` and `APPIDGATE_LOG_LEVEL` say, so that a log " +
			"router can send them apart from the other lines of the same stream; their fields are in " +
			"docs/operations.md. A file is created with mode 0600 and appended to; rotate it with copytruncate."},

	// Tracing: OpenTelemetry's standard variables (see docs/operations.md#tracing).
	{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Kind: KindURL, Default: "traces off", Group: GroupTracing,
		ReadBy:  Demo | Proxy,
		Summary: "The OTLP/HTTP collector, such as `http://otel-collector:4318`: setting it turns traces on.",
		Details: "Spans go to its `/v1/traces` in protobuf, in batches. The OpenTelemetry SDK also honours the " +
			"other standard variables: `OTEL_EXPORTER_OTLP_HEADERS` (and `_TRACES_HEADERS`), `_TIMEOUT`, " +
			"`_COMPRESSION`, `_CERTIFICATE`, `OTEL_SERVICE_NAME` (default `appidgate`), `OTEL_RESOURCE_ATTRIBUTES`, " +
			"`OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (default: every trace, or as the trusted caller " +
			"decided), and `OTEL_BSP_*` for batching."},
	{Name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", Kind: KindURL, Default: "the endpoint with /v1/traces",
		Group: GroupTracing, ReadBy: Demo | Proxy,
		Summary: "The full URL spans are posted to, instead of the one derived from `OTEL_EXPORTER_OTLP_ENDPOINT`; setting it turns traces on."},
	{Name: "OTEL_TRACES_EXPORTER", Kind: KindString, Default: "otlp when an endpoint is set, else none",
		Group: GroupTracing, ReadBy: Demo | Proxy,
		Summary: "`otlp` turns traces on (to `http://localhost:4318` without an endpoint); `none` turns them off.",
		Details: "Any other exporter (`console`, `zipkin`) is a start-up problem."},
	{Name: "OTEL_EXPORTER_OTLP_PROTOCOL", Kind: KindString, Default: "http/protobuf", Group: GroupTracing,
		ReadBy:  Demo | Proxy,
		Summary: "Must be `http/protobuf` (or unset) when traces are on: appidgate does not send OTLP over gRPC."},
	{Name: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", Kind: KindString, Default: "as OTEL_EXPORTER_OTLP_PROTOCOL",
		Group: GroupTracing, ReadBy: Demo | Proxy, Summary: "The same, for traces only."},
	{Name: "OTEL_SDK_DISABLED", Kind: KindBool, Default: "false", Group: GroupTracing, ReadBy: Demo | Proxy,
		Summary: "`true` turns traces off whatever the other variables say."},

	// Other tools.
	{Name: "APPID_SERVICE_INSTANCE", Kind: KindString, Group: GroupOther, ReadBy: Deploy,
		Summary: "`deploy/codeengine.sh`: the App ID instance to bind to the app (see docs/code-engine.md)."},
	{Name: "APPIDGATE_TEST_CHILD", Kind: KindBool, Group: GroupOther, ReadBy: Tests,
		Summary: "Tests only: the test binary runs as the child app of a proxy under test."},
	{Name: "APPIDGATE_AXE_CORE", Kind: KindFile, Group: GroupOther, ReadBy: Tests,
		Summary: "Tests only: the axe.min.js the page accessibility tests load."},
	{Name: "APPIDGATE_SCREENSHOTS_DIR", Kind: KindFile, Default: "no screenshots", Group: GroupOther, ReadBy: Tests,
		Summary: "Tests only: where the page tests save screenshots of every page (e2e/screenshots is ignored by git)."},
	{Name: "APPIDGATE_APPID_SDK", Kind: KindFile, Group: GroupOther, ReadBy: Tests,
		Summary: "Tests only: the node_modules folder holding IBM's App ID SDK for Node.js, which the emulator's SDK test runs."},
}
