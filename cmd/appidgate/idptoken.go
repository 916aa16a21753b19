package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/localappid/localappidtest"
)

const idpTokenUsage = `usage: appidgate idp token [--url URL] [--password PASSWORD] USER

Signs USER in at a running local provider (appidgate idp, or the one appidgate demo starts) and prints an
access token on one line, for the demo's API:

  TOKEN=$(appidgate idp token alice)
  curl -H "Authorization: Bearer $TOKEN" http://localhost:5000/api/auth_route

It signs in with the demo client (appidgate-demo) as a browser would, through the provider's login form and the
authorization code flow with PKCE: the local provider has no password grant, as App ID has none.

flags:
`

// defaultIdPURL is where `appidgate idp` listens unless told otherwise.
const defaultIdPURL = "http://127.0.0.1:5001"

// runIdPToken runs `appidgate idp token`. It returns 0 with the token printed, 1 when the provider cannot be
// reached or refuses the sign-in, and 2 for bad usage.
func runIdPToken(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("appidgate idp token", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var providerURL, password string
	fs.StringVar(&providerURL, "url", cmp.Or(e.getenv("APPIDGATE_IDP_URL"), defaultIdPURL),
		"the local provider's origin or OAuth server URL [APPIDGATE_IDP_URL]")
	fs.StringVar(&password, "password", "", "USER's password (default: the user name, as in the demo data)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(e.stdout, idpTokenUsage)
			fs.SetOutput(e.stdout)
			fs.PrintDefaults()
			return 0
		}
		fmt.Fprintf(e.stderr, "appidgate idp token: %v\nrun 'appidgate idp token --help' for usage\n", err)
		return 2
	}
	if fs.NArg() != 1 {
		// The arguments are not echoed: a --password after USER is one of them, and would land in a CI log.
		fmt.Fprintf(e.stderr, "appidgate idp token: expected one user name after the flags, got %d arguments\n"+
			"run 'appidgate idp token --help' for usage\n", fs.NArg())
		return 2
	}
	user := fs.Arg(0)
	oauthServerURL, err := localOAuthServerURL(providerURL)
	if err != nil {
		fmt.Fprintf(e.stderr, "appidgate idp token: --url: %v\n", err)
		return 2
	}
	token, err := signInForToken(ctx, oauthServerURL, user, cmp.Or(password, user))
	if err != nil {
		fmt.Fprintf(e.stderr, "appidgate idp token: %v\n", err)
		return 1
	}
	fmt.Fprintln(e.stdout, token)
	return 0
}

// localOAuthServerURL accepts the local provider's origin (http://127.0.0.1:5001, for the demo data's tenant) or
// its OAuth server URL (http://127.0.0.1:5001/oauth/v4/TENANT) and returns the OAuth server URL.
func localOAuthServerURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("expected the provider's URL, such as %s, got %q", defaultIdPURL, s)
	}
	path := strings.TrimSuffix(u.Path, "/")
	switch {
	case path == "":
		return u.Scheme + "://" + u.Host + "/oauth/v4/" + localappid.DefaultConfig().Tenant, nil
	case strings.HasPrefix(path, "/oauth/v4/") && strings.Count(path, "/") == 3:
		return u.Scheme + "://" + u.Host + path, nil
	default:
		return "", fmt.Errorf("expected an origin such as %s or an OAuth server URL ending in /oauth/v4/TENANT, got %q", defaultIdPURL, s)
	}
}

// signInForToken signs username in at the local provider with the demo client's authorization code flow and PKCE,
// submitting the login form as a browser would, and returns the access token.
func signInForToken(ctx context.Context, oauthServerURL, username, password string) (string, error) {
	conf := &oauth2.Config{
		ClientID:     localappid.DemoClientID,
		ClientSecret: localappid.DemoClientSecret,
		Endpoint: oauth2.Endpoint{AuthURL: oauthServerURL + "/authorization", TokenURL: oauthServerURL + "/token",
			AuthStyle: oauth2.AuthStyleInHeader},
		// The demo client accepts its redirect URI's path on any loopback port. Nothing listens there: the code
		// is read from the redirect itself.
		RedirectURL: "http://127.0.0.1:1/afterauth",
		Scopes:      []string{"openid"},
	}
	jar, _ := cookiejar.New(nil) // never fails without options
	client := &http.Client{Jar: jar, Timeout: outboundTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	ctx, cancel := context.WithTimeout(ctx, 3*outboundTimeout)
	defer cancel()
	verifier := oauth2.GenerateVerifier()
	state := oauth2.GenerateVerifier()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = ue.Err // the URL, with its PKCE challenge, says nothing useful here
		}
		return "", fmt.Errorf("cannot reach the local provider at %s (is appidgate idp or appidgate demo running? "+
			"give its URL with --url or APPIDGATE_IDP_URL): %w", oauthServerURL, err)
	}
	page, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return "", fmt.Errorf("reading the login page of %s: %w", oauthServerURL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("the provider at %s answered the sign-in with %s, want its login page "+
			"(does it know the demo client %s?)", oauthServerURL, resp.Status, localappid.DemoClientID)
	}
	login, err := localappidtest.LoginRequest(string(page), resp.Request.URL, username, password)
	if err != nil {
		return "", fmt.Errorf("the provider at %s served no login form: %w", oauthServerURL, err)
	}
	resp, err = client.Do(login.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("signing in at %s: %w", oauthServerURL, err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	code := ""
	if loc != nil && loc.Query().Get("state") == state {
		code = loc.Query().Get("code")
	}
	if code == "" {
		return "", fmt.Errorf("signing in as %q was refused (status %d): wrong user name or password?", username, resp.StatusCode)
	}
	tok, err := conf.Exchange(context.WithValue(ctx, oauth2.HTTPClient, client), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return "", fmt.Errorf("exchanging the code at %s/token: %w", oauthServerURL, err)
	}
	return tok.AccessToken, nil
}
