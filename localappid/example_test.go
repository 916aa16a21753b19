package localappid_test

import (
	"fmt"
	"log"

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
