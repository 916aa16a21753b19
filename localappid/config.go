package localappid

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Default lifetimes, as App ID's (access 1 h, refresh 30 days) where App ID has one.
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultIDTokenTTL      = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	DefaultIAMTokenTTL     = time.Hour
	DefaultCodeTTL         = time.Minute
	// DefaultAnonymousTokenTTL is App ID's default lifetime of anonymous tokens.
	DefaultAnonymousTokenTTL = 30 * 24 * time.Hour
	DefaultSessionTTL        = time.Hour
	// DefaultBackchannelLogoutTimeout bounds a call to a client's back-channel logout URI.
	DefaultBackchannelLogoutTimeout = 5 * time.Second
	DefaultTenant                   = "local-tenant"
	// DefaultRefreshTokenReuseGrace is DefaultConfig's RefreshTokenReuseGrace, as Auth0's default reuse interval.
	DefaultRefreshTokenReuseGrace = 30 * time.Second
)

// Grant types a client may use at the token endpoint.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	// GrantPassword is the resource owner password grant for Cloud Directory users (username or email).
	GrantPassword = "password"
	// GrantJWTBearer is App ID's custom identity grant: an RS256 JWT assertion signed with a key registered in
	// CustomIdentity.
	GrantJWTBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// grantTypes are the grant types App ID's discovery lists, in its order.
var grantTypes = []string{GrantAuthorizationCode, GrantPassword, GrantRefreshToken, GrantClientCredentials, GrantJWTBearer}

// Config describes a provider: its tenant, public origin, clients, users, roles, IAM API keys and token lifetimes.
// Zero durations take the defaults above, except RefreshTokenReuseGrace, where zero means no grace.
// Sections and fields missing from a config file keep DefaultConfig's values.
type Config struct {
	// Tenant is the App ID tenant id in every path and in the tokens' tenant claim. Default "local-tenant".
	Tenant string `yaml:"tenant"`
	// BaseURL is the provider's public origin, e.g. "http://127.0.0.1:5001". Empty: each request's Host (http).
	BaseURL string `yaml:"base_url"`

	// Clients are the registered applications (at least one).
	Clients []Client `yaml:"clients"`
	// Users are the Cloud Directory users who can log in with the form.
	Users []User `yaml:"users"`
	// Roles are the App ID roles users hold, with the scopes they grant per application.
	Roles []Role `yaml:"roles"`
	// APIKeys are the IBM Cloud API keys the IAM token endpoint accepts.
	APIKeys []string `yaml:"api_keys"`
	// TrustedProfiles are the IAM trusted profiles that compute resources may assume at the IAM token endpoint
	// (grant urn:ibm:params:oauth:grant-type:cr-token), each with the compute-resource tokens it trusts.
	TrustedProfiles []TrustedProfile `yaml:"trusted_profiles"`
	// CustomIdentity configures App ID's custom identity grant (TokenManager.getCustomIdentityTokens).
	CustomIdentity CustomIdentity `yaml:"custom_identity"`

	// Lifetimes ("1h", "30s" in files): access and id tokens 1 h, refresh tokens 30 days, IAM tokens 1 h,
	// authorization codes 1 min.
	AccessTokenTTL  time.Duration `yaml:"access_token_ttl"`
	IDTokenTTL      time.Duration `yaml:"id_token_ttl"`
	RefreshTokenTTL time.Duration `yaml:"refresh_token_ttl"`
	IAMTokenTTL     time.Duration `yaml:"iam_token_ttl"`
	CodeTTL         time.Duration `yaml:"code_ttl"`
	// AnonymousTokenTTL is the lifetime of anonymous users' access and id tokens (idp=appid_anon). Default 30
	// days, as App ID's.
	AnonymousTokenTTL time.Duration `yaml:"anonymous_token_ttl"`
	// SessionTTL bounds the provider's own login session (its SSO cookie). Default 1 h.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// BackchannelLogoutTimeout bounds each call to a client's back-channel logout URI. Default 5 s.
	BackchannelLogoutTimeout time.Duration `yaml:"backchannel_logout_timeout"`
	// RefreshTokenReuseGrace lets a client redeem a refresh token again within this time after its rotation and get
	// the same successor refresh token (with fresh access and id tokens) instead of having the token's family
	// revoked as reused. Replicas of a relying party that share no state (cookie sessions) may redeem one token
	// twice within milliseconds; Okta's rotation grace period and Auth0's reuse interval exist for this. Zero means
	// strict rotation: any reuse revokes the family. DefaultConfig sets DefaultRefreshTokenReuseGrace (30 s).
	RefreshTokenReuseGrace time.Duration `yaml:"refresh_token_reuse_grace"`

	// AuthorizationResponseIss adds RFC 9207's iss parameter to authorization responses and its
	// authorization_response_iss_parameter_supported flag to discovery, for testing relying parties' mix-up
	// defence. Off by default: App ID sends no iss parameter and lists no such flag.
	AuthorizationResponseIss bool `yaml:"authorization_response_iss"`

	// StoreLimit caps each in-memory store (authorization codes, refresh tokens, login sessions, IAM tokens,
	// revoked access tokens). Zero means DefaultStoreLimit. At the cap, requests that need a new entry get 503
	// (OAuth temporarily_unavailable, or a busy page) until entries expire.
	StoreLimit int `yaml:"store_limit"`
	// MaxAnonymousUsers caps the anonymous users (idp=appid_anon) held at once. They are counted apart from
	// StoreLimit, so that anonymous logins never starve Cloud Directory sign-ups, and each expires
	// AnonymousTokenTTL after its last token. Zero means DefaultMaxAnonymousUsers. At the cap, anonymous logins
	// get temporarily_unavailable.
	MaxAnonymousUsers int `yaml:"max_anonymous_users"`
	// AttributeBudget bounds the bytes of all users' custom attributes together (names and values). Zero means
	// DefaultAttributeBudget. A PUT that would pass it gets 507.
	AttributeBudget int64 `yaml:"attribute_budget_bytes"`

	// PasswordHashCost is the bcrypt cost used to hash plain passwords at New. Zero means bcrypt.MinCost: this is a
	// demo and test provider, and its start-up and logins should be fast.
	PasswordHashCost int `yaml:"password_hash_cost"`

	// TemplatesDir holds an operator's templates replacing the sign-in and error pages (signin.html, error.html,
	// layout.html, style.css; see the README); New refuses a template that does not parse. Empty: the built-in
	// pages. ShowUsers lists, on the sign-in page, each user with a plain Password, with that password and the
	// user's roles: for the demo data only. Neither is loaded from a file.
	TemplatesDir string `yaml:"-"`
	ShowUsers    bool   `yaml:"-"`

	// SigningKey, when set, is the first signing key instead of a freshly generated one (tests share one key to
	// save RSA key generation time). Never loaded from a file.
	SigningKey *rsa.PrivateKey `yaml:"-"`
	// Now is the clock; nil means time.Now. Never loaded from a file.
	Now func() time.Time `yaml:"-"`
	// Logger receives the failures of back-channel logout calls; nil means slog.Default(). Never loaded from a
	// file.
	Logger *slog.Logger `yaml:"-"`
}

// Client is a registered application (App ID's "application"): its credentials and redirect URIs.
type Client struct {
	// ID and Secret are the client credentials (APPID_CLIENT_ID, APPID_CLIENT_SECRET).
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
	// Name is shown on the login page.
	Name string `yaml:"name"`
	// RedirectURIs are matched exactly, except as LoopbackAnyPort allows.
	RedirectURIs []string `yaml:"redirect_uris"`
	// LoopbackAnyPort lets a registered http loopback redirect URI (localhost, 127.0.0.1, [::1]) match any loopback
	// host and any port with the same path, as RFC 8252 section 7.3 allows for native and local clients.
	LoopbackAnyPort bool `yaml:"loopback_any_port"`
	// GrantTypes this client may use; empty allows all of App ID's: authorization_code, password, refresh_token,
	// client_credentials and urn:ietf:params:oauth:grant-type:jwt-bearer.
	GrantTypes []string `yaml:"grant_types"`
	// BackchannelLogoutURI, when set, is where the provider POSTs a logout token (OpenID Connect Back-Channel
	// Logout 1.0) when a user signed in to this client logs out at the provider (the SSO logout) or an operator
	// ends the user's sessions (EndUserSessions); the id tokens of this client then carry a sid claim naming the
	// provider's login session, and its refresh tokens of that session are revoked at the SSO logout. App ID
	// has no such setting: without it the client sees App ID's behaviour.
	BackchannelLogoutURI string `yaml:"backchannel_logout_uri"`
}

// User is a Cloud Directory user. ID is App ID's profile id and the tokens' sub.
type User struct {
	// ID is the profile id and sub; use a UUID-shaped value, as App ID does. Empty: a stable UUID-shaped id
	// derived from the username (or, without one, the email), case-insensitively, so it survives restarts.
	ID string `yaml:"id"`
	// Username and Email both log in (case-insensitively); at least one is required.
	Username string `yaml:"username"`
	Email    string `yaml:"email"`
	// Name is the display name in the id token and profile.
	Name string `yaml:"name"`
	// Password is the plain password, hashed with bcrypt at New. Use PasswordHash to keep plain text out of files.
	Password string `yaml:"password"`
	// PasswordHash is a bcrypt hash; it wins over Password.
	PasswordHash string `yaml:"password_hash"`
	// Roles are role names (or role ids) the user holds.
	Roles []string `yaml:"roles"`
	// Claims are custom claims added to the user's id and access tokens, as App ID adds custom attributes that
	// its token configuration maps into tokens: JSON values of any kind ("groups": ["admins"], "realm_access":
	// {"roles": [...]}, "cognito:groups": [...]). The names the tokens set themselves (reservedClaims) are refused.
	Claims map[string]any `yaml:"claims"`
	// Attributes seed the user's custom attributes, which apps read and write through the profiles API
	// ({profiles_endpoint}/api/v1/attributes) with the user's access token: JSON values of any kind. At most
	// MaxAttributes of them, each value at most MaxAttributeBytes as JSON.
	Attributes map[string]any `yaml:"attributes"`
}

// reservedClaims are the claim names localappid's tokens set, or that only serve token verification: a user's
// custom claims may not use them.
var reservedClaims = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "tenant", "scope", "email",
	"email_verified", "name", "nonce", "auth_time", "identities", "amr", "at_hash", "c_hash", "sid", "azp", "events"}

// TrustedProfile is an IAM trusted profile that compute resources may assume with a compute-resource token.
type TrustedProfile struct {
	// ID is the profile's id (Profile-...), Name its name; a request may name it by either.
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// CRTokens are the compute-resource tokens the profile trusts, standing in for IAM's trust rules.
	CRTokens []string `yaml:"cr_tokens"`
}

// CustomIdentity is App ID's custom identity configuration: the public keys whose private halves sign the
// assertions of the jwt-bearer grant.
type CustomIdentity struct {
	// PublicKeys are PEM-encoded RSA public keys ("PUBLIC KEY" or "RSA PUBLIC KEY"). Empty: the grant is refused.
	PublicKeys []string `yaml:"public_keys"`
}

// Role is an App ID role: a name and the scopes it grants per application (client id).
type Role struct {
	// ID is used by the management API; empty gives a stable id derived from Name.
	ID          string `yaml:"id"`
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Access lists the scopes granted per application; they appear in access tokens as "<application_id>/<scope>".
	Access []RoleAccess `yaml:"access"`
}

// RoleAccess lists the scopes a role grants for one application (the application's client id).
type RoleAccess struct {
	// ApplicationID is the client id of the application the scopes are for.
	ApplicationID string `yaml:"application_id"`
	// Scopes are plain scope names without "/".
	Scopes []string `yaml:"scopes"`
}

// Documented demo identities. The user ids are fixed so that relying parties and tests can name them.
const (
	DemoClientID     = "appidgate-demo"
	DemoClientSecret = "appidgate-demo-secret"
	DemoAPIKey       = "local-apikey"
	AliceID          = "a11ce000-0000-4000-8000-000000000001"
	BobID            = "b0b00000-0000-4000-8000-000000000002"
	CarolID          = "ca201000-0000-4000-8000-000000000003"
	UserRoleID       = "00000000-0000-4000-8000-00000000a001"
	AdminRoleID      = "00000000-0000-4000-8000-00000000a002"
)

// DefaultConfig returns the documented demo provider: tenant local-tenant, client appidgate-demo, API key
// local-apikey, and users alice/alice (role user), bob/bob (no role), carol/carol (roles user and admin).
//
// The demo client's redirect URIs are http://localhost:5000/afterauth (the login callback) and
// http://localhost:5000/noauth_route (where the demo returns after the SSO logout), and LoopbackAnyPort is on, so
// both paths match on any loopback host and port (127.0.0.1, [::1], localhost) and the demo runs on any port.
func DefaultConfig() Config {
	return Config{
		Tenant: DefaultTenant,
		Clients: []Client{{
			ID:              DemoClientID,
			Secret:          DemoClientSecret,
			Name:            "appidgate demo",
			RedirectURIs:    []string{"http://localhost:5000/afterauth", "http://localhost:5000/noauth_route"},
			LoopbackAnyPort: true,
		}},
		Users: []User{
			{ID: AliceID, Username: "alice", Email: "alice@example.com", Name: "Alice", Password: "alice", Roles: []string{"user"}},
			{ID: BobID, Username: "bob", Email: "bob@example.com", Name: "Bob", Password: "bob"},
			{ID: CarolID, Username: "carol", Email: "carol@example.com", Name: "Carol", Password: "carol", Roles: []string{"user", "admin"}},
		},
		Roles: []Role{
			{ID: UserRoleID, Name: "user", Description: "may view", Access: []RoleAccess{{ApplicationID: DemoClientID, Scopes: []string{"view"}}}},
			{ID: AdminRoleID, Name: "admin", Description: "may administer", Access: []RoleAccess{{ApplicationID: DemoClientID, Scopes: []string{"view", "admin"}}}},
		},
		APIKeys:                []string{DemoAPIKey},
		RefreshTokenReuseGrace: DefaultRefreshTokenReuseGrace,
	}
}

// withUserIDs gives every user without an id one derived from its login name. The users slice is copied, so the
// caller's Config is left as it was.
func (c Config) withUserIDs() Config {
	c.Users = slices.Clone(c.Users)
	for i, u := range c.Users {
		if u.ID != "" {
			continue
		}
		login := u.Username
		if login == "" {
			login = u.Email
		}
		if login != "" {
			c.Users[i].ID = derivedUserID(login)
		}
	}
	return c
}

// derivedUserID is a stable, UUID-shaped id for a login name (lower-cased, as logins match).
func derivedUserID(login string) string {
	return uuidShaped("localappid user " + strings.ToLower(login))
}

// withDefaults fills zero durations and an empty tenant.
func (c Config) withDefaults() Config {
	if c.Tenant == "" {
		c.Tenant = DefaultTenant
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&c.AccessTokenTTL, DefaultAccessTokenTTL}, {&c.IDTokenTTL, DefaultIDTokenTTL},
		{&c.RefreshTokenTTL, DefaultRefreshTokenTTL}, {&c.IAMTokenTTL, DefaultIAMTokenTTL},
		{&c.CodeTTL, DefaultCodeTTL}, {&c.SessionTTL, DefaultSessionTTL}, {&c.AnonymousTokenTTL, DefaultAnonymousTokenTTL},
		{&c.BackchannelLogoutTimeout, DefaultBackchannelLogoutTimeout},
	} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if c.StoreLimit == 0 {
		c.StoreLimit = DefaultStoreLimit
	}
	if c.MaxAnonymousUsers == 0 {
		c.MaxAnonymousUsers = DefaultMaxAnonymousUsers
	}
	if c.AttributeBudget == 0 {
		c.AttributeBudget = DefaultAttributeBudget
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// validate reports every problem with the configuration at once, each naming the field (as in the file).
func (c Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !tenantPattern.MatchString(c.Tenant) {
		bad("tenant: %q must be 1-64 letters, digits, '.', '_' or '-'", c.Tenant)
	}
	if c.BaseURL != "" {
		if err := checkOrigin(c.BaseURL); err != nil {
			bad("base_url: %v", err)
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"access_token_ttl", c.AccessTokenTTL}, {"id_token_ttl", c.IDTokenTTL}, {"refresh_token_ttl", c.RefreshTokenTTL},
		{"iam_token_ttl", c.IAMTokenTTL}, {"code_ttl", c.CodeTTL}, {"session_ttl", c.SessionTTL},
		{"anonymous_token_ttl", c.AnonymousTokenTTL},
	} {
		if d.v < 0 || (d.v > 0 && d.v < time.Second) {
			bad("%s: %v is not a positive lifetime of at least 1s (write a unit, e.g. 1h or 30s)", d.name, d.v)
		}
	}
	if c.BackchannelLogoutTimeout < 0 {
		bad("backchannel_logout_timeout: %v is negative (0 means the default, %v)", c.BackchannelLogoutTimeout,
			DefaultBackchannelLogoutTimeout)
	}
	if c.RefreshTokenReuseGrace < 0 {
		bad("refresh_token_reuse_grace: %v is negative (0 turns the grace off)", c.RefreshTokenReuseGrace)
	}
	if c.StoreLimit < 0 {
		bad("store_limit: %d is negative (0 means the default, %d)", c.StoreLimit, DefaultStoreLimit)
	}
	if c.MaxAnonymousUsers < 0 {
		bad("max_anonymous_users: %d is negative (0 means the default, %d)", c.MaxAnonymousUsers, DefaultMaxAnonymousUsers)
	}
	if c.AttributeBudget < 0 {
		bad("attribute_budget_bytes: %d is negative (0 means the default, %d)", c.AttributeBudget, DefaultAttributeBudget)
	}
	if c.PasswordHashCost != 0 && (c.PasswordHashCost < 4 || c.PasswordHashCost > 31) {
		bad("password_hash_cost: %d is outside bcrypt's 4..31", c.PasswordHashCost)
	}

	if len(c.Clients) == 0 {
		bad("clients: at least one client is required")
	}
	clientIDs := map[string]bool{}
	for i, cl := range c.Clients {
		at := fmt.Sprintf("clients[%d]", i)
		switch {
		case cl.ID == "":
			bad("%s.id: missing", at)
		case clientIDs[cl.ID]:
			bad("%s.id: %q is used twice", at, cl.ID)
		}
		clientIDs[cl.ID] = true
		if cl.Secret == "" {
			bad("%s.secret: missing", at)
		}
		for j, u := range cl.RedirectURIs {
			if err := checkRedirectURI(u); err != nil {
				bad("%s.redirect_uris[%d]: %v", at, j, err)
			}
		}
		if cl.BackchannelLogoutURI != "" {
			if err := checkRedirectURI(cl.BackchannelLogoutURI); err != nil {
				bad("%s.backchannel_logout_uri: %v", at, err)
			}
		}
		for j, g := range cl.GrantTypes {
			if !slices.Contains(grantTypes, g) {
				bad("%s.grant_types[%d]: %q is not one of %s", at, j, g, strings.Join(grantTypes, ", "))
			}
		}
	}

	roleNames := map[string]bool{}
	roleIDs := map[string]bool{}
	for i, r := range c.Roles {
		at := fmt.Sprintf("roles[%d]", i)
		if r.Name == "" {
			bad("%s.name: missing", at)
		} else if roleNames[r.Name] {
			bad("%s.name: %q is used twice", at, r.Name)
		}
		roleNames[r.Name] = true
		if r.ID != "" {
			if roleIDs[r.ID] {
				bad("%s.id: %q is used twice", at, r.ID)
			}
			roleIDs[r.ID] = true
		}
		for j, a := range r.Access {
			if a.ApplicationID == "" {
				bad("%s.access[%d].application_id: missing", at, j)
			}
			for k, s := range a.Scopes {
				if s == "" || strings.ContainsAny(s, " /") {
					bad("%s.access[%d].scopes[%d]: %q must be non-empty without spaces or '/'", at, j, k, s)
				}
			}
		}
	}

	userIDs := map[string]bool{}
	logins := map[string]bool{}
	for i, u := range c.Users {
		at := fmt.Sprintf("users[%d]", i)
		switch {
		case u.ID == "":
			bad("%s.id: missing", at)
		case userIDs[u.ID]:
			bad("%s.id: %q is used twice", at, u.ID)
		}
		userIDs[u.ID] = true
		if u.Username == "" && u.Email == "" {
			bad("%s: needs a username or an email to log in with", at)
		}
		for _, login := range []string{strings.ToLower(u.Username), strings.ToLower(u.Email)} {
			if login == "" {
				continue
			}
			if logins[login] {
				bad("%s: login name %q is used twice", at, login)
			}
			logins[login] = true
		}
		if u.Password == "" && u.PasswordHash == "" {
			bad("%s.password: missing (or give password_hash)", at)
		}
		if u.PasswordHash != "" && !strings.HasPrefix(u.PasswordHash, "$2") {
			bad("%s.password_hash: not a bcrypt hash", at)
		}
		for j, r := range u.Roles {
			if !roleNames[r] && !roleIDs[r] {
				bad("%s.roles[%d]: %q is not a role name or id in roles", at, j, r)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(u.Claims)) {
			if name == "" {
				bad("%s.claims: a claim without a name", at)
			} else if slices.Contains(reservedClaims, name) {
				bad("%s.claims: %q is not a custom claim name (the tokens set %s)", at, name, strings.Join(reservedClaims, ", "))
			} else if _, err := json.Marshal(u.Claims[name]); err != nil {
				bad("%s.claims.%s: not a JSON value: %v", at, name, err)
			}
		}
		if len(u.Attributes) > MaxAttributes {
			bad("%s.attributes: %d attributes, at most %d", at, len(u.Attributes), MaxAttributes)
		}
		for _, name := range slices.Sorted(maps.Keys(u.Attributes)) {
			if !validAttributeName(name) {
				bad("%s.attributes: %q is not an attribute name (1-%d letters, digits, '.', '_' or '-')", at, name, maxAttributeNameLen)
			} else if b, err := json.Marshal(u.Attributes[name]); err != nil {
				bad("%s.attributes.%s: not a JSON value: %v", at, name, err)
			} else if len(b) > MaxAttributeBytes {
				bad("%s.attributes.%s: %d bytes as JSON, at most %d", at, name, len(b), MaxAttributeBytes)
			}
		}
	}
	for i, k := range c.CustomIdentity.PublicKeys {
		if _, err := parseRSAPublicKey(k); err != nil {
			bad("custom_identity.public_keys[%d]: %v", i, err)
		}
	}
	for i, k := range c.APIKeys {
		if k == "" {
			bad("api_keys[%d]: empty", i)
		}
	}
	for i, tp := range c.TrustedProfiles {
		if tp.ID == "" && tp.Name == "" {
			bad("trusted_profiles[%d]: neither id nor name", i)
		}
		if len(tp.CRTokens) == 0 || slices.Contains(tp.CRTokens, "") {
			bad("trusted_profiles[%d].cr_tokens: expected one or more non-empty tokens", i)
		}
	}
	return errors.Join(errs...)
}

// checkOrigin accepts an http(s) origin without path, query or fragment.
func checkOrigin(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must be an origin like http://host:port (no path)", s)
	}
	return nil
}

// checkRedirectURI accepts an absolute http(s) URI without fragment, as OAuth requires.
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return fmt.Errorf("%q must be an absolute http(s) URL without fragment", s)
	}
	return nil
}
