package proxy

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
)

// TestBypasses sends request lines through net/http's parser, as the proxy receives them, then CleanPath and
// Match: none of them may reach the public rule.
func TestBypasses(t *testing.T) {
	t.Parallel()
	rt, err := ParseRoutes("bypass.yaml", []byte(`
routes:
  - path: /public
    public: true
  - path: /admin
    policy: role:admin
`))
	if err != nil {
		t.Fatal(err)
	}
	targets := []string{
		"/public/../admin",
		"/public/%2e%2e/admin",
		"/public/.%2e/admin",
		"/public%2f..%2fadmin",
		"/public%2F..%2Fadmin",
		"/public/%252e%252e/admin",
		"/public%252f..%252fadmin",
		"//admin",
		"//public/../admin",
		"/./admin",
		"/admin;/public",
		"/public/..;/admin",
		"/public;/../admin",
		"/admin?x=/public",
		"/admin#/public",
		"/PUBLIC",
		"/Public/x",
		"/publicity",
		"/public%5c..%5cadmin",
		"/public%00/../admin",
		"/public%c0%af..%c0%afadmin",
		"/%EF%BD%90ublic",                  // fullwidth p
		"/publ%C4%B1c",                     // dotless i
		"/public%EF%BC%8F..%EF%BC%8Fadmin", // fullwidth solidus
		"/public/..",
		"/" + strings.Repeat("x/", 10_000) + "../public/../admin",
		"*",
		"http://evil.example/public/../admin",
	}
	for _, target := range targets {
		name := target
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			raw := "GET " + target + " HTTP/1.1\r\nHost: app.example\r\n\r\n"
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				return // net/http refuses it: it never reaches the proxy
			}
			clean, _, err := CleanPath(r.URL.EscapedPath())
			if err != nil {
				return // the proxy answers 400
			}
			if rule := rt.Match(r.Method, clean); rule.Public {
				t.Errorf("%q (clean %q) matched public rule %q", target, clean, rule.Pattern)
			}
		})
	}
	// The public route itself stays public, with a query, a trailing slash and below it.
	for _, target := range []string{"/public", "/public/", "/public/a/b?x=/admin", "/public/a/../b", "/x/../public"} {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		clean, _, err := CleanPath(r.URL.EscapedPath())
		if err != nil || !rt.Match("GET", clean).Public {
			t.Errorf("%q: clean %q, err %v: want public", target, clean, err)
		}
	}
}
