package appidenv

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/appid"
)

func lookupFrom(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

// ceServicesSample is testdata/ce_services.json: the shape of IBM's example of CE_SERVICES with an App ID and an
// Object Storage binding, with fake values. Source: IBM Cloud Docs, "Working with service bindings to integrate
// IBM Cloud services with Code Engine", section "CE_SERVICES method"
// (https://cloud.ibm.com/docs/codeengine?topic=codeengine-service-binding#ce-services; the same text is
// service-bind.md in github.com/ibm-cloud-docs/codeengine, lastupdated 2022-08-16).
func ceServicesSample(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/ce_services.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The sample's App ID credentials.
const (
	sampleClientID   = "0f0e0d0c-0000-4000-8000-00000000c11e"
	sampleSecret     = "ZmFrZS1zZWNyZXQtbm90LWEtcmVhbC1vbmU"
	sampleOAuthURL   = "https://us-south.appid.cloud.ibm.com/oauth/v4/00000000-0000-4000-8000-00000000feed"
	sampleManagement = "https://us-south.appid.cloud.ibm.com/management/v4/00000000-0000-4000-8000-00000000feed"
	sampleAPIKey     = "fake-apikey-0000000000000000000000000000"
)

// bindingEnv is what a Code Engine app bound to App ID has: CE_SERVICES, and from its secret and --env only
// what a binding cannot give.
func bindingEnv(t *testing.T) map[string]string {
	return map[string]string{
		"CE_SERVICES":        ceServicesSample(t),
		"APPID_REDIRECT_URI": "https://app.example.com/afterauth",
		"SESSION_SECRET_KEY": "0123456789abcdef0123",
	}
}

// withAppID returns the sample with its appid list replaced by entries (JSON), or removed when entries is "".
func withAppID(t *testing.T, entries string) string {
	t.Helper()
	var services map[string]json.RawMessage
	if err := json.Unmarshal([]byte(ceServicesSample(t)), &services); err != nil {
		t.Fatal(err)
	}
	if entries == "" {
		delete(services, "appid")
	} else {
		services["appid"] = json.RawMessage(entries)
	}
	b, err := json.Marshal(services)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConfigFromCEServices(t *testing.T) {
	all := []string{"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPID_OAUTH_SERVER_URL", "APPIDGATE_MANAGEMENT_URL",
		"IBM_CLOUD_APIKEY"}
	tests := []struct {
		name         string
		env          map[string]string // over bindingEnv
		wantBinding  string            // the binding's name; "" when none is read
		wantSettings []string
		want         appid.Config // the App ID fields expected
	}{
		{name: "binding alone", wantBinding: "my-appid", wantSettings: all,
			want: appid.Config{ClientID: sampleClientID, ClientSecret: sampleSecret, OAuthServerURL: sampleOAuthURL,
				ManagementURL: sampleManagement, IBMCloudAPIKey: sampleAPIKey}},
		{name: "explicit API key wins over the binding's",
			env:         map[string]string{"IBM_CLOUD_APIKEY": "my-own-key"},
			wantBinding: "my-appid", wantSettings: all[:4],
			want: appid.Config{ClientID: sampleClientID, ClientSecret: sampleSecret, OAuthServerURL: sampleOAuthURL,
				ManagementURL: sampleManagement, IBMCloudAPIKey: "my-own-key"}},
		{name: "explicit management URL wins",
			env:         map[string]string{"APPIDGATE_MANAGEMENT_URL": "https://mgmt.example.com/management/v4/t"},
			wantBinding: "my-appid", wantSettings: []string{all[0], all[1], all[2], all[4]},
			want: appid.Config{ClientID: sampleClientID, ClientSecret: sampleSecret, OAuthServerURL: sampleOAuthURL,
				ManagementURL: "https://mgmt.example.com/management/v4/t", IBMCloudAPIKey: sampleAPIKey}},
		{name: "explicit App ID variables win, the binding is not read",
			env: map[string]string{"APPID_CLIENT_ID": "c", "APPID_CLIENT_SECRET": "s", "IBM_CLOUD_APIKEY": "k",
				"APPID_OAUTH_SERVER_URL": "https://eu-de.appid.cloud.ibm.com/oauth/v4/other"},
			want: appid.Config{ClientID: "c", ClientSecret: "s", OAuthServerURL: "https://eu-de.appid.cloud.ibm.com/oauth/v4/other",
				ManagementURL: "https://eu-de.appid.cloud.ibm.com/management/v4/other", IBMCloudAPIKey: "k"}},
		{name: "explicit App ID variables win even over a broken CE_SERVICES",
			env: map[string]string{"APPID_CLIENT_ID": "c", "APPID_CLIENT_SECRET": "s", "IBM_CLOUD_APIKEY": "k",
				"APPID_OAUTH_SERVER_URL": "https://eu-de.appid.cloud.ibm.com/oauth/v4/other", "CE_SERVICES": "{"},
			want: appid.Config{ClientID: "c", ClientSecret: "s", OAuthServerURL: "https://eu-de.appid.cloud.ibm.com/oauth/v4/other",
				ManagementURL: "https://eu-de.appid.cloud.ibm.com/management/v4/other", IBMCloudAPIKey: "k"}},
		{name: "binding without apikey needs IBM_CLOUD_APIKEY",
			env: map[string]string{"IBM_CLOUD_APIKEY": "k", "CE_SERVICES": withAppID(t,
				`[{"name":"a","credentials":{"clientId":"c","secret":"s","oauthServerUrl":"https://us-south.appid.cloud.ibm.com/oauth/v4/t"}}]`)},
			wantBinding: "a", wantSettings: all[:3],
			want: appid.Config{ClientID: "c", ClientSecret: "s", OAuthServerURL: "https://us-south.appid.cloud.ibm.com/oauth/v4/t",
				ManagementURL: "https://us-south.appid.cloud.ibm.com/management/v4/t", IBMCloudAPIKey: "k"}},
		{name: "an unnamed binding is named by its place",
			env: map[string]string{"IBM_CLOUD_APIKEY": "k", "CE_SERVICES": withAppID(t,
				`[{"credentials":{"clientId":"c","secret":"s","oauthServerUrl":"https://us-south.appid.cloud.ibm.com/oauth/v4/t"}}]`)},
			wantBinding: "appid[0]", wantSettings: all[:3],
			want: appid.Config{ClientID: "c", ClientSecret: "s", OAuthServerURL: "https://us-south.appid.cloud.ibm.com/oauth/v4/t",
				ManagementURL: "https://us-south.appid.cloud.ibm.com/management/v4/t", IBMCloudAPIKey: "k"}},
		{name: "values are trimmed",
			env: map[string]string{"CE_SERVICES": withAppID(t,
				`[{"name":"a","credentials":{"clientId":" c ","secret":"s\n","oauthServerUrl":"https://us-south.appid.cloud.ibm.com/oauth/v4/t","apikey":" k"}}]`)},
			wantBinding: "a", wantSettings: []string{all[0], all[1], all[2], all[4]},
			want: appid.Config{ClientID: "c", ClientSecret: "s", OAuthServerURL: "https://us-south.appid.cloud.ibm.com/oauth/v4/t",
				ManagementURL: "https://us-south.appid.cloud.ibm.com/management/v4/t", IBMCloudAPIKey: "k"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := bindingEnv(t)
			for k, v := range tc.env {
				env[k] = v
			}
			s, err := Read(lookupFrom(env))
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			cfg := s.Config
			got := appid.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, OAuthServerURL: cfg.OAuthServerURL,
				ManagementURL: cfg.ManagementURL, IBMCloudAPIKey: cfg.IBMCloudAPIKey}
			if got.ClientID != tc.want.ClientID || got.ClientSecret != tc.want.ClientSecret ||
				got.OAuthServerURL != tc.want.OAuthServerURL || got.ManagementURL != tc.want.ManagementURL ||
				got.IBMCloudAPIKey != tc.want.IBMCloudAPIKey {
				t.Errorf("App ID settings %+v, want %+v", got, tc.want)
			}
			b, err := CEServicesBinding(lookupFrom(env))
			if err != nil {
				t.Fatalf("CEServicesBinding: %v", err)
			}
			if b.Name != tc.wantBinding || !slices.Equal(b.Settings, tc.wantSettings) {
				t.Errorf("CEServicesBinding = %+v, want %q with %v", b, tc.wantBinding, tc.wantSettings)
			}
			if s.Binding.Name != b.Name || !slices.Equal(s.Binding.Settings, b.Settings) {
				t.Errorf("Read's binding = %+v, CEServicesBinding's %+v", s.Binding, b)
			}
		})
	}
}

// TestCEServicesIgnoredForOtherProviders: with APPIDGATE_PROVIDER naming another provider, an App ID binding
// supplies nothing, even with every App ID variable unset.
func TestCEServicesIgnoredForOtherProviders(t *testing.T) {
	for provider, used := range map[string]bool{"": true, "appid": true, "AppID": true, "oidc": false, "keycloak": false} {
		env := bindingEnv(t)
		env["APPIDGATE_PROVIDER"] = provider
		b, err := CEServicesBinding(lookupFrom(env))
		if err != nil || (b.Name != "") != used {
			t.Errorf("APPIDGATE_PROVIDER=%q: CEServicesBinding = %+v, %v; want the binding used: %v", provider, b, err, used)
		}
	}
}

func TestConfigFromCEServicesNoAppIDBinding(t *testing.T) {
	for name, services := range map[string]string{
		"other services only": withAppID(t, ""),
		"empty appid list":    withAppID(t, `[]`),
		"null appid list":     withAppID(t, `null`),
		"empty object":        `{}`,
		"blank":               "  ",
	} {
		t.Run(name, func(t *testing.T) {
			env := bindingEnv(t)
			env["CE_SERVICES"] = services
			b, err := CEServicesBinding(lookupFrom(env))
			if err != nil || b.Name != "" || b.Settings != nil {
				t.Errorf("CEServicesBinding = %+v, %v; want none", b, err)
			}
			// Without a binding the App ID variables are missing, as they always were.
			_, err = Read(lookupFrom(env))
			var ce *appid.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Read: %v, want a ConfigError", err)
			}
			for _, want := range []string{"APPID_CLIENT_ID", "APPID_CLIENT_SECRET", "APPID_OAUTH_SERVER_URL", "IBM_CLOUD_APIKEY"} {
				if !slices.ContainsFunc(ce.Problems, func(p appid.Problem) bool { return p.Setting == want }) {
					t.Errorf("problems %v do not name %s", ce.Problems, want)
				}
			}
			if slices.ContainsFunc(ce.Problems, func(p appid.Problem) bool { return p.Setting == "CE_SERVICES" }) {
				t.Errorf("problems %v name CE_SERVICES", ce.Problems)
			}
		})
	}
}

func TestConfigFromCEServicesProblems(t *testing.T) {
	two := withAppID(t, `[{"name":"appid-dev","credentials":{"clientId":"a","secret":"b","oauthServerUrl":"https://x/oauth/v4/t"}},`+
		`{"name":"appid-prod","credentials":{"clientId":"c","secret":"d","oauthServerUrl":"https://y/oauth/v4/t"}}]`)
	tests := []struct {
		name string
		env  map[string]string // over bindingEnv
		want []string          // in the CE_SERVICES problem
		also []string          // other settings the error must name
	}{
		{"malformed JSON", map[string]string{"CE_SERVICES": `{"appid": [`}, []string{"expected Code Engine's JSON object", "invalid JSON at byte 11"}, nil},
		{"not an object", map[string]string{"CE_SERVICES": `["appid"]`}, []string{"expected Code Engine's JSON object", "found a JSON array"}, nil},
		{"appid not a list", map[string]string{"CE_SERVICES": `{"appid": {"name": "x"}}`}, []string{"appid: expected a list of bindings", "found a JSON object"}, nil},
		{"credential of the wrong type", map[string]string{"CE_SERVICES": `{"appid": [{"name": "x", "credentials": {"clientId": 7}}]}`},
			[]string{"appid: expected a list", "credentials.clientId is a JSON number"}, nil},
		{"two bindings", map[string]string{"CE_SERVICES": two}, []string{`2 App ID bindings ("appid-dev", "appid-prod")`, "unbind all but one"}, nil},
		{"binding without credentials", map[string]string{"CE_SERVICES": withAppID(t, `[{"name":"bare"}]`)},
			[]string{`App ID binding "bare" lacks credentials.clientId, credentials.secret, credentials.oauthServerUrl`}, nil},
		{"binding without secret", map[string]string{"CE_SERVICES": withAppID(t, `[{"name":"s","credentials":{"clientId":"c","secret":" ","oauthServerUrl":"https://x/oauth/v4/t"}}]`)},
			[]string{`App ID binding "s" lacks credentials.secret`}, nil},
		{"some variables set", map[string]string{"APPID_CLIENT_ID": "mine"},
			[]string{`App ID binding "my-appid" not used since APPID_CLIENT_ID is set`, "or none of them"},
			[]string{"APPID_CLIENT_SECRET", "APPID_OAUTH_SERVER_URL"}},
		{"two variables set", map[string]string{"APPID_CLIENT_ID": "mine", "APPID_OAUTH_SERVER_URL": "https://x/oauth/v4/t"},
			[]string{"since APPID_CLIENT_ID and APPID_OAUTH_SERVER_URL are set"},
			[]string{"APPID_CLIENT_SECRET"}},
		{"binding problems and others at once", map[string]string{"CE_SERVICES": two, "SESSION_SECRET_KEY": ""},
			[]string{"2 App ID bindings"}, []string{"SESSION_SECRET_KEY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := bindingEnv(t)
			for k, v := range tc.env {
				env[k] = v
			}
			_, err := Read(lookupFrom(env))
			var ce *appid.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Read: %v, want a ConfigError", err)
			}
			i := slices.IndexFunc(ce.Problems, func(p appid.Problem) bool { return p.Setting == "CE_SERVICES" })
			if i < 0 {
				t.Fatalf("problems do not name CE_SERVICES:\n%v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(ce.Problems[i].Reason, w) {
					t.Errorf("CE_SERVICES problem %q lacks %q", ce.Problems[i].Reason, w)
				}
			}
			for _, s := range tc.also {
				if !slices.ContainsFunc(ce.Problems, func(p appid.Problem) bool { return p.Setting == s }) {
					t.Errorf("problems do not name %s:\n%v", s, err)
				}
			}
			for _, secret := range []string{sampleSecret, sampleAPIKey, "\"b\"", "\"d\""} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("the error shows the credential %s:\n%v", secret, err)
				}
			}
			if _, berr := CEServicesBinding(lookupFrom(env)); berr == nil || !strings.Contains(berr.Error(), tc.want[0]) {
				t.Errorf("CEServicesBinding: %v, want the same problem", berr)
			}
		})
	}
}
