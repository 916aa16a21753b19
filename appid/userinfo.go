package appid

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
)

// userinfo asks the provider's userinfo endpoint (OpenID Connect Core §5.3) about the holder of accessToken and
// returns its claims, sub included. A refused access token is errTokenInvalid; an unreachable or failing
// endpoint, errProviderUnavailable. The caller compares sub with the id token's.
func (p *oidcProvider) userinfo(ctx context.Context, endpoint, accessToken string) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, providerCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: %v", errProviderUnavailable, err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := p.a.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: %v", errProviderUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderResponse))
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo: reading %s: %v", errProviderUnavailable, endpoint, err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w: userinfo: GET %s refused the access token with status %d", errTokenInvalid,
			endpoint, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: userinfo: GET %s: expected status 200, got %d", errProviderUnavailable, endpoint,
			resp.StatusCode)
	}
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "application/jwt" {
		return nil, fmt.Errorf("%w: userinfo: %s answers signed or encrypted JWTs; appidgate reads JSON userinfo only",
			errProviderUnavailable, endpoint)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil || claims == nil {
		return nil, fmt.Errorf("%w: userinfo: %s answered no JSON object", errProviderUnavailable, endpoint)
	}
	if sub, _ := claims["sub"].(string); sub == "" {
		return nil, fmt.Errorf("%w: userinfo: the answer of %s has no sub", errTokenInvalid, endpoint)
	}
	return claims, nil
}
