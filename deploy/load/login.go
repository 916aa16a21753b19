package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/localappid/localappidtest"
	"golang.org/x/oauth2"
)

// loginTimeout bounds each HTTP exchange of a login.
const loginTimeout = 10 * time.Second

// sessionCookie signs username (whose password is the same word, as for the demo users) in to the demo at base
// as a browser would: it follows the demo's redirect to the provider's login form, submits it, follows the
// callback back to /auth_route, and returns the Cookie header the browser then sends to base.
func sessionCookie(ctx context.Context, base, username string) (string, error) {
	jar, _ := cookiejar.New(nil) // never fails without options
	client := &http.Client{Jar: jar, Timeout: loginTimeout}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/auth_route", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "text/html")
	page, pageURL, status, err := fetch(client, req)
	if err != nil {
		return "", fmt.Errorf("opening %s/auth_route: %w", base, err)
	}
	login, err := localappidtest.LoginRequest(page, pageURL, username, username)
	if err != nil {
		return "", fmt.Errorf("GET %s/auth_route ended at %s with %d: %w", base, pageURL, status, err)
	}
	body, landed, status, err := fetch(client, login.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("signing in as %s: %w", username, err)
	}
	if status != http.StatusOK || landed.Path != "/auth_route" {
		return "", fmt.Errorf("signing in as %s ended at %s with %d, want 200 at /auth_route: %.200s", username, landed, status, body)
	}
	u, _ := url.Parse(base)
	var pairs []string
	for _, c := range jar.Cookies(u) {
		pairs = append(pairs, c.Name+"="+c.Value)
	}
	if len(pairs) == 0 {
		return "", fmt.Errorf("signing in as %s left no cookie for %s", username, base)
	}
	return strings.Join(pairs, "; "), nil
}

// fetch does req and returns the body (at most 1 MiB), the URL it ended at and the status.
func fetch(client *http.Client, req *http.Request) (string, *url.URL, int, error) {
	resp, err := client.Do(req)
	if err != nil {
		return "", nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", nil, 0, fmt.Errorf("reading %s: %w", resp.Request.URL, err)
	}
	return string(b), resp.Request.URL, resp.StatusCode, nil
}

// accessToken signs username in at the provider whose OAuth server URL is oauthServerURL, with the demo client's
// authorization-code flow and PKCE, as an API client of its own would, and returns the access token.
func accessToken(ctx context.Context, oauthServerURL, username string) (string, error) {
	conf := &oauth2.Config{
		ClientID:     localappid.DemoClientID,
		ClientSecret: localappid.DemoClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   oauthServerURL + "/authorization",
			TokenURL:  oauthServerURL + "/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		// Registered for the demo client on any loopback port. Nothing listens there: the code is read from the
		// redirect itself, which the client does not follow.
		RedirectURL: "http://127.0.0.1:1/afterauth",
		Scopes:      []string{"openid"},
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: loginTimeout, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Host == "127.0.0.1:1" {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	verifier := oauth2.GenerateVerifier()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, conf.AuthCodeURL("load", oauth2.S256ChallengeOption(verifier)), nil)
	if err != nil {
		return "", err
	}
	page, pageURL, status, err := fetch(client, req)
	if err != nil {
		return "", fmt.Errorf("opening the provider's login page: %w", err)
	}
	login, err := localappidtest.LoginRequest(page, pageURL, username, username)
	if err != nil {
		return "", fmt.Errorf("provider's authorization answered %d: %w", status, err)
	}
	resp, err := client.Do(login.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("signing in as %s at the provider: %w", username, err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("signing in as %s at the provider: %d to %q, want a redirect with a code",
			username, resp.StatusCode, resp.Header.Get("Location"))
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: loginTimeout})
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return "", fmt.Errorf("exchanging %s's code for tokens: %w", username, err)
	}
	return tok.AccessToken, nil
}
