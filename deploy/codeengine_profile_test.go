package deploy

import (
	"slices"
	"strings"
	"testing"
)

// TestTrustedProfile: with --trusted-profile, the apps are created with --trusted-profiles-enabled and the
// profile id, and the app secret holds no API key (it remains the registry's password), in the dry run as in a
// run.
func TestTrustedProfile(t *testing.T) {
	const profile = "Profile-0123abcd"
	tests := []struct {
		name, command string
		env           map[string]string
		created       string // the app the command creates
	}{
		{"app-create", "app-create", fullEnv(), "appidgate-app"},
		{"all", "all", fullEnv(), "appidgate-app"},
		{"proxy-two", "proxy-two", merge(fullEnv(), map[string]string{"UPSTREAM_IMAGE": "us.icr.io/myns/myapp:1",
			"FAKE_UPSTREAM_URL": "http://myapp.abc.svc.cluster.local"}), "myapp-proxy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dry := runScript(t, tc.env, "--dry-run", "--trusted-profile", profile, tc.command)
			if dry.code != 0 {
				t.Fatalf("dry run: exit %d, stderr:\n%s", dry.code, dry.stderr)
			}
			assertDryRun(t, dry)
			real := runScript(t, merge(tc.env, map[string]string{"APPIDGATE_IAM_PROFILE_ID": profile}), tc.command)
			if real.code != 0 {
				t.Fatalf("run: exit %d, stderr:\n%s", real.code, real.stderr)
			}
			var create []string
			for _, call := range real.calls {
				if strings.Join(call[:min(3, len(call))], " ") == "ce application create" && slices.Contains(call, tc.created) {
					create = call
				}
				if strings.Join(call[:min(3, len(call))], " ") == "ce secret create" {
					for _, a := range call {
						if strings.HasPrefix(a, "IBM_CLOUD_APIKEY=") {
							t.Errorf("the app secret holds the API key with a trusted profile: %q", call)
						}
					}
				}
			}
			joined := strings.Join(create, " ")
			if !strings.Contains(joined, "--trusted-profiles-enabled --env APPIDGATE_IAM_PROFILE_ID="+profile) {
				t.Errorf("%s was created with %q, want --trusted-profiles-enabled and the profile id", tc.created, joined)
			}
			if !strings.Contains(dry.stdout, "--trusted-profiles-enabled --env APPIDGATE_IAM_PROFILE_ID="+profile) {
				t.Errorf("the dry run does not show the trusted profile:\n%s", dry.stdout)
			}
		})
	}
	// Without the flag nothing changes: the key goes into the secret and no app asks for a profile.
	r := runScript(t, fullEnv(), "all")
	joined := strings.Join(slices.Concat(r.calls...), " ")
	if strings.Contains(joined, "trusted-profiles-enabled") || !strings.Contains(joined, "IBM_CLOUD_APIKEY="+apiKey) {
		t.Errorf("without --trusted-profile: %s", joined)
	}
}
