package proxy_test

import (
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// The proxy strips the client's identity headers on every request, then, for a signed-in user, sets its own
// and the signed assertion for the path the upstream will receive.
func ExampleAssertionSigner() {
	sessionKeys := [][]byte{[]byte("0123456789abcdef0123456789abcdef")} // appid.Config.SessionKeys
	upstream, _ := url.Parse("http://127.0.0.1:8000")

	keys, err := proxy.DeriveAssertionKeys(sessionKeys...) // or proxy.ParseAssertionKeys(pemFromTheEnvironment)
	if err != nil {
		log.Fatal(err)
	}
	signer, err := proxy.NewAssertionSigner(proxy.AssertionConfig{
		Issuer: "https://myapp.example.com", Audience: "http://127.0.0.1:8000", Keys: keys,
	})
	if err != nil {
		log.Fatal(err)
	}
	headers := proxy.IdentityHeaders{OAuth2Proxy: true}
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream)
		headers.Strip(pr.Out.Header)
		u, ok := appid.UserFrom(pr.In.Context())
		if !ok {
			return
		}
		headers.Set(pr.Out.Header, u, "")
		tok, err := signer.Sign(u, pr.Out.Method, pr.Out.URL.Path)
		if err != nil {
			log.Print(err) // the upstream will answer 401 without it
			return
		}
		pr.Out.Header[assertion.Header] = []string{tok}
	}}

	mux := http.NewServeMux()
	mux.Handle("GET "+assertion.JWKSPath, signer.JWKSHandler()) // open, never proxied
	mux.Handle("/", rp)                                         // behind the login check in the real proxy
	_ = mux
	// Output:
}
