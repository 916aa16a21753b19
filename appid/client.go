package appid

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// Client authentication methods of OAuth 2.0 discovery metadata (RFC 8414).
const (
	authClientSecretBasic = "client_secret_basic"
	authClientSecretPost  = "client_secret_post"
)

// clientSecretBasic reports whether an endpoint whose discovery metadata lists methods takes HTTP Basic client
// authentication: when it lists client_secret_basic, or lists nothing (RFC 8414's default), or lacks
// client_secret_post too (then Basic is tried, and the provider's refusal names the problem).
func clientSecretBasic(methods []string) bool {
	return len(methods) == 0 || slices.Contains(methods, authClientSecretBasic) ||
		!slices.Contains(methods, authClientSecretPost)
}

// client is the app as an OAuth 2.0 client of the provider: its id, secret and redirect URL, and the HTTP client
// its calls go through. The login's and the refresh's token requests go through oauth2Config, revocation and
// introspection through postForm, each authenticated the way its endpoint takes.
type client struct {
	id, secret  string
	redirectURL string
	http        *http.Client
	provider    provider // the login's scopes, and how the token endpoint takes client authentication
}

// newClient returns cfg's client at the provider p.
func newClient(cfg *Config, p provider) *client {
	return &client{id: cfg.ClientID, secret: cfg.ClientSecret, redirectURL: cfg.RedirectURL, http: cfg.HTTPClient,
		provider: p}
}

// oauth2Config describes the client to golang.org/x/oauth2, with the client authentication the provider takes.
func (c *client) oauth2Config(meta *providerMetadata) *oauth2.Config {
	scopes, style := c.provider.login(meta)
	return &oauth2.Config{
		ClientID:     c.id,
		ClientSecret: c.secret,
		RedirectURL:  c.redirectURL,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   meta.AuthorizationEndpoint,
			TokenURL:  meta.TokenEndpoint,
			AuthStyle: style,
		},
	}
}

// postForm POSTs form to endpoint authenticated as the client, the way methods (the endpoint's
// *_auth_methods_supported) allow: HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1), or else
// the id and secret in the form. The caller bounds ctx and closes the body.
func (c *client) postForm(ctx context.Context, endpoint string, methods []string, form url.Values) (*http.Response, error) {
	basic := clientSecretBasic(methods)
	if !basic {
		form = maps.Clone(form)
		form.Set("client_id", c.id)
		form.Set("client_secret", c.secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	}
	return c.http.Do(req)
}
