package localappid

import (
	"net/http"
	"slices"
)

// discoveryDocument mirrors App ID's /.well-known/openid-configuration field for field: like App ID's, it lists
// no introspection, revocation or end-session endpoint and no PKCE methods (the provider still enforces PKCE when
// a client sends a challenge). Only Config.AuthorizationResponseIss adds RFC 9207's flag, and only a client with a
// back-channel logout URI adds Back-Channel Logout 1.0's two flags and the sid claim: App ID lists none of them,
// and a relying party that reads them must not think that App ID sends logout tokens.
type discoveryDocument struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ProfilesEndpoint                  string   `json:"profiles_endpoint"`
	ManagementEndpoint                string   `json:"management_endpoint"`
	ServiceDocumentation              string   `json:"service_documentation"`
	AuthorizationResponseISSSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	BackchannelLogoutSupported        bool     `json:"backchannel_logout_supported,omitempty"`
	BackchannelLogoutSessionSupported bool     `json:"backchannel_logout_session_supported,omitempty"`
}

// serviceDocumentation is the page App ID's discovery document links to.
const serviceDocumentation = "https://cloud.ibm.com/docs/appid?topic=appid-getting-started"

// handleDiscovery serves the OpenID Provider metadata for the request's origin.
func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := p.issuer(r)
	base := p.baseURL(r)
	claims := []string{"iss", "aud", "exp", "tenant", "iat", "sub", "nonce", "amr", "oauth_client", "email", "name", "identities"}
	backchannel := p.backchannelEnabled()
	if backchannel {
		claims = append(claims, "sid")
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	writeJSON(w, http.StatusOK, discoveryDocument{
		Issuer:                            iss,
		AuthorizationEndpoint:             iss + "/authorization",
		TokenEndpoint:                     iss + "/token",
		JWKSURI:                           iss + "/publickeys",
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		UserinfoEndpoint:                  iss + "/userinfo",
		ScopesSupported:                   []string{"openid"},
		ResponseTypesSupported:            []string{"code"},
		ClaimsSupported:                   claims,
		GrantTypesSupported:               slices.Clone(grantTypes),
		ProfilesEndpoint:                  base,
		ManagementEndpoint:                base + p.mgmtPath,
		ServiceDocumentation:              serviceDocumentation,
		AuthorizationResponseISSSupported: p.cfg.AuthorizationResponseIss,
		BackchannelLogoutSupported:        backchannel,
		BackchannelLogoutSessionSupported: backchannel,
	})
}
