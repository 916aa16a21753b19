package appid

import (
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/appidgate/appidgate/internal/testkit"
)

// oidcEnvVars is a valid ProviderOIDC configuration, as the README's zitadel example sets it.
func oidcEnvVars() map[string]string {
	return map[string]string{
		"APPIDGATE_PROVIDER":   "oidc",
		"APPIDGATE_ISSUER_URL": "http://localhost:9998/",
		"APPID_CLIENT_ID":      "web",
		"APPID_CLIENT_SECRET":  "secret",
		"APPID_REDIRECT_URI":   "http://localhost:5000/afterauth",
		"SESSION_SECRET_KEY":   "0123456789abcdef0123",
	}
}

func TestConfigFromLookupOIDCMode(t *testing.T) {
	t.Parallel()
	env := oidcEnvVars()
	env["APPIDGATE_ROLES_CLAIM"] = "cognito:groups"
	env["APPIDGATE_AUTH_PARAMS"] = "access_type=offline&prompt=consent"
	env["APPIDGATE_OFFLINE_ACCESS"] = "false"
	cfg, err := ConfigFromLookup(lookupFrom(env))
	if err != nil {
		t.Fatalf("ConfigFromLookup: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Provider", cfg.Provider, ProviderOIDC},
		{"OAuthServerURL (kept as given, trailing slash included)", cfg.OAuthServerURL, "http://localhost:9998/"},
		{"Scopes", strings.Join(cfg.Scopes, " "), "openid profile email"},
		{"RolesClaim", cfg.RolesClaim, "cognito:groups"},
		{"AuthParams", cfg.AuthParams.Encode(), "access_type=offline&prompt=consent"},
		{"DisableOfflineAccess", cfg.DisableOfflineAccess, true},
		{"IAMTokenURL (no IAM)", cfg.IAMTokenURL, ""},
		{"ManagementURL (no management API)", cfg.ManagementURL, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// The reference's name of the issuer works too, and App ID mode keeps its defaults.
	env = oidcEnvVars()
	env["APPID_OAUTH_SERVER_URL"] = env["APPIDGATE_ISSUER_URL"]
	if cfg, err := ConfigFromLookup(lookupFrom(env)); err != nil || cfg.OAuthServerURL != "http://localhost:9998/" {
		t.Errorf("both issuer variables, equal: %v %q", err, cfg.OAuthServerURL)
	}
	cfg, err = ConfigFromLookup(lookupFrom(validEnv()))
	if err != nil || cfg.Provider != ProviderAppID || cfg.RolesClaim != DefaultRolesClaim || strings.Join(cfg.Scopes, " ") != "openid" {
		t.Errorf("App ID defaults: %v, provider %q, roles claim %q, scopes %q", err, cfg.Provider, cfg.RolesClaim, cfg.Scopes)
	}
}

func TestConfigFromLookupNamesEveryOIDCProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string // the settings named, in order, each once
	}{
		{
			name: "oidc mode without an issuer names the generic variable",
			env:  map[string]string{"APPIDGATE_PROVIDER": "oidc"},
			want: []string{"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPIDGATE_ISSUER_URL", "APPID_REDIRECT_URI",
				"SESSION_SECRET_KEY"},
		},
		{
			name: "every provider setting wrong at once",
			env: merge(oidcEnvVars(), map[string]string{
				"APPID_OAUTH_SERVER_URL":        "https://other.example/",
				"APPIDGATE_ROLES_CLAIM":         "realm_access..roles",
				"APPIDGATE_AUTH_PARAMS":         "prompt=login&state=mine&nonce=n&prompt=none",
				"APPIDGATE_OFFLINE_ACCESS":      "sometimes",
				"APPIDGATE_LOGOUT_RETURN_PARAM": "id_token_hint",
				"IBM_CLOUD_APIKEY":              "left-over-key",
				"IAM_TOKEN_URL":                 "https://iam.cloud.ibm.com/identity/token",
				"APPIDGATE_MANAGEMENT_URL":      "https://us-south.appid.cloud.ibm.com/management/v4/t",
			}),
			want: []string{"APPIDGATE_ISSUER_URL", "APPIDGATE_OFFLINE_ACCESS", "IBM_CLOUD_APIKEY", "IAM_TOKEN_URL",
				"APPIDGATE_MANAGEMENT_URL", "APPIDGATE_LOGOUT_RETURN_PARAM", "APPIDGATE_ROLES_CLAIM",
				"APPIDGATE_AUTH_PARAMS", "APPIDGATE_AUTH_PARAMS",
				"APPIDGATE_AUTH_PARAMS"},
		},
		{
			name: "an issuer with a query",
			env:  merge(oidcEnvVars(), map[string]string{"APPIDGATE_ISSUER_URL": "https://idp.example/?tenant=a"}),
			want: []string{"APPIDGATE_ISSUER_URL"},
		},
		{
			name: "an unknown provider",
			env:  merge(validEnv(), map[string]string{"APPIDGATE_PROVIDER": "keycloak"}),
			want: []string{"APPIDGATE_PROVIDER"},
		},
		{
			name: "settings App ID mode does not use",
			env: merge(validEnv(), map[string]string{"APPIDGATE_ROLES_CLAIM": "groups", "APPIDGATE_OFFLINE_ACCESS": "0",
				"APPIDGATE_LOGOUT_RETURN_PARAM": "logout_uri"}),
			want: []string{"APPIDGATE_ROLES_CLAIM", "APPIDGATE_OFFLINE_ACCESS", "APPIDGATE_LOGOUT_RETURN_PARAM"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfigFromLookup(lookupFrom(tc.env))
			got := problemSettings(t, err)
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems name %q, want %q\n%v", got, tc.want, err)
			}
		})
	}
}

func TestNewNamesOIDCProblemsByField(t *testing.T) {
	t.Parallel()
	_, err := New(t.Context(), Config{Provider: ProviderOIDC, ClientID: "c", ClientSecret: "s",
		OAuthServerURL: "https://idp.example/", RedirectURL: "http://127.0.0.1/afterauth",
		SessionKeys: [][]byte{[]byte("0123456789abcdef")}, IBMCloudAPIKey: "k", RolesClaim: ".roles",
		AuthParams: url.Values{"redirect_uri": {"https://evil.example"}}})
	if got, want := problemSettings(t, err), []string{"IBMCloudAPIKey", "RolesClaim", "AuthParams"}; !slices.Equal(got, want) {
		t.Errorf("problems name %q, want %q", got, want)
	}
}

func TestRequestedScopes(t *testing.T) {
	t.Parallel()
	listed := &providerMetadata{ScopesSupported: []string{"openid", "profile", "email", "offline_access"}}
	unlisted := &providerMetadata{ScopesSupported: []string{"openid", "profile", "email"}}
	tests := []struct {
		name string
		cfg  Config
		meta *providerMetadata
		want string
	}{
		{"oidc, listed: asked for", Config{Provider: ProviderOIDC}, listed, "openid profile email offline_access"},
		{"oidc, not listed", Config{Provider: ProviderOIDC}, unlisted, "openid profile email"},
		{"oidc, turned off", Config{Provider: ProviderOIDC, DisableOfflineAccess: true}, listed, "openid profile email"},
		{"oidc, asked for already", Config{Provider: ProviderOIDC, Scopes: []string{"openid", "offline_access"}}, listed,
			"openid offline_access"},
		{"App ID: never added", Config{}, listed, "openid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg.withDefaults()
			scopes, _ := newProvider(&Auth{cfg: cfg}).login(tc.meta)
			if got := strings.Join(scopes, " "); got != tc.want {
				t.Errorf("scopes %q, want %q", got, tc.want)
			}
		})
	}
}

func merge(base, extra map[string]string) map[string]string {
	for k, v := range extra {
		base[k] = v
	}
	return base
}

// newFakeOIDCAuth returns a ProviderOIDC-mode Auth for f's issuer (a provider without userinfo) on clock.
func newFakeOIDCAuth(t *testing.T, f *fakeIssuer, clock *testkit.Clock) *Auth {
	t.Helper()
	a, err := New(t.Context(), Config{Provider: ProviderOIDC, ClientID: fakeClientID, ClientSecret: "fake-secret",
		OAuthServerURL: f.issuer, RedirectURL: "http://127.0.0.1:1/afterauth",
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Now: clock.Now,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestOIDCSessionFromTokens(t *testing.T) {
	t.Parallel()
	f := newFakeIssuer(t, "")
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	a := newFakeOIDCAuth(t, f, clock)
	now := clock.Now()
	idToken := f.signed(t, map[string]any{"iss": f.issuer, "aud": fakeClientID, "sub": "user-1", "nonce": "n",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "email": "u@example.com", "name": "U",
		"roles": []string{"admin"}, "sid": "provider-session"})
	login := (&oauth2.Token{AccessToken: "opaque-access", RefreshToken: "r1", ExpiresIn: 300}).WithExtra(
		map[string]any{"id_token": idToken, "scope": "openid email"})
	st, err := a.provider.session(t.Context(), login, "n", nil, now)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if st.user.ID != "user-1" || st.user.Email != "u@example.com" || strings.Join(st.user.Roles, ",") != "admin" ||
		strings.Join(st.user.Scopes, " ") != "openid email" || !st.user.ExpiresAt.Equal(now.Add(300*time.Second)) ||
		st.providerSID != "provider-session" {
		t.Fatalf("session after login: %+v (sid %q)", st.user, st.providerSID)
	}

	t.Run("refresh without an id token keeps the identity", func(t *testing.T) {
		refreshed := (&oauth2.Token{AccessToken: "opaque-access-2"}).WithExtra(map[string]any{})
		got, err := a.provider.session(t.Context(), refreshed, "", st, now)
		if err != nil {
			t.Fatal(err)
		}
		if got.user.ID != "user-1" || got.user.Email != "u@example.com" || strings.Join(got.user.Roles, ",") != "admin" ||
			strings.Join(got.user.Scopes, " ") != "openid email" || got.providerSID != "provider-session" {
			t.Errorf("refreshed session: %+v", got.user)
		}
		if want := now.Add(defaultAccessTokenLifetime); !got.user.ExpiresAt.Equal(want) {
			t.Errorf("expiry without expires_in or a new id token: %s, want %s", got.user.ExpiresAt, want)
		}
	})
	t.Run("a JWT access token for this client about another user", func(t *testing.T) {
		claims := f.accessClaims(now)
		claims["sub"] = "user-2"
		tok := (&oauth2.Token{AccessToken: f.signed(t, claims)}).WithExtra(map[string]any{"id_token": idToken})
		if _, err := a.provider.session(t.Context(), tok, "n", nil, now); !errors.Is(err, errTokenInvalid) {
			t.Errorf("got %v, want errTokenInvalid", err)
		}
	})
	t.Run("a JWT access token for another audience stays opaque", func(t *testing.T) {
		claims := f.accessClaims(now)
		claims["aud"] = []string{"https://graph.example"}
		claims["sub"] = "someone-else" // not ours to judge
		tok := (&oauth2.Token{AccessToken: f.signed(t, claims), ExpiresIn: 60}).WithExtra(map[string]any{"id_token": idToken})
		if got, err := a.provider.session(t.Context(), tok, "n", nil, now); err != nil || got.user.ID != "user-1" {
			t.Errorf("got %v, want the id token's user", err)
		}
	})
	t.Run("a login without an id token", func(t *testing.T) {
		tok := &oauth2.Token{AccessToken: "opaque"}
		if _, err := a.provider.session(t.Context(), tok, "n", nil, now); !errors.Is(err, errTokenInvalid) {
			t.Errorf("got %v, want errTokenInvalid", err)
		}
	})
}
