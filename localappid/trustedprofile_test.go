package localappid_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
)

// TestIAMTrustedProfile: the IAM endpoint exchanges a compute-resource token that a configured trusted profile
// trusts (named by id or by name) for a token the management API accepts, and refuses the rest with IAM's
// error shape.
func TestIAMTrustedProfile(t *testing.T) {
	f := newFixture(t, func(c *localappid.Config) {
		c.TrustedProfiles = []localappid.TrustedProfile{{ID: "Profile-1", Name: "roles-reader", CRTokens: []string{"cr-1", "cr-2"}}}
	})
	const grant = "urn:ibm:params:oauth:grant-type:cr-token"
	for _, tc := range []struct {
		name       string
		form       url.Values
		wantStatus int
		wantCode   string // empty: a token
	}{
		{"by id", url.Values{"grant_type": {grant}, "cr_token": {"cr-1"}, "profile_id": {"Profile-1"}}, 200, ""},
		{"by name", url.Values{"grant_type": {grant}, "cr_token": {"cr-2"}, "profile_name": {"roles-reader"}}, 200, ""},
		{"by id and name", url.Values{"grant_type": {grant}, "cr_token": {"cr-1"}, "profile_id": {"Profile-1"}, "profile_name": {"roles-reader"}}, 200, ""},
		{"id and another name", url.Values{"grant_type": {grant}, "cr_token": {"cr-1"}, "profile_id": {"Profile-1"}, "profile_name": {"other"}}, 400, "localappid_untrusted_cr_token"},
		{"unknown profile", url.Values{"grant_type": {grant}, "cr_token": {"cr-1"}, "profile_id": {"Profile-2"}}, 400, "localappid_untrusted_cr_token"},
		{"untrusted token", url.Values{"grant_type": {grant}, "cr_token": {"cr-3"}, "profile_id": {"Profile-1"}}, 400, "localappid_untrusted_cr_token"},
		{"no token", url.Values{"grant_type": {grant}, "profile_id": {"Profile-1"}}, 400, "BXNIM0109E"},
		{"no profile", url.Values{"grant_type": {grant}, "cr_token": {"cr-1"}}, 400, "BXNIM0109E"},
		{"an API key is no CR token", url.Values{"grant_type": {grant}, "cr_token": {localappid.DemoAPIKey}, "profile_id": {"Profile-1"}}, 400, "localappid_untrusted_cr_token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postForm(t, http.DefaultClient, f.p.IAMTokenURL(), tc.form, "", "")
			var v struct {
				AccessToken string `json:"access_token"`
				ErrorCode   string `json:"errorCode"`
			}
			json.Unmarshal([]byte(r.body), &v)
			if r.status != tc.wantStatus || v.ErrorCode != tc.wantCode {
				t.Fatalf("status %d body %s; want %d %q", r.status, r.body, tc.wantStatus, tc.wantCode)
			}
			if tc.wantCode != "" {
				return
			}
			if roles := mgmt(t, f, "GET", "/users/"+localappid.AliceID+"/roles", v.AccessToken, ""); roles.status != http.StatusOK {
				t.Fatalf("the management API refused the profile's token: %d %s", roles.status, roles.body)
			}
		})
	}
}

// TestTrustedProfileConfigChecked: a trusted profile must be named and trust at least one token.
func TestTrustedProfileConfigChecked(t *testing.T) {
	for _, tc := range []struct {
		name    string
		profile localappid.TrustedProfile
		want    string
	}{
		{"no id nor name", localappid.TrustedProfile{CRTokens: []string{"cr"}}, "trusted_profiles[0]: neither id nor name"},
		{"no token", localappid.TrustedProfile{ID: "Profile-1"}, "trusted_profiles[0].cr_tokens: expected one or more non-empty tokens"},
		{"an empty token", localappid.TrustedProfile{ID: "Profile-1", CRTokens: []string{""}}, "trusted_profiles[0].cr_tokens: expected one or more non-empty tokens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := localappid.DefaultConfig()
			cfg.TrustedProfiles = []localappid.TrustedProfile{tc.profile}
			if _, err := localappid.New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
