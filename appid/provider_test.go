package appid

import (
	"net/url"
	"testing"
)

func TestProviderLogoutURL(t *testing.T) {
	t.Parallel()
	back := "https://app.example/noauth_route"
	tests := []struct {
		name    string
		meta    providerMetadata
		param   string // Config.LogoutReturnParam
		idToken string
		want    string // "" for none
	}{
		{"App ID", providerMetadata{Issuer: "https://us-south.appid.cloud.ibm.com/oauth/v4/t", appIDShaped: true}, "", "",
			"https://us-south.appid.cloud.ibm.com/oauth/v4/t/cloud_directory/sso/logout?client_id=app&redirect_uri=" +
				url.QueryEscape(back)},
		{"end session with the id token", providerMetadata{EndSessionEndpoint: "https://idp.example/logout"}, "", "h.p.s",
			"https://idp.example/logout?client_id=app&id_token_hint=h.p.s&post_logout_redirect_uri=" + url.QueryEscape(back)},
		{"end session without an id token", providerMetadata{EndSessionEndpoint: "https://idp.example/logout"}, "", "",
			"https://idp.example/logout?client_id=app&post_logout_redirect_uri=" + url.QueryEscape(back)},
		{"an endpoint with a query of its own", providerMetadata{EndSessionEndpoint: "https://idp.example/logout?p=B2C_1"},
			"", "", "https://idp.example/logout?client_id=app&p=B2C_1&post_logout_redirect_uri=" + url.QueryEscape(back)},
		{"Amazon Cognito's parameter", providerMetadata{EndSessionEndpoint: "https://x.auth.us-east-1.amazoncognito.com/logout"},
			"logout_uri", "h.p.s", "https://x.auth.us-east-1.amazoncognito.com/logout?client_id=app&id_token_hint=h.p.s&logout_uri=" +
				url.QueryEscape(back)},
		{"neither", providerMetadata{}, "", "h.p.s", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &Auth{cfg: Config{ClientID: "app", LogoutReturnParam: tc.param}}
			p := newAppIDProvider(a)
			if got := p.logoutURL(&tc.meta, tc.idToken, back); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
