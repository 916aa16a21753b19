package appid

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// introspect asks the provider whether st's access token is still active (RFC 7662), as the reference app does
// on every request. It is off unless Config.Introspect is set. Any failure counts as inactive.
func (a *Auth) introspect(ctx context.Context, st *sessionState) bool {
	ctx, cancel := context.WithTimeout(ctx, providerCallTimeout)
	defer cancel()
	meta, err := a.discovery.metadata(ctx)
	if err != nil || meta.IntrospectionEndpoint == "" {
		return false
	}
	form := url.Values{"token": {st.accessToken}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, meta.IntrospectionEndpoint,
		strings.NewReader(form.Encode()))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(a.cfg.ClientID), url.QueryEscape(a.cfg.ClientSecret))
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		a.log.WarnContext(ctx, "appid: introspection failed", "error", err)
		return false
	}
	defer resp.Body.Close()
	var answer struct {
		Active bool `json:"active"`
	}
	if resp.StatusCode != http.StatusOK ||
		json.NewDecoder(io.LimitReader(resp.Body, maxProviderResponse)).Decode(&answer) != nil {
		return false
	}
	return answer.Active
}
