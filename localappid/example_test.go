package localappid_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/appidgate/appidgate/localappid"
)

// Listen starts the demo provider on a free loopback port; point a relying party's APPID_OAUTH_SERVER_URL at
// OAuthServerURL and its IAM_TOKEN_URL at IAMTokenURL.
func ExampleListen() {
	srv, err := localappid.Listen("127.0.0.1:0", localappid.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	p := srv.Provider()
	fmt.Println(p.OAuthServerURL() == srv.URL()+"/oauth/v4/local-tenant")
	fmt.Println(p.IAMTokenURL() == srv.URL()+"/identity/token")
	// Output:
	// true
	// true
}

// The provider serves App ID's discovery document under its OAuthServerURL: the endpoints a relying party uses,
// on the provider's own origin.
func ExampleProvider_discovery() {
	srv, err := localappid.Listen("127.0.0.1:0", localappid.DefaultConfig())
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	issuer := srv.Provider().OAuthServerURL()

	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
		TokenEndpoint         string `json:"token_endpoint"`
		JWKSURI               string `json:"jwks_uri"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, doc.Issuer == issuer)
	for _, endpoint := range []string{doc.AuthorizationEndpoint, doc.TokenEndpoint, doc.JWKSURI} {
		fmt.Println(strings.TrimPrefix(endpoint, srv.URL()))
	}
	// Output:
	// 200 true
	// /oauth/v4/local-tenant/authorization
	// /oauth/v4/local-tenant/token
	// /oauth/v4/local-tenant/publickeys
}
