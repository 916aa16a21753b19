package appidenv

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/settings"
)

// TestReadBindingKeyGivesWayToProfile: with a trusted profile set, the binding's API key is not used, and not
// refused as one set next to the profile; an explicit key next to a profile still is.
func TestReadBindingKeyGivesWayToProfile(t *testing.T) {
	token := filepath.Join(t.TempDir(), "cr-token")
	if err := os.WriteFile(token, []byte("cr-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := bindingEnv(t)
	env["APPIDGATE_IAM_PROFILE_NAME"] = "my-profile"
	env["APPIDGATE_IAM_CR_TOKEN_FILE"] = token
	s, err := Read(lookupFrom(env))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if s.Config.IBMCloudAPIKey != "" || s.Config.IAMProfileName != "my-profile" || s.Config.ClientID != sampleClientID {
		t.Errorf("Read = API key %q, profile %q, client %q; want no key, the profile and the binding's client",
			s.Config.IBMCloudAPIKey, s.Config.IAMProfileName, s.Config.ClientID)
	}
	if !slices.Contains(s.Binding.Settings, "IBM_CLOUD_APIKEY") {
		t.Errorf("binding settings %v: the binding still supplies the key it has", s.Binding.Settings)
	}

	env["IBM_CLOUD_APIKEY"] = "explicit"
	_, err = Read(lookupFrom(env))
	var ce *appid.ConfigError
	if !errors.As(err, &ce) || !slices.ContainsFunc(ce.Problems, func(p appid.Problem) bool { return p.Setting == "IBM_CLOUD_APIKEY" }) {
		t.Errorf("Read with an explicit key next to a profile = %v, want a problem naming IBM_CLOUD_APIKEY", err)
	}
}

// TestReadRedis: the Redis settings are read, and their problems come after the library's.
func TestReadRedis(t *testing.T) {
	valid := func() map[string]string {
		return map[string]string{"APPID_CLIENT_ID": "client", "APPID_CLIENT_SECRET": "secret",
			"APPID_OAUTH_SERVER_URL": "https://us-south.appid.cloud.ibm.com/oauth/v4/tenant",
			"APPID_REDIRECT_URI":     "https://app.example.com/afterauth", "SESSION_SECRET_KEY": "0123456789abcdef0123",
			"IBM_CLOUD_APIKEY": "apikey", "APPIDGATE_REDIS_URL": "redis://127.0.0.1:6379/0"}
	}
	s, err := Read(lookupFrom(valid()))
	if err != nil || s.Redis.URL != "redis://127.0.0.1:6379/0" || s.Redis.CACert != "" {
		t.Fatalf("Read = %+v, %v; want the Redis URL", s.Redis, err)
	}
	for _, tc := range []struct {
		name, url, ca string
		want          []appid.Problem
	}{
		{"not a certificate", "rediss://h:6380", "not a certificate",
			[]appid.Problem{{Setting: "SESSION_SECRET_KEY", Reason: "required, not set"},
				{Setting: "APPIDGATE_REDIS_CA_CERT", Reason: "neither PEM nor base64 of PEM"}}},
		{"no certificate block", "rediss://h:6380", "-----BEGIN X-----\nAA==\n-----END X-----\n",
			[]appid.Problem{{Setting: "SESSION_SECRET_KEY", Reason: "required, not set"},
				{Setting: "APPIDGATE_REDIS_CA_CERT", Reason: "no PEM CERTIFICATE block found"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := valid()
			delete(env, "SESSION_SECRET_KEY")
			env["APPIDGATE_REDIS_URL"], env["APPIDGATE_REDIS_CA_CERT"] = tc.url, tc.ca
			_, err := Read(lookupFrom(env))
			var ce *appid.ConfigError
			if !errors.As(err, &ce) || !slices.Equal(ce.Problems, tc.want) {
				t.Errorf("Read = %v, want problems %v", err, tc.want)
			}
		})
	}
}

// TestReadReadsTableSettings: every variable Read reads is in the settings table, as read by the serving
// commands, so that docs/configuration.md and the unknown-setting check know it.
func TestReadReadsTableSettings(t *testing.T) {
	for _, env := range []map[string]string{bindingEnv(t), {"APPIDGATE_REDIS_CA_CERT": "x"}} {
		var read []string
		Read(func(name string) (string, bool) {
			read = append(read, name)
			v, ok := env[name]
			return v, ok
		})
		for _, want := range []string{"CE_SERVICES", "APPIDGATE_REDIS_URL", "APPIDGATE_REDIS_CA_CERT", "APPID_CLIENT_ID"} {
			if !slices.Contains(read, want) {
				t.Errorf("Read does not read %s", want)
			}
		}
		for _, name := range read {
			if s, ok := settings.Lookup(name); !ok || s.ReadBy&(settings.Demo|settings.Proxy) != settings.Demo|settings.Proxy {
				t.Errorf("Read reads %s, which the settings table does not list as read by demo and proxy", name)
			}
		}
	}
}
