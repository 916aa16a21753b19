package appid

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
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

// postClientForm POSTs form to endpoint authenticated as the client, the way methods (the endpoint's
// *_auth_methods_supported) allow: HTTP Basic with the form-encoded id and secret (RFC 6749 §2.3.1), or else
// the id and secret in the form. The caller bounds ctx and closes the body.
func (a *Auth) postClientForm(ctx context.Context, endpoint string, methods []string, form url.Values) (*http.Response, error) {
	basic := clientSecretBasic(methods)
	if !basic {
		form = maps.Clone(form)
		form.Set("client_id", a.cfg.ClientID)
		form.Set("client_secret", a.cfg.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic {
		req.SetBasicAuth(url.QueryEscape(a.cfg.ClientID), url.QueryEscape(a.cfg.ClientSecret))
	}
	return a.cfg.HTTPClient.Do(req)
}
