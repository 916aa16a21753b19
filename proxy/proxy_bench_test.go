package proxy_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/proxy"
)

// BenchmarkProxy is a request through appidgate proxy on a valid session next to the same request through a
// plain httputil.ReverseProxy over the same transport, to the same loopback upstream: the difference is the
// proxy's own cost (path, rule, session, policy, identity headers, assertion). Run with
//
//	go test -run '^$' -bench Proxy -benchmem ./proxy
//
// The client side costs nothing here: the handler is called directly, the upstream answers over loopback.
func BenchmarkProxy(b *testing.B) {
	text := "This route requires authentication and authorization - Powered by IBM Cloud App ID!"
	e := newEnv(b, envOptions{upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, text)
	})})
	alice := e.newClient()
	if got := alice.login(e, "alice"); got.status != http.StatusOK {
		b.Fatalf("alice's login: %d %q", got.status, got.body)
	}
	base, _ := url.Parse(e.proxy.URL)
	var cookies []string
	for _, c := range alice.c.Jar.Cookies(base) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	up, _ := url.Parse(e.upstream.URL)
	plain := &httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(up); pr.SetXForwarded() },
		Transport: proxy.NewTransport(0, 0),
	}
	for _, bc := range []struct {
		name    string
		handler http.Handler
		path    string
	}{
		{"httputil.ReverseProxy", plain, "/auth_route"},
		{"appidgate proxy, public", e.proxy.Config.Handler, "/noauth_route"},
		{"appidgate proxy, session", e.proxy.Config.Handler, "/auth_route"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, bc.path, nil)
				req.RemoteAddr = "127.0.0.1:40000"
				req.Header.Set("Cookie", strings.Join(cookies, "; "))
				req.Header.Set("Accept", "text/html")
				rec := httptest.NewRecorder()
				bc.handler.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK || rec.Body.String() != text {
					b.Fatalf("%d %q", rec.Code, rec.Body.String())
				}
			}
		})
	}
}
