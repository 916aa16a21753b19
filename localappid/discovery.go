package localappid

import "net/http"

// discoveryDocument mirrors App ID's /.well-known/openid-configuration: like App ID's, it lists no introspection,
// revocation or end-session endpoint.
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
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseISSSupported bool     `json:"authorization_response_iss_parameter_supported"`
	ProfilesEndpoint                  string   `json:"profiles_endpoint"`
	ManagementEndpoint                string   `json:"management_endpoint"`
}

// handleDiscovery serves the OpenID Provider metadata for the request's origin.
func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := p.issuer(r)
	base := p.baseURL(r)
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
		ClaimsSupported:                   []string{"iss", "aud", "exp", "tenant", "iat", "sub", "nonce", "amr", "oauth_client", "email", "name", "identities"},
		GrantTypesSupported:               []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		AuthorizationResponseISSSupported: true,
		ProfilesEndpoint:                  base,
		ManagementEndpoint:                base + p.mgmtPath,
	})
}
