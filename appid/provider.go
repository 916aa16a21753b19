package appid

import (
	"cmp"
	"context"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// provider is what differs between IBM Cloud App ID and a generic OpenID Connect provider (Config.Provider):
// how tokens become a session or a bearer request's user, where roles come from, what the login asks for and
// how logout ends the provider's session. appIDProvider and oidcProvider implement it; nothing else in the
// package asks which provider is in use.
type provider interface {
	// session verifies the tokens of a login (nonce non-empty, prev nil) or of a refresh of prev (nonce empty)
	// and builds the session state from them, without an id: the caller names it.
	session(ctx context.Context, tok *oauth2.Token, nonce string, prev *sessionState, now time.Time) (*sessionState, error)
	// refreshed carries over into renewed (a refresh of prev) what the refresh's tokens do not tell again.
	refreshed(renewed, prev *sessionState)
	// bearerUser verifies a bearer access token and returns its user, shared by the requests that carry it; cache
	// says whether the caller should cache it until it expires.
	bearerUser(ctx context.Context, raw string) (u *User, cache bool, err error)
	// login returns the scopes of the authorization request and how the client authenticates at the token
	// endpoint.
	login(meta *providerMetadata) ([]string, oauth2.AuthStyle)
	// logoutURL is where the browser goes to end its session at the provider, to come back to back; "" when the
	// provider offers no way.
	logoutURL(meta *providerMetadata, idToken, back string) string
	// checkMetadata checks (and completes) the provider's discovery document.
	checkMetadata(m *providerMetadata) error
}

// newProvider returns the provider that a.cfg.Provider names (checked by Config.validate).
func newProvider(a *Auth) provider {
	if a.cfg.Provider == ProviderOIDC {
		return &oidcProvider{a: a}
	}
	return newAppIDProvider(a)
}

// endSessionURL is a listed end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0) with
// post_logout_redirect_uri (or the parameter Config.LogoutReturnParam names), client_id and, when the session
// kept it, the id token as id_token_hint; "" without one. cfg gives the client id and Config.LogoutReturnParam.
func endSessionURL(cfg *Config, meta *providerMetadata, idToken, back string) string {
	if meta.EndSessionEndpoint == "" {
		return ""
	}
	u, err := url.Parse(meta.EndSessionEndpoint)
	if err != nil {
		return ""
	}
	q := u.Query() // an endpoint may carry parameters of its own
	q.Set(cmp.Or(cfg.LogoutReturnParam, "post_logout_redirect_uri"), back)
	q.Set("client_id", cfg.ClientID)
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
