package appid

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestDiscoveryIssuerComparison: in ProviderOIDC mode the issuer is compared exactly as configured and as
// published, trailing slash included; App ID mode drops a configured trailing slash, as before.
func TestDiscoveryIssuerComparison(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		provider   string
		configured string // the issuer configured, "" for the server's URL with suffix
		published  string // what discovery answers, relative to the server's URL
		wantErr    bool
	}{
		{"oidc: trailing slash on both", ProviderOIDC, "/", "/", false},
		{"oidc: no trailing slash on both", ProviderOIDC, "", "", false},
		{"oidc: configured without, published with", ProviderOIDC, "", "/", true},
		{"oidc: configured with, published without", ProviderOIDC, "/", "", true},
		{"App ID: a configured trailing slash is dropped", ProviderAppID, "/", "", false},
		{"App ID: published with a trailing slash", ProviderAppID, "", "/", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var base string
			var asked string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked = r.URL.Path
				json.NewEncoder(w).Encode(map[string]any{"issuer": base + tc.published,
					"authorization_endpoint": base + "/auth", "token_endpoint": base + "/token",
					"jwks_uri": base + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
			}))
			t.Cleanup(srv.Close)
			base = srv.URL
			cfg := Config{Provider: tc.provider, OAuthServerURL: base + tc.configured}.withDefaults()
			d := &discovery{issuer: cfg.OAuthServerURL, client: srv.Client(), check: newProvider(&Auth{cfg: cfg}).checkMetadata}
			m, err := d.metadata(t.Context())
			if (err != nil) != tc.wantErr {
				t.Fatalf("metadata: %v, want an error: %v", err, tc.wantErr)
			}
			if asked != "/.well-known/openid-configuration" {
				t.Errorf("asked for %q, want /.well-known/openid-configuration (no double slash)", asked)
			}
			if err != nil && !strings.Contains(err.Error(), "issuer mismatch") {
				t.Errorf("error %q does not say the issuer differs", err)
			}
			if err == nil && m.Issuer != cfg.OAuthServerURL {
				t.Errorf("issuer %q, want %q", m.Issuer, cfg.OAuthServerURL)
			}
		})
	}
}

func TestDiscoveryRefusesProvidersWithoutRS256InOIDCMode(t *testing.T) {
	t.Parallel()
	var base string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": base, "authorization_endpoint": base + "/auth",
			"token_endpoint": base + "/token", "jwks_uri": base + "/keys",
			"id_token_signing_alg_values_supported": []string{"ES256"}})
	}))
	t.Cleanup(srv.Close)
	base = srv.URL
	d := &discovery{issuer: base, client: srv.Client(), check: (&oidcProvider{}).checkMetadata}
	if _, err := d.metadata(t.Context()); err == nil || !strings.Contains(err.Error(), "RS256") {
		t.Errorf("metadata of an ES256-only provider: %v, want an error naming RS256", err)
	}
}
