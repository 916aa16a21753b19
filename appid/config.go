package appid

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/appidgate/appidgate/appid/iam"
	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/internal/settings"
)

// Defaults used when a Config field is left zero.
const (
	DefaultIAMTokenURL        = iam.DefaultTokenURL
	DefaultSessionIdleTimeout = time.Hour
	DefaultSessionMaxAge      = 24 * time.Hour
	DefaultClockSkew          = time.Minute
	DefaultPostLogoutPath     = "/noauth_route"
	DefaultRevalidateInterval = 5 * time.Minute

	// maxClockSkew bounds ClockSkew: a larger tolerance would keep expired tokens alive.
	maxClockSkew = 5 * time.Minute
)

// Problem is one missing or invalid setting. It is the one shape in which every part of appidgate collects the
// problems of a configuration before refusing it (the proxy's routes and the command's settings too).
type Problem struct {
	// Setting names what is wrong: the environment variable (APPID_CLIENT_ID) for ConfigFromLookup, the Config
	// field (ClientID) for New. It is empty for a problem of the configuration as a whole, which Reason names.
	Setting string
	// Reason says what is wrong and, where it helps, what was expected, such as "required, not set".
	Reason string
}

// String returns "Setting: Reason", or Reason alone when Setting is empty.
func (p Problem) String() string {
	if p.Setting == "" {
		return p.Reason
	}
	return p.Setting + ": " + p.Reason
}

// ConfigError is the error of ConfigFromLookup and New for a configuration they refuse. It lists every problem
// at once, so that a user fixes them in one go; use errors.As to read them.
type ConfigError struct {
	Problems []Problem
}

// Error lists the problems one per line, after a line naming the component.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString("appid: invalid configuration:")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Config holds everything Auth needs. ConfigFromEnv fills it from environment variables, named in brackets
// below and described in docs/configuration.md; programs may also build it directly and pass it to New.
type Config struct {
	// ClientID and ClientSecret are the App ID application's credentials [APPID_CLIENT_ID, APPID_CLIENT_SECRET].
	ClientID     string
	ClientSecret string
	// OAuthServerURL is the provider's issuer, e.g. https://us-south.appid.cloud.ibm.com/oauth/v4/<tenant>
	// [APPID_OAUTH_SERVER_URL].
	OAuthServerURL string
	// RedirectURL is the callback registered with the provider [APPID_REDIRECT_URI]. Its path is where Mount
	// serves the callback, and its scheme decides whether cookies are Secure and __Host- prefixed.
	RedirectURL string
	// SessionKeys encrypt the session cookies; the first seals, all open, so keys can be rotated
	// [SESSION_SECRET_KEY, then APPIDGATE_SESSION_PREVIOUS_KEYS comma-separated]. Each is at least 16 bytes.
	SessionKeys [][]byte
	// IBMCloudAPIKey, when set, lets the callback read the user's roles from the management API
	// [IBM_CLOUD_APIKEY], in App ID mode. When empty, roles come from the RolesClaim claim of the tokens, if any.
	IBMCloudAPIKey string
	// IAMTokenURL is where the API key is exchanged for an IAM token [IAM_TOKEN_URL].
	IAMTokenURL string
	// IAMProfileID or IAMProfileName, when IBMCloudAPIKey is empty, name the IAM trusted profile whose tokens
	// read the user's roles [APPIDGATE_IAM_PROFILE_ID, APPIDGATE_IAM_PROFILE_NAME]: the compute-resource token
	// in IAMCRTokenFile is exchanged for them, so that no long-lived API key is needed (Code Engine mounts it for
	// an app created with --trusted-profiles-enabled). App ID mode only.
	IAMProfileID, IAMProfileName string
	// IAMCRTokenFile holds the compute-resource token, read again at each renewal
	// [APPIDGATE_IAM_CR_TOKEN_FILE]; empty means iam.DefaultCRTokenFile.
	IAMCRTokenFile string
	// ManagementURL is the App ID management API [APPIDGATE_MANAGEMENT_URL]; by default OAuthServerURL with
	// "/oauth/" replaced by "/management/", as the reference derives it.
	ManagementURL string
	// Scopes requested at login [APPIDGATE_SCOPES, space or comma separated]; "openid" is always included.
	Scopes []string
	// SessionIdleTimeout ends a session not used for this long [APPIDGATE_SESSION_IDLE_TIMEOUT].
	SessionIdleTimeout time.Duration
	// SessionMaxAge ends a session this long after login, used or not [APPIDGATE_SESSION_MAX_AGE].
	SessionMaxAge time.Duration
	// ClockSkew is the tolerance when checking token times, at most 5 minutes [APPIDGATE_CLOCK_SKEW].
	ClockSkew time.Duration
	// RevalidateInterval is how long a session goes at most without the provider confirming it, by redeeming its
	// refresh token, even while its access token is valid [APPIDGATE_REVALIDATE_INTERVAL, "off" for never]. It
	// bounds how long a copy of a logged-out session's cookie, or a session ended at the provider, keeps working
	// on replicas other than the one that handled the logout. Zero means DefaultRevalidateInterval; a negative
	// value turns revalidation off, so that such a copy works until its access token expires. Sessions without a
	// refresh token are not revalidated.
	RevalidateInterval time.Duration
	// PostLogoutPath is the same-origin path users land on after logout [APPIDGATE_POST_LOGOUT_PATH].
	PostLogoutPath string
	// Introspect asks the provider's /introspect endpoint about the access token on every request, as the
	// reference does, on top of the local checks [APPIDGATE_INTROSPECT]. It costs one network call per request.
	Introspect bool
	// KeepAccessToken keeps the raw access token in the session [APPIDGATE_KEEP_ACCESS_TOKEN], so that
	// User.AccessToken gives it on session requests, for a handler (or the proxy's upstream) that calls an API
	// as the user. It makes every session larger by the token's size.
	KeepAccessToken bool
	// AllowAnonymous admits App ID's anonymous users [APPIDGATE_ALLOW_ANONYMOUS]: tokens whose amr claim holds
	// appid_anon, which App ID issues without credentials to anyone whose sign-in asks for idp=appid_anon (a
	// visitor can add it to the login redirect). Off, such tokens are refused at login (the failure page, audit
	// reason anonymous_user), at refresh (the session ends) and as bearer tokens (401 invalid_token). On, an
	// anonymous user is a User with Anonymous set and no roles, whom Authenticated admits: turn it on only for
	// an app that uses progressive authentication and checks User.Anonymous (or a role) where it matters.
	// ProviderOIDC mode ignores it: amr values mean other things there.
	AllowAnonymous bool
	// BackchannelLogoutPath is where Mount serves OpenID Connect back-channel logout (POST, form field
	// logout_token) [APPIDGATE_BACKCHANNEL_LOGOUT_PATH]: register the app's origin plus this path as the client's
	// backchannel_logout_uri at the provider. Empty means DefaultBackchannelLogoutPath; "off" serves none.
	BackchannelLogoutPath string
	// TemplatesDir holds the operator's templates that replace the built-in pages (the 403, failure, logout and
	// signed-out pages; see docs/pages.md) [APPIDGATE_TEMPLATES_DIR]. New checks each one and refuses a template
	// that does not parse or names an unknown page. Empty: the built-in pages.
	TemplatesDir string
	// AccessContact is whom a refused user should ask for access, shown on the 403 page
	// [APPIDGATE_ACCESS_CONTACT]: free text, or a mailto: or http(s) URL, shown as a link.
	AccessContact string

	// Provider is the kind of provider OAuthServerURL names [APPIDGATE_PROVIDER]: ProviderAppID (the default,
	// IBM Cloud App ID as the reference uses it) or ProviderOIDC (any OpenID Connect provider: the issuer is
	// compared exactly as given, trailing slash included; no IAM and no management API; the endpoints come from
	// discovery). From the environment the issuer may also be given as APPIDGATE_ISSUER_URL.
	Provider string
	// RolesClaim is the claim path of the user's roles when they do not come from the management API
	// [APPIDGATE_ROLES_CLAIM]: a claim name ("roles", "groups", "cognito:groups") or a dotted path into nested
	// objects ("realm_access.roles"). It is looked up in the id token, then userinfo, then the access token
	// when that is a JWT for this client; for bearer requests, in the access token or the introspection answer.
	// Empty means DefaultRolesClaim.
	RolesClaim string
	// AuthParams are added to every authorization request, e.g. access_type=offline for Google
	// [APPIDGATE_AUTH_PARAMS, as a query string]. They cannot replace the protocol's own parameters.
	AuthParams url.Values
	// DisableOfflineAccess stops ProviderOIDC mode from requesting the offline_access scope, which it does when
	// discovery lists it so that the provider issues a refresh token [APPIDGATE_OFFLINE_ACCESS=false].
	DisableOfflineAccess bool
	// LogoutReturnParam names the end-session parameter that carries the URL to return to after logout
	// [APPIDGATE_LOGOUT_RETURN_PARAM]: empty means post_logout_redirect_uri, the standard's; Amazon Cognito's
	// /logout takes logout_uri. ProviderOIDC mode only.
	LogoutReturnParam string

	// HTTPClient makes every outbound call; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// Store keeps sessions; nil means encrypted cookies sealed with SessionKeys.
	Store session.Store
	// Observer receives events for metrics; nil drops them.
	Observer Observer
	// TracerProvider traces the steps that wait on the provider (token exchange, token verification, roles,
	// refresh, introspection) as spans under the span in the request's context; nil traces nothing. Give
	// HTTPClient a tracing transport too to see each call.
	TracerProvider trace.TracerProvider
	// Logger receives diagnostics (never tokens); nil means slog.Default().
	Logger *slog.Logger
	// AuditLogger receives the audit events (sign-ins, refusals, logouts, sessions the provider ended) as INFO
	// records of a stable shape with log_type=audit, documented in docs/operations.md; nil writes none. They
	// never hold a token, a cookie or a secret. Their client address is the connection's peer (appidgate's proxy
	// command names the client as its trusted proxies saw it).
	AuditLogger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnUser, when set, is called once a request's user is known (by Require and RequireBearer), before the
	// policy decides, so that denied requests can be logged with their user too. It runs on every protected
	// request: it must be cheap, and must not keep u beyond the call or change it.
	OnUser func(r *http.Request, u *User)
}

// ConfigFromEnv reads Config from the process environment; see ConfigFromLookup.
func ConfigFromEnv() (Config, error) {
	return ConfigFromLookup(os.LookupEnv)
}

// ConfigFromLookup reads Config through lookup (os.LookupEnv in production) and validates it. On a refused
// configuration the error is a *ConfigError naming every missing or invalid setting at once, by its environment
// variable.
func ConfigFromLookup(lookup func(string) (string, bool)) (Config, error) {
	var problems []Problem
	r := settings.NewReader(lookup, func(name, reason string) { problems = append(problems, Problem{name, reason}) })
	cfg := Config{
		ClientID:       r.String("APPID_CLIENT_ID"),
		ClientSecret:   r.String("APPID_CLIENT_SECRET"),
		OAuthServerURL: r.String("APPID_OAUTH_SERVER_URL"),
		RedirectURL:    r.String("APPID_REDIRECT_URI"),
		IBMCloudAPIKey: r.String("IBM_CLOUD_APIKEY"),
		IAMTokenURL:    r.String("IAM_TOKEN_URL"),
		IAMProfileID:   r.String("APPIDGATE_IAM_PROFILE_ID"),
		IAMProfileName: r.String("APPIDGATE_IAM_PROFILE_NAME"),
		IAMCRTokenFile: r.String("APPIDGATE_IAM_CR_TOKEN_FILE"),
		ManagementURL:  r.String("APPIDGATE_MANAGEMENT_URL"),
		PostLogoutPath: r.String("APPIDGATE_POST_LOGOUT_PATH"),

		BackchannelLogoutPath: r.String("APPIDGATE_BACKCHANNEL_LOGOUT_PATH"),
	}
	if key := r.String("SESSION_SECRET_KEY"); key != "" {
		cfg.SessionKeys = append(cfg.SessionKeys, []byte(key))
	}
	// Previous keys join SessionKeys after the checks, so that they never stand in for a missing
	// SESSION_SECRET_KEY (the first key seals new sessions) and their problems name their own variable.
	var previous [][]byte
	for _, key := range r.List("APPIDGATE_SESSION_PREVIOUS_KEYS") {
		if len(key) < session.MinSecretLen {
			problems = append(problems, Problem{"APPIDGATE_SESSION_PREVIOUS_KEYS",
				fmt.Sprintf("key %d is %d bytes, expected at least %d", len(previous)+1, len(key), session.MinSecretLen)})
		}
		previous = append(previous, []byte(key))
	}
	if s := r.String("APPIDGATE_SCOPES"); s != "" {
		cfg.Scopes = strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	}
	cfg.SessionIdleTimeout, _ = r.Duration("APPIDGATE_SESSION_IDLE_TIMEOUT")
	cfg.SessionMaxAge, _ = r.Duration("APPIDGATE_SESSION_MAX_AGE")
	cfg.ClockSkew, _ = r.Duration("APPIDGATE_CLOCK_SKEW")
	if s := r.String("APPIDGATE_REVALIDATE_INTERVAL"); s != "" {
		if v, err := time.ParseDuration(s); err == nil && v > 0 {
			cfg.RevalidateInterval = v
		} else if strings.EqualFold(s, "off") {
			cfg.RevalidateInterval = -1
		} else {
			problems = append(problems, Problem{"APPIDGATE_REVALIDATE_INTERVAL",
				fmt.Sprintf("expected a positive duration such as 5m, or off, got %q", s)})
		}
	}
	cfg.Introspect, _ = r.Bool("APPIDGATE_INTROSPECT")
	cfg.KeepAccessToken, _ = r.Bool("APPIDGATE_KEEP_ACCESS_TOKEN")
	cfg.AllowAnonymous, _ = r.Bool("APPIDGATE_ALLOW_ANONYMOUS")
	cfg.TemplatesDir, cfg.AccessContact = r.String("APPIDGATE_TEMPLATES_DIR"), r.String("APPIDGATE_ACCESS_CONTACT")
	if cfg.TemplatesDir != "" {
		if _, err := loadPages(cfg.TemplatesDir, "APPIDGATE_TEMPLATES_DIR"); err != nil {
			problems = append(problems, err.Problems...)
		}
	}
	names := envNames
	names.oauthServerURL = readProviderEnv(r, &cfg, func(p Problem) { problems = append(problems, p) })
	problems = append(problems, cfg.problems(names)...)
	problems = append(problems, cfg.trustedProfileProblems(r.String("IBM_CLOUD_APIKEY") != "")...)
	if len(problems) > 0 {
		return Config{}, &ConfigError{Problems: problems}
	}
	cfg.SessionKeys = append(cfg.SessionKeys, previous...)
	return cfg.withDefaults(), nil
}

// trustedProfileProblems checks, for ConfigFromLookup, how the roles are read: with IBM_CLOUD_APIKEY, or with a
// trusted profile whose compute-resource token file can be read now. A key that only came from a Code Engine
// binding gives way to a profile; one set explicitly next to a profile is refused, as ambiguous.
func (c *Config) trustedProfileProblems(explicitKey bool) []Problem {
	profile := c.IAMProfileID != "" || c.IAMProfileName != ""
	if c.Provider == ProviderOIDC {
		var p []Problem
		for _, s := range []struct{ name, v string }{{"APPIDGATE_IAM_PROFILE_ID", c.IAMProfileID},
			{"APPIDGATE_IAM_PROFILE_NAME", c.IAMProfileName}, {"APPIDGATE_IAM_CR_TOKEN_FILE", c.IAMCRTokenFile}} {
			if s.v != "" {
				p = append(p, Problem{s.name, "not used when APPIDGATE_PROVIDER is oidc (no IAM, no management API); unset it"})
			}
		}
		return p
	}
	switch {
	case !profile && c.IBMCloudAPIKey == "":
		// The reference app reads roles with this key; from the environment it is required like the other five.
		return []Problem{{"IBM_CLOUD_APIKEY", "required, not set"}}
	case !profile:
		return nil
	case explicitKey:
		return []Problem{{"IBM_CLOUD_APIKEY",
			"set together with a trusted profile (APPIDGATE_IAM_PROFILE_ID or APPIDGATE_IAM_PROFILE_NAME); unset one of them"}}
	case c.IAMProfileID != "" && c.IAMProfileName != "":
		return []Problem{{"APPIDGATE_IAM_PROFILE_NAME", "set together with APPIDGATE_IAM_PROFILE_ID; set one of them"}}
	}
	c.IBMCloudAPIKey = "" // from a binding: the profile is what the operator asked for
	file := c.IAMCRTokenFile
	if file == "" {
		file = iam.DefaultCRTokenFile
	}
	if _, err := iam.ReadCRToken(file); err != nil {
		return []Problem{{"APPIDGATE_IAM_CR_TOKEN_FILE", strings.TrimPrefix(err.Error(), "iam: ") +
			" (on Code Engine, create or update the app with --trusted-profiles-enabled)"}}
	}
	return nil
}

// settingNames maps Config fields to how problems name them: environment variables or Go field names.
type settingNames struct {
	clientID, clientSecret, oauthServerURL, redirectURL, sessionKey, iamTokenURL, managementURL,
	idle, maxAge, skew, postLogout string
	backchannelLogoutPath string
	provider              providerNames
}

var envNames = settingNames{
	clientID: "APPID_CLIENT_ID", clientSecret: "APPID_CLIENT_SECRET", oauthServerURL: "APPID_OAUTH_SERVER_URL",
	redirectURL: "APPID_REDIRECT_URI", sessionKey: "SESSION_SECRET_KEY", iamTokenURL: "IAM_TOKEN_URL",
	managementURL: "APPIDGATE_MANAGEMENT_URL", idle: "APPIDGATE_SESSION_IDLE_TIMEOUT",
	maxAge: "APPIDGATE_SESSION_MAX_AGE", skew: "APPIDGATE_CLOCK_SKEW", postLogout: "APPIDGATE_POST_LOGOUT_PATH",
	backchannelLogoutPath: "APPIDGATE_BACKCHANNEL_LOGOUT_PATH",
	provider:              envProviderNames,
}

var fieldNames = settingNames{
	clientID: "ClientID", clientSecret: "ClientSecret", oauthServerURL: "OAuthServerURL",
	redirectURL: "RedirectURL", sessionKey: "SessionKeys", iamTokenURL: "IAMTokenURL",
	managementURL: "ManagementURL", idle: "SessionIdleTimeout", maxAge: "SessionMaxAge", skew: "ClockSkew",
	postLogout: "PostLogoutPath", backchannelLogoutPath: "BackchannelLogoutPath",
	provider: fieldProviderNames,
}

// problems lists what is missing or invalid in c, naming settings with names.
func (c Config) problems(names settingNames) []Problem {
	var p []Problem
	add := func(setting, format string, args ...any) {
		p = append(p, Problem{Setting: setting, Reason: fmt.Sprintf(format, args...)})
	}
	required := func(name, v string) bool {
		if v == "" {
			add(name, "required, not set")
			return false
		}
		return true
	}
	required(names.clientID, c.ClientID)
	required(names.clientSecret, c.ClientSecret)
	if required(names.oauthServerURL, c.OAuthServerURL) {
		if err := checkAbsoluteURL(c.OAuthServerURL); err != nil {
			add(names.oauthServerURL, "%v", err)
		}
	}
	if required(names.redirectURL, c.RedirectURL) {
		if err := checkAbsoluteURL(c.RedirectURL); err != nil {
			add(names.redirectURL, "%v", err)
		} else if u, _ := url.Parse(c.RedirectURL); u.Path == "" || u.Path == "/" {
			add(names.redirectURL, "expected a callback path such as https://app.example.com/afterauth, got %q",
				c.RedirectURL)
		}
	}
	if len(c.SessionKeys) == 0 {
		add(names.sessionKey, "required, not set")
	}
	for i, k := range c.SessionKeys {
		if len(k) < session.MinSecretLen {
			add(names.sessionKey, "key %d is %d bytes, expected at least %d", i+1, len(k), session.MinSecretLen)
		}
	}
	for _, u := range []struct{ name, v string }{{names.iamTokenURL, c.IAMTokenURL}, {names.managementURL, c.ManagementURL}} {
		if u.v != "" {
			if err := checkAbsoluteURL(u.v); err != nil {
				add(u.name, "%v", err)
			}
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{names.idle, c.SessionIdleTimeout}, {names.maxAge, c.SessionMaxAge}, {names.skew, c.ClockSkew}} {
		if d.v < 0 {
			add(d.name, "expected a positive duration, got %s", d.v)
		}
	}
	if c.ClockSkew > maxClockSkew {
		add(names.skew, "expected at most %s, got %s", maxClockSkew, c.ClockSkew)
	}
	if c.PostLogoutPath != "" && sanitizeReturnTo(c.PostLogoutPath) != c.PostLogoutPath {
		add(names.postLogout, "expected a same-origin path such as /noauth_route, got %q", c.PostLogoutPath)
	}
	if reason := c.backchannelLogoutPathProblem(); reason != "" {
		add(names.backchannelLogoutPath, "%s", reason)
	}
	p = append(p, c.providerProblems(names)...)
	return p
}

// checkAbsoluteURL reports whether s is an absolute http(s) URL with a host.
func checkAbsoluteURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("expected an absolute http(s) URL, got %q", s)
	}
	return nil
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	c = c.withProviderDefaults()
	if c.Provider == ProviderAppID {
		c.OAuthServerURL = strings.TrimRight(c.OAuthServerURL, "/")
		if c.IAMTokenURL == "" {
			c.IAMTokenURL = DefaultIAMTokenURL
		}
		if c.ManagementURL == "" {
			c.ManagementURL = strings.Replace(c.OAuthServerURL, "/oauth/", "/management/", 1)
		}
		c.ManagementURL = strings.TrimRight(c.ManagementURL, "/")
	}
	if !containsString(c.Scopes, "openid") {
		c.Scopes = append([]string{"openid"}, c.Scopes...)
	}
	if c.SessionIdleTimeout == 0 {
		c.SessionIdleTimeout = DefaultSessionIdleTimeout
	}
	if c.SessionMaxAge == 0 {
		c.SessionMaxAge = DefaultSessionMaxAge
	}
	if c.ClockSkew == 0 {
		c.ClockSkew = DefaultClockSkew
	}
	if c.PostLogoutPath == "" {
		c.PostLogoutPath = DefaultPostLogoutPath
	}
	if c.RevalidateInterval == 0 {
		c.RevalidateInterval = DefaultRevalidateInterval
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if c.TracerProvider == nil {
		c.TracerProvider = noop.NewTracerProvider()
	}
	return c
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// noPostRedirects returns a copy of c that follows no redirect of a POST: the token, introspection and
// revocation calls carry the client secret (in the body with client_secret_post, which a 307 would replay to any
// host). Other redirects are c's to decide, as before.
func noPostRedirects(c *http.Client) *http.Client {
	client := *c
	next := client.CheckRedirect
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if via[0].Method == http.MethodPost {
			return fmt.Errorf("appid: not following the redirect of a POST to %s", via[0].URL.Redacted())
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("appid: stopped after 10 redirects")
		}
		return nil
	}
	return &client
}
