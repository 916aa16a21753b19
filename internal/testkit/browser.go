package testkit

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/appidgate/appidgate/localappid/localappidtest"
)

// Browser is an HTTP client that behaves like a person's browser for the flows under test: it keeps cookies per
// site, asks for HTML unless a request says otherwise, and signs in on localappid's login page. Failures to send a
// request or read its answer end the test.
type Browser struct {
	// Client is the browser's HTTP client, with its cookie jar; use it directly for what Browser does not do.
	Client *http.Client
	t      testing.TB
}

// Page is an answer as the browser ended up with it.
type Page struct {
	// Status is the HTTP status code.
	Status int
	// Body is the body, read in full (up to 4 MiB).
	Body string
	// URL is where the request ended up after any redirects the browser followed.
	URL *url.URL
	// Header holds the answer's headers.
	Header http.Header
}

// NewBrowser returns a browser with an empty cookie jar that follows redirects across sites (to the provider and
// back), as a person's browser does, and gives up on a request after 10 seconds.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("testkit: cookie jar: %v", err)
	}
	return &Browser{t: t, Client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
}

// NewStepBrowser returns a browser like NewBrowser's that stops at every redirect and returns it, so that a test
// sees each 302 and its Location.
func NewStepBrowser(t testing.TB) *Browser {
	t.Helper()
	b := NewBrowser(t)
	b.Client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b
}

// Do sends req, with Accept: text/html unless req sets its own Accept, and returns the page it ends at.
func (b *Browser) Do(req *http.Request) Page {
	b.t.Helper()
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html")
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		b.t.Fatalf("%s %s: reading the body: %v", req.Method, req.URL, err)
	}
	return Page{Status: resp.StatusCode, Body: string(body), URL: resp.Request.URL, Header: resp.Header}
}

// Get fetches u.
func (b *Browser) Get(u string) Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	return b.Do(req)
}

// SignIn fills in localappid's login form, which p must show, as username with password, submits it and returns
// the page the browser ends at. localappid's demo users (alice, bob, carol) have their name as password.
func (b *Browser) SignIn(p Page, username, password string) Page {
	b.t.Helper()
	req, err := localappidtest.LoginRequest(p.Body, p.URL, username, password)
	if err != nil {
		b.t.Fatalf("%v (status %d): %s", err, p.Status, p.Body)
	}
	return b.Do(req)
}
