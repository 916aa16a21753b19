package deploy

import (
	"slices"
	"strings"
	"testing"
)

// TestRotateSessionKey runs the rotation against the fake CLI: the secret first keeps sealing with the current
// key and accepts the new one, a new revision rolls out and is waited for, and only then does the secret seal
// with the new key and accept the old one, with a second roll-out.
func TestRotateSessionKey(t *testing.T) {
	r := runScript(t, fullEnv(), "rotate-session-key", "--app", "web")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	rollOut := []string{"ce", "application", "update", "--name", "web", "--wait", "--wait-timeout", "600"}
	want := [][]string{
		{"ce", "project", "select", "--name", "appidgate-proj"},
		{"ce", "secret", "update", "--name", "appidgate-app-secret",
			"--from-literal", "SESSION_SECRET_KEY=" + sessionKey, "--from-literal", "APPIDGATE_SESSION_PREVIOUS_KEYS=" + newKey},
		rollOut,
		{"ce", "secret", "update", "--name", "appidgate-app-secret",
			"--from-literal", "SESSION_SECRET_KEY=" + newKey, "--from-literal", "APPIDGATE_SESSION_PREVIOUS_KEYS=" + sessionKey},
		rollOut,
	}
	if !slices.EqualFunc(r.calls, want, slices.Equal) {
		t.Errorf("ibmcloud calls:\n%q\nwant:\n%q", r.calls, want)
	}
	for _, w := range []string{"step 1 of 2", "step 2 of 2", "--rm APPIDGATE_SESSION_PREVIOUS_KEYS"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not say %q:\n%s", w, r.stderr)
		}
	}
	for _, s := range secrets {
		if strings.Contains(r.stderr+r.stdout, s) {
			t.Errorf("output shows secret %q", s)
		}
	}
}

// TestRotateSessionKeyStopsWhenRevisionFails: a first step whose revision never becomes ready must not be
// followed by the second, which would seal sessions with a key the running instances lack.
func TestRotateSessionKeyStopsWhenRevisionFails(t *testing.T) {
	r := runScript(t, merge(fullEnv(), map[string]string{"FAKE_UPDATE_FAILS": "1"}), "rotate-session-key")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	secretUpdates := 0
	for _, c := range r.calls {
		if len(c) > 2 && c[1] == "secret" && c[2] == "update" {
			secretUpdates++
		}
	}
	if secretUpdates != 1 {
		t.Errorf("%d secret updates, want only step 1's", secretUpdates)
	}
	if !strings.Contains(r.stderr, "step 1 of 2: the new revision of appidgate-app did not become ready") {
		t.Errorf("stderr does not name the failed step:\n%s", r.stderr)
	}
}

func TestRotateSessionKeyGeneratesNewKey(t *testing.T) {
	env := fullEnv()
	delete(env, "NEW_SESSION_KEY")
	r := runScript(t, env, "rotate-session-key")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "NEW_SESSION_KEY not set: generated a random 32-byte key") {
		t.Errorf("stderr does not say the key was generated:\n%s", r.stderr)
	}
	var generated string
	for _, a := range slices.Concat(r.calls...) {
		if v, ok := strings.CutPrefix(a, "APPIDGATE_SESSION_PREVIOUS_KEYS="); ok && v != sessionKey {
			generated = v
		}
	}
	if len(generated) < 32 || strings.Contains(r.stderr+r.stdout, generated) {
		t.Errorf("generated key %q: want at least 32 characters, never printed", generated)
	}
}

func TestRotateSessionKeyRefusals(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no current key", map[string]string{"SESSION_SECRET_KEY": ""}, "SESSION_SECRET_KEY (--session-key): missing"},
		{"same key", map[string]string{"NEW_SESSION_KEY": sessionKey}, "NEW_SESSION_KEY (--new-session-key): the same as SESSION_SECRET_KEY"},
		{"short new key", map[string]string{"NEW_SESSION_KEY": "short"}, "NEW_SESSION_KEY (--new-session-key): expected at least 16 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runScript(t, merge(fullEnv(), tc.env), "rotate-session-key")
			if r.code != 2 || len(r.calls) != 0 {
				t.Fatalf("exit %d after %d calls, want 2 before any; stderr:\n%s", r.code, len(r.calls), r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, r.stderr)
			}
		})
	}
}
