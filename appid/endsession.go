package appid

import (
	"cmp"
	"net/url"
)

// providerLogoutURL is where the browser goes to end its session at the provider once the local session has
// ended, to come back to back (an absolute URL on the app's origin): App ID's SSO logout, or a listed
// end_session_endpoint (OpenID Connect RP-Initiated Logout 1.0) with post_logout_redirect_uri (or the
// parameter Config.LogoutReturnParam names), client_id and, when the session kept it, the id token as
// id_token_hint. Without either it is "" (handleLogout then shows the signed-out page).
func (a *Auth) providerLogoutURL(meta *providerMetadata, idToken, back string) string {
	switch {
	case meta.appIDShaped:
		q := url.Values{"redirect_uri": {back}, "client_id": {a.cfg.ClientID}}
		return meta.Issuer + "/cloud_directory/sso/logout?" + q.Encode()
	case meta.EndSessionEndpoint != "":
		u, err := url.Parse(meta.EndSessionEndpoint)
		if err != nil {
			return ""
		}
		q := u.Query() // an endpoint may carry parameters of its own
		q.Set(cmp.Or(a.cfg.LogoutReturnParam, "post_logout_redirect_uri"), back)
		q.Set("client_id", a.cfg.ClientID)
		if idToken != "" {
			q.Set("id_token_hint", idToken)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	return ""
}
