package appid

import (
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/settings"
)

// TestConfigFromLookupReadsTableSettings: every variable ConfigFromLookup reads is in the settings table, so that
// docs/configuration.md and the unknown-setting check know it.
func TestConfigFromLookupReadsTableSettings(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{validEnv(), oidcEnvVars(), {"CE_SERVICES": `{"appid":[]}`}} {
		var read []string
		ConfigFromLookup(func(name string) (string, bool) {
			read = append(read, name)
			v, ok := env[name]
			return v, ok
		})
		if len(read) == 0 {
			t.Fatal("ConfigFromLookup read no variable")
		}
		for _, name := range read {
			if s, ok := settings.Lookup(name); !ok || s.ReadBy&settings.Library == 0 {
				t.Errorf("ConfigFromLookup reads %s, which the settings table does not list as read by the library", name)
			}
		}
	}
}

// TestSettingsTableDefaults: the defaults docs/configuration.md shows are the ones Config applies.
func TestSettingsTableDefaults(t *testing.T) {
	t.Parallel()
	durations := map[string]time.Duration{
		"APPIDGATE_SESSION_IDLE_TIMEOUT": DefaultSessionIdleTimeout,
		"APPIDGATE_SESSION_MAX_AGE":      DefaultSessionMaxAge,
		"APPIDGATE_CLOCK_SKEW":           DefaultClockSkew,
		"APPIDGATE_REVALIDATE_INTERVAL":  DefaultRevalidateInterval,
	}
	for name, want := range durations {
		s, _ := settings.Lookup(name)
		if got, err := time.ParseDuration(s.Default); err != nil || got != want {
			t.Errorf("%s: the table's default is %q, Config's %s", name, s.Default, want)
		}
	}
	values := map[string]string{
		"APPIDGATE_POST_LOGOUT_PATH":        DefaultPostLogoutPath,
		"IAM_TOKEN_URL":                     DefaultIAMTokenURL,
		"APPIDGATE_BACKCHANNEL_LOGOUT_PATH": DefaultBackchannelLogoutPath,
		"APPIDGATE_ROLES_CLAIM":             DefaultRolesClaim,
		"APPIDGATE_PROVIDER":                ProviderAppID,
	}
	for name, want := range values {
		if s, _ := settings.Lookup(name); s.Default != want {
			t.Errorf("%s: the table's default is %q, Config's %q", name, s.Default, want)
		}
	}
}
