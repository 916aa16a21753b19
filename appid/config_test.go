package appid

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// problemSettings returns the settings err's problems name, in order: err must be a *ConfigError whose every
// problem gives a reason.
func problemSettings(t *testing.T, err error) []string {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("want a *ConfigError, got %v", err)
	}
	var got []string
	for _, p := range ce.Problems {
		got = append(got, p.Setting)
		if p.Reason == "" {
			t.Errorf("problem of %s has no reason", p.Setting)
		}
	}
	return got
}

func validEnv() map[string]string {
	return map[string]string{
		"APPID_CLIENT_ID":        "client",
		"APPID_CLIENT_SECRET":    "secret",
		"APPID_OAUTH_SERVER_URL": "https://us-south.appid.cloud.ibm.com/oauth/v4/tenant",
		"APPID_REDIRECT_URI":     "https://app.example.com/afterauth",
		"SESSION_SECRET_KEY":     "0123456789abcdef0123",
		"IBM_CLOUD_APIKEY":       "apikey",
	}
}

func TestConfigFromLookupDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := ConfigFromLookup(lookupFrom(validEnv()))
	if err != nil {
		t.Fatalf("ConfigFromLookup: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"ManagementURL", cfg.ManagementURL, "https://us-south.appid.cloud.ibm.com/management/v4/tenant"},
		{"IAMTokenURL", cfg.IAMTokenURL, DefaultIAMTokenURL},
		{"Scopes", strings.Join(cfg.Scopes, " "), "openid"},
		{"SessionIdleTimeout", cfg.SessionIdleTimeout, DefaultSessionIdleTimeout},
		{"SessionMaxAge", cfg.SessionMaxAge, DefaultSessionMaxAge},
		{"ClockSkew", cfg.ClockSkew, DefaultClockSkew},
		{"PostLogoutPath", cfg.PostLogoutPath, "/noauth_route"},
		{"SessionKeys", len(cfg.SessionKeys), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestConfigFromLookupOptions(t *testing.T) {
	t.Parallel()
	env := validEnv()
	env["APPIDGATE_SESSION_PREVIOUS_KEYS"] = "old-key-0123456789, older-key-0123456789"
	env["APPIDGATE_SCOPES"] = "openid profile,email"
	env["APPIDGATE_SESSION_IDLE_TIMEOUT"] = "15m"
	env["APPIDGATE_INTROSPECT"] = "true"
	cfg, err := ConfigFromLookup(lookupFrom(env))
	if err != nil {
		t.Fatalf("ConfigFromLookup: %v", err)
	}
	if len(cfg.SessionKeys) != 3 || string(cfg.SessionKeys[0]) != env["SESSION_SECRET_KEY"] {
		t.Errorf("SessionKeys: want the current key first, then 2 previous; got %d keys", len(cfg.SessionKeys))
	}
	if got := strings.Join(cfg.Scopes, " "); got != "openid profile email" {
		t.Errorf("Scopes = %q", got)
	}
	if cfg.SessionIdleTimeout != 15*time.Minute || !cfg.Introspect {
		t.Errorf("idle = %s, introspect = %v", cfg.SessionIdleTimeout, cfg.Introspect)
	}
}

func TestConfigFromLookupNamesEveryProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		want []string // the settings named, in order, each once
	}{
		{
			name: "nothing set",
			env:  map[string]string{},
			want: []string{"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPID_OAUTH_SERVER_URL", "APPID_REDIRECT_URI",
				"SESSION_SECRET_KEY", "IBM_CLOUD_APIKEY"},
		},
		{
			name: "invalid values",
			env: map[string]string{
				"APPID_CLIENT_ID":                "client",
				"APPID_CLIENT_SECRET":            "secret",
				"APPID_OAUTH_SERVER_URL":         "us-south.appid.cloud.ibm.com/oauth",
				"APPID_REDIRECT_URI":             "https://app.example.com",
				"SESSION_SECRET_KEY":             "short",
				"IBM_CLOUD_APIKEY":               "key",
				"IAM_TOKEN_URL":                  "ftp://iam",
				"APPIDGATE_SESSION_IDLE_TIMEOUT": "forever",
				"APPIDGATE_SESSION_MAX_AGE":      "-1h",
				"APPIDGATE_CLOCK_SKEW":           "1h",
				"APPIDGATE_INTROSPECT":           "maybe",
				"APPIDGATE_POST_LOGOUT_PATH":     "//evil.example",
			},
			want: []string{"APPIDGATE_SESSION_IDLE_TIMEOUT", "APPIDGATE_INTROSPECT", "APPID_OAUTH_SERVER_URL",
				"APPID_REDIRECT_URI", "SESSION_SECRET_KEY", "IAM_TOKEN_URL", "APPIDGATE_SESSION_MAX_AGE",
				"APPIDGATE_CLOCK_SKEW", "APPIDGATE_POST_LOGOUT_PATH"},
		},
		{
			name: "previous keys without a current key",
			env: map[string]string{
				"APPID_CLIENT_ID":                 "client",
				"APPID_CLIENT_SECRET":             "secret",
				"APPID_OAUTH_SERVER_URL":          "https://us-south.appid.cloud.ibm.com/oauth/v4/tenant",
				"APPID_REDIRECT_URI":              "https://app.example.com/afterauth",
				"IBM_CLOUD_APIKEY":                "key",
				"APPIDGATE_SESSION_PREVIOUS_KEYS": "old-key-0123456789,short",
			},
			want: []string{"APPIDGATE_SESSION_PREVIOUS_KEYS", "SESSION_SECRET_KEY"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ConfigFromLookup(lookupFrom(tc.env))
			got := problemSettings(t, err)
			if !slices.Equal(got, tc.want) {
				t.Errorf("problems name %q, want %q", got, tc.want)
			}
		})
	}
}

// TestConfigErrorText: the error prints the problems one per line, "SETTING: reason", as users see them.
func TestConfigErrorText(t *testing.T) {
	t.Parallel()
	env := validEnv()
	delete(env, "APPID_CLIENT_SECRET")
	env["APPIDGATE_CLOCK_SKEW"] = "1h"
	_, err := ConfigFromLookup(lookupFrom(env))
	want := "appid: invalid configuration:\n" +
		"  APPID_CLIENT_SECRET: required, not set\n" +
		"  APPIDGATE_CLOCK_SKEW: expected at most 5m0s, got 1h0m0s"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	_, err := New(t.Context(), Config{ClientID: "c", RedirectURL: "http://127.0.0.1/afterauth"})
	if got, want := problemSettings(t, err), []string{"ClientSecret", "OAuthServerURL", "SessionKeys"}; !slices.Equal(got, want) {
		t.Errorf("problems name %q, want %q", got, want)
	}
}
