package appid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Limits on provider traffic.
const (
	maxProviderResponse = 1 << 20 // bytes read from any provider or management response
	providerCallTimeout = 10 * time.Second
	discoveryTimeout    = 5 * time.Second // per attempt, so that a hung provider fails a login within ~16 s
	discoveryAttempts   = 3
	discoveryBackoff    = 200 * time.Millisecond
)

// providerMetadata is the part of the discovery document that appid uses, completed with App ID's
// well-known paths for the endpoints that App ID does not list.
type providerMetadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	EndSessionEndpoint    string   `json:"end_session_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	IntrospectionEndpoint string   `json:"introspection_endpoint"`
	SigningAlgs           []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported       []string `json:"scopes_supported"`
	// How the client authenticates at each endpoint (client_secret_basic, client_secret_post, ...).
	TokenAuthMethods         []string `json:"token_endpoint_auth_methods_supported"`
	IntrospectionAuthMethods []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationAuthMethods    []string `json:"revocation_endpoint_auth_methods_supported"`

	// appIDShaped is true in App ID mode when the issuer has App ID's /oauth/v4/<tenant> form: then logout goes
	// through /cloud_directory/sso/logout and revocation and introspection live at their App ID paths.
	appIDShaped bool
}

// discovery loads the provider metadata on first use, retries transient failures, and caches the result.
// A failed load is not cached: the next caller tries again.
type discovery struct {
	issuer string
	client *http.Client
	// check checks and completes a fetched document as the provider requires (provider.checkMetadata); nil
	// accepts it as it is.
	check func(*providerMetadata) error

	group singleflight.Group
	mu    sync.Mutex
	meta  *providerMetadata
}

// errProviderUnavailable marks failures to reach the provider, which answer 503.
var errProviderUnavailable = errors.New("appid: identity provider unavailable")

// metadata returns the provider metadata, loading it when needed.
func (d *discovery) metadata(ctx context.Context) (*providerMetadata, error) {
	d.mu.Lock()
	m := d.meta
	d.mu.Unlock()
	if m != nil {
		return m, nil
	}
	v, err, _ := d.group.Do("discovery", func() (any, error) {
		// Detached from the first caller's cancellation: every waiting request shares this load. Each attempt
		// has its own timeout.
		m, err := d.loadWithRetry(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.meta = m
		d.mu.Unlock()
		return m, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*providerMetadata), nil
}

func (d *discovery) loadWithRetry(ctx context.Context) (*providerMetadata, error) {
	var err error
	for attempt := 0; attempt < discoveryAttempts; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%w: discovery: %v", errProviderUnavailable, ctx.Err())
			case <-time.After(discoveryBackoff << (attempt - 1)):
			}
		}
		var m *providerMetadata
		var retry bool
		m, retry, err = d.load(ctx)
		if err == nil {
			return m, nil
		}
		if !retry {
			break
		}
	}
	return nil, err
}

// load fetches the discovery document once; retry says whether the failure may be transient.
func (d *discovery) load(ctx context.Context) (m *providerMetadata, retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, discoveryTimeout)
	defer cancel()
	// OpenID Connect Discovery §4: the issuer, less a trailing slash, then the well-known path. The issuer itself
	// is compared exactly below, trailing slash included.
	wellKnown := strings.TrimSuffix(d.issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return nil, false, fmt.Errorf("%w: discovery: %v", errProviderUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, true, fmt.Errorf("%w: discovery: %v", errProviderUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderResponse))
	if err != nil {
		return nil, true, fmt.Errorf("%w: discovery: reading %s: %v", errProviderUnavailable, wellKnown, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode >= 500, fmt.Errorf("%w: discovery: GET %s: expected status 200, got %d",
			errProviderUnavailable, wellKnown, resp.StatusCode)
	}
	m = &providerMetadata{}
	if err := json.Unmarshal(body, m); err != nil {
		return nil, false, fmt.Errorf("%w: discovery: decoding %s: %v", errProviderUnavailable, wellKnown, err)
	}
	if m.Issuer != d.issuer {
		return nil, false, fmt.Errorf("%w: discovery: issuer mismatch, expected %q got %q", errProviderUnavailable,
			d.issuer, m.Issuer)
	}
	if m.AuthorizationEndpoint == "" || m.TokenEndpoint == "" || m.JWKSURI == "" {
		return nil, false, fmt.Errorf("%w: discovery: %s lacks authorization_endpoint, token_endpoint or jwks_uri",
			errProviderUnavailable, wellKnown)
	}
	if d.check != nil {
		if err := d.check(m); err != nil {
			return nil, false, err
		}
	}
	return m, false, nil
}
