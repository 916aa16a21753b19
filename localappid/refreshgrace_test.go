package localappid_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appidgate/appidgate/localappid"
)

// rotated logs alice in, redeems her first refresh token once, and returns the first token and the response to
// its rotation.
func rotated(t *testing.T, f *fixture) (first string, rotation tokens) {
	t.Helper()
	first = decodeTokens(t, exchange(t, f, issueCode(t, f), "")).RefreshToken
	r := refresh(t, f, first)
	if r.status != http.StatusOK {
		t.Fatalf("first rotation: %d %s", r.status, r.body)
	}
	rotation = decodeTokens(t, r)
	if rotation.RefreshToken == "" || rotation.RefreshToken == first {
		t.Fatalf("first rotation gave refresh token %q", rotation.RefreshToken)
	}
	return first, rotation
}

// wantRefused asserts that the demo client's redemption of token is refused as invalid_grant.
func wantRefused(t *testing.T, f *fixture, what, token string) {
	t.Helper()
	if r := refresh(t, f, token); r.status != http.StatusBadRequest || decodeTokens(t, r).Error != "invalid_grant" {
		t.Errorf("%s: %d %s, want 400 invalid_grant", what, r.status, r.body)
	}
}

func TestRefreshTokenReuseGrace(t *testing.T) {
	grace := localappid.DefaultRefreshTokenReuseGrace
	for _, tc := range []struct {
		name  string
		grace time.Duration // the config's; DefaultConfig's when zero, none when negative
		after time.Duration // between the rotation and the reuse
		ok    bool          // the reuse gets the successor; otherwise the family is revoked
	}{
		{name: "at once", after: 0, ok: true},
		{name: "within the grace", after: grace - time.Second, ok: true},
		{name: "at the end of the grace", after: grace, ok: true},
		{name: "after the grace", after: grace + time.Second, ok: false},
		{name: "strict rotation", grace: -1, after: 0, ok: false},
		{name: "a longer grace", grace: 2 * time.Minute, after: 90 * time.Second, ok: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(c *localappid.Config) {
				if tc.grace != 0 {
					c.RefreshTokenReuseGrace = max(tc.grace, 0)
				}
			})
			first, rotation := rotated(t, f)
			f.clock.Advance(tc.after)
			r := refresh(t, f, first)
			if !tc.ok {
				if r.status != http.StatusBadRequest || !strings.Contains(r.body, "already used") {
					t.Fatalf("reuse: %d %s, want 400 already used", r.status, r.body)
				}
				wantRefused(t, f, "the successor after a reuse outside the grace", rotation.RefreshToken)
				return
			}
			if r.status != http.StatusOK {
				t.Fatalf("reuse: %d %s, want 200", r.status, r.body)
			}
			again := decodeTokens(t, r)
			if again.RefreshToken != rotation.RefreshToken {
				t.Errorf("reuse gave refresh token %q, want the first rotation's %q", again.RefreshToken, rotation.RefreshToken)
			}
			for name, tok := range map[string]string{"access": again.AccessToken, "id": again.IDToken} {
				claims := jwtPart(t, tok, 1)
				if claims["sub"] != localappid.AliceID || claims["iat"] != float64(f.clock.Now().Unix()) {
					t.Errorf("%s token of the reuse: sub %v iat %v, want alice's, issued now", name, claims["sub"], claims["iat"])
				}
			}
			// The family goes on: the successor rotates, and then the first token's grace is over.
			r = refresh(t, f, rotation.RefreshToken)
			if r.status != http.StatusOK {
				t.Fatalf("successor after a reuse within the grace: %d %s, want 200", r.status, r.body)
			}
			newest := decodeTokens(t, r).RefreshToken
			wantRefused(t, f, "the first token once its successor rotated", first)
			wantRefused(t, f, "the newest token after that reuse", newest)
		})
	}
}

func TestRefreshTokenReuseGraceRefusals(t *testing.T) {
	t.Run("a revoked family", func(t *testing.T) {
		f := newFixture(t)
		first, rotation := rotated(t, f)
		revokeRefresh(t, f, rotation.RefreshToken)
		wantRefused(t, f, "reuse of a token of a revoked family", first)
		wantRefused(t, f, "the revoked successor", rotation.RefreshToken)
	})

	t.Run("another client", func(t *testing.T) {
		f := newFixture(t)
		first, rotation := rotated(t, f)
		r := postForm(t, http.DefaultClient, f.iss+"/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first}},
			otherClientID, otherClientSecret)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "another client") || strings.Contains(r.body, rotation.RefreshToken) {
			t.Fatalf("reuse by another client: %d %s, want 400 issued to another client", r.status, r.body)
		}
		if again := decodeTokens(t, refresh(t, f, first)); again.RefreshToken != rotation.RefreshToken {
			t.Errorf("the own client's reuse after another client's attempt gave %q, want %q", again.RefreshToken, rotation.RefreshToken)
		}
	})
}

// TestRefreshTokenReuseGraceConcurrent: replicas that share nothing redeem one refresh token at the same moment;
// all of them get the same successor, and the login lives on.
func TestRefreshTokenReuseGraceConcurrent(t *testing.T) {
	f := newFixture(t)
	first := decodeTokens(t, exchange(t, f, issueCode(t, f), "")).RefreshToken
	// A client of the test's own: connections it dialed but did not use are closed before the server is, which
	// would otherwise wait for them to send a request.
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	const n = 20
	results := make([]tokens, n)
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, f.iss+"/token",
				strings.NewReader(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first}}.Encode()))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(localappid.DemoClientID, localappid.DemoClientSecret)
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			statuses[i] = resp.StatusCode
			json.NewDecoder(resp.Body).Decode(&results[i])
		})
	}
	wg.Wait()
	for i := range n {
		if statuses[i] != http.StatusOK || results[i].RefreshToken == "" || results[i].RefreshToken != results[0].RefreshToken {
			t.Fatalf("redemption %d: %d, refresh token %q; want 200 and the same successor as the first (%q)",
				i, statuses[i], results[i].RefreshToken, results[0].RefreshToken)
		}
	}
	if r := refresh(t, f, results[0].RefreshToken); r.status != http.StatusOK {
		t.Fatalf("the shared successor: %d %s, want 200", r.status, r.body)
	}
}
