package appid

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/appidgate/appidgate/internal/settings"
)

// Provider modes, the values of Config.Provider.
const (
	// ProviderAppID is IBM Cloud App ID, as the reference app uses it: roles from the management API (with
	// IBMCloudAPIKey), App ID's logout and revocation paths, access tokens that are JWTs for this client.
	ProviderAppID = "appid"
	// ProviderOIDC is any OpenID Connect provider: the id token proves who the user is, roles come from
	// RolesClaim, access tokens may be opaque, and every endpoint comes from discovery.
	ProviderOIDC = "oidc"
)

// DefaultRolesClaim is the claim path of roles when Config.RolesClaim is empty.
const DefaultRolesClaim = "roles"

// scopeOfflineAccess asks an OpenID Connect provider for a refresh token (OpenID Connect Core §11).
const scopeOfflineAccess = "offline_access"

// reservedAuthParams are the authorization request's own parameters, which Config.AuthParams cannot set; also
// acr_values and max_age, which would need the id token's acr and auth_time checked against them (the user can
// strip them from the authorization URL), and response_mode, as the callback takes only the query.
var reservedAuthParams = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
	"code_challenge", "code_challenge_method", "request", "request_uri", "acr_values", "max_age", "response_mode"}

// providerNames names the provider-mode settings in problems: environment variables or Config fields.
type providerNames struct {
	provider, rolesClaim, authParams, offlineAccess, logoutParam, apiKey string
}

var (
	envProviderNames = providerNames{provider: "APPIDGATE_PROVIDER", rolesClaim: "APPIDGATE_ROLES_CLAIM",
		authParams: "APPIDGATE_AUTH_PARAMS", offlineAccess: "APPIDGATE_OFFLINE_ACCESS",
		logoutParam: "APPIDGATE_LOGOUT_RETURN_PARAM", apiKey: "IBM_CLOUD_APIKEY"}
	fieldProviderNames = providerNames{provider: "Provider", rolesClaim: "RolesClaim", authParams: "AuthParams",
		offlineAccess: "DisableOfflineAccess", logoutParam: "LogoutReturnParam", apiKey: "IBMCloudAPIKey"}
)

// readProviderEnv reads the provider-mode settings into cfg through r: APPIDGATE_PROVIDER, APPIDGATE_ISSUER_URL
// (another name for APPID_OAUTH_SERVER_URL), APPIDGATE_ROLES_CLAIM, APPIDGATE_AUTH_PARAMS,
// APPIDGATE_OFFLINE_ACCESS and APPIDGATE_LOGOUT_RETURN_PARAM.
// It returns the variable that problems with the issuer should name, and passes the problems of values that do
// not parse to add, in the order r reports its own; Config.providerProblems checks the rest.
func readProviderEnv(r *settings.Reader, cfg *Config, add func(Problem)) (issuerVar string) {
	cfg.Provider = strings.ToLower(r.String("APPIDGATE_PROVIDER"))
	cfg.RolesClaim = r.String("APPIDGATE_ROLES_CLAIM")
	cfg.LogoutReturnParam = r.String("APPIDGATE_LOGOUT_RETURN_PARAM")
	issuerVar = "APPID_OAUTH_SERVER_URL"
	if alias := r.String("APPIDGATE_ISSUER_URL"); alias != "" {
		switch {
		case cfg.OAuthServerURL == "":
			cfg.OAuthServerURL, issuerVar = alias, "APPIDGATE_ISSUER_URL"
		case cfg.OAuthServerURL != alias:
			add(Problem{"APPIDGATE_ISSUER_URL", fmt.Sprintf(
				"%q differs from APPID_OAUTH_SERVER_URL %q; set one of them", alias, cfg.OAuthServerURL)})
		}
	} else if cfg.OAuthServerURL == "" && cfg.Provider == ProviderOIDC {
		issuerVar = "APPIDGATE_ISSUER_URL"
	}
	if cfg.RolesClaim != "" && cfg.Provider != ProviderOIDC && cfg.IBMCloudAPIKey != "" {
		add(Problem{"APPIDGATE_ROLES_CLAIM",
			"not used: with IBM_CLOUD_APIKEY, App ID roles come from the management API (APPIDGATE_PROVIDER=oidc reads roles from a claim)"})
	}
	if s := r.String("APPIDGATE_AUTH_PARAMS"); s != "" {
		params, err := url.ParseQuery(s)
		if err != nil {
			add(Problem{"APPIDGATE_AUTH_PARAMS",
				fmt.Sprintf("expected a query string such as access_type=offline&prompt=consent, got %q", s)})
		}
		cfg.AuthParams = params
	}
	if v, ok := r.Bool("APPIDGATE_OFFLINE_ACCESS"); ok {
		cfg.DisableOfflineAccess = !v
	}
	return issuerVar
}

// providerProblems lists what is wrong with the provider-mode settings of c, and with the App ID settings that
// ProviderOIDC mode does not use (set, they would suggest roles come from where they do not).
func (c Config) providerProblems(names settingNames) []Problem {
	n := names.provider
	var p []Problem
	add := func(setting, format string, args ...any) {
		p = append(p, Problem{Setting: setting, Reason: fmt.Sprintf(format, args...)})
	}
	switch c.Provider {
	case "", ProviderAppID:
		if c.DisableOfflineAccess {
			add(n.offlineAccess, "only used when %s is %s", n.provider, ProviderOIDC)
		}
		if c.LogoutReturnParam != "" {
			add(n.logoutParam, "only used when %s is %s", n.provider, ProviderOIDC)
		}
	case ProviderOIDC:
		unused := []struct{ name, v string }{
			{n.apiKey, c.IBMCloudAPIKey}, {names.iamTokenURL, c.IAMTokenURL}, {names.managementURL, c.ManagementURL}}
		for _, u := range unused {
			if u.v != "" {
				add(u.name, "not used when %s is %s (no IAM, no management API: roles come from the %s claim); unset it",
					n.provider, ProviderOIDC, cmp.Or(c.RolesClaim, DefaultRolesClaim))
			}
		}
		if u, err := url.Parse(c.OAuthServerURL); err == nil && (u.RawQuery != "" || u.Fragment != "") {
			add(names.oauthServerURL, "an issuer has no query or fragment, got %q", c.OAuthServerURL)
		} else if err == nil && u.Scheme == "http" && !loopbackHost(u.Hostname()) {
			// Discovery and the signing keys would come over plaintext: anyone on the way could forge every token.
			add(names.oauthServerURL, "expected an https issuer (http only on a loopback host), got %q", c.OAuthServerURL)
		}
	default:
		add(n.provider, "expected %s or %s, got %q", ProviderAppID, ProviderOIDC, c.Provider)
	}
	if param := c.LogoutReturnParam; param != "" && (!validParamName(param) || param == "client_id" ||
		param == "id_token_hint" || param == "state") {
		add(n.logoutParam, "expected a parameter name such as logout_uri, got %q", param)
	}
	switch {
	case c.RolesClaim != "" && !validClaimPath(c.RolesClaim):
		add(n.rolesClaim, "expected a claim name or a dotted path such as realm_access.roles, got %q", c.RolesClaim)
	case slices.Contains(profileClaims, c.RolesClaim):
		add(n.rolesClaim, "%q is a profile claim that users can often edit themselves; name the claim that holds "+
			"roles or groups", c.RolesClaim)
	}
	for _, k := range slices.Sorted(maps.Keys(c.AuthParams)) {
		switch {
		case k == "" || slices.Contains(reservedAuthParams, k):
			add(n.authParams, "cannot set %q, a parameter appidgate sets itself", k)
		case len(c.AuthParams[k]) != 1:
			add(n.authParams, "%q is given %d times, expected once", k, len(c.AuthParams[k]))
		}
	}
	return p
}

// profileClaims are OpenID Connect Core §5.1's profile claims, which providers often let users edit: never roles.
var profileClaims = []string{"sub", "name", "given_name", "family_name", "middle_name", "nickname",
	"preferred_username", "profile", "picture", "website", "email", "email_verified", "gender", "birthdate",
	"zoneinfo", "locale", "phone_number", "phone_number_verified", "address", "updated_at"}

// loopbackHost reports whether host (no port) is localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// validClaimPath reports whether path names a claim: no blank, no empty segment between dots.
func validClaimPath(path string) bool {
	if strings.ContainsAny(path, " \t\r\n") {
		return false
	}
	for seg := range strings.SplitSeq(path, ".") {
		if seg == "" {
			return false
		}
	}
	return true
}

// validParamName reports whether name is a plain query parameter name: letters, digits, "_", "-" and ".".
func validParamName(name string) bool {
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return false
		}
	}
	return name != ""
}

// withProviderDefaults fills the provider-mode settings left zero: App ID mode, the "roles" claim, and in
// ProviderOIDC mode the scopes that ask for the user's name and email.
func (c Config) withProviderDefaults() Config {
	if c.Provider == "" {
		c.Provider = ProviderAppID
	}
	if c.RolesClaim == "" {
		c.RolesClaim = DefaultRolesClaim
	}
	if c.Provider == ProviderOIDC && len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email"}
	}
	return c
}
