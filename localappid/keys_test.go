package localappid_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// publishedKids returns the kids of p's JWKS, as a relying party sees them.
func publishedKids(t *testing.T, p *localappid.Provider) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth/v4/"+p.Tenant()+"/publickeys", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET publickeys: %d %s", rec.Code, rec.Body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	kids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		kids[i] = k.KeyID
	}
	return kids
}

// TestRestartWithinASecondPublishesANewKid: a provider restarted within the same second must not publish the
// old kid for its new key, or relying parties that cached the old key refuse every new token.
func TestRestartWithinASecondPublishesANewKid(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	seen := map[string]bool{}
	for i := range 3 {
		cfg := localappid.DefaultConfig()
		cfg.SigningKey = testkit.RSAKey()
		cfg.PasswordHashCost = 4
		cfg.Now = func() time.Time { return now } // every start in the same second
		p, err := localappid.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		kids := publishedKids(t, p)
		if len(kids) != 1 || kids[0] != p.CurrentKeyID() {
			t.Fatalf("start %d: JWKS kids %q, want just the current %q", i, kids, p.CurrentKeyID())
		}
		kid := kids[0]
		if prefix := "appId-" + p.Tenant() + "-"; !strings.HasPrefix(kid, prefix) || len(kid) == len(prefix) {
			t.Errorf("start %d: kid %q, want App ID's shape %s<suffix>", i, kid, prefix)
		}
		if seen[kid] {
			t.Errorf("start %d: kid %q was already published by an earlier start in the same second", i, kid)
		}
		seen[kid] = true
	}
}
