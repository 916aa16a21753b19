package localappid_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// TestOpenRedirectCorpus feeds mod_auth_openidc's open-redirect payloads to /authorization (as redirect_uri) and
// to the logout endpoint: the provider may only ever redirect to the demo client's loopback origins.
func TestOpenRedirectCorpus(t *testing.T) {
	t.Parallel()
	payloads := testkit.OpenRedirectPayloads(t)
	fx := newFixture(t)
	c := browser(t)
	checkLocation := func(t *testing.T, what, loc string) {
		t.Helper()
		if loc == "" {
			return
		}
		u, err := url.Parse(loc)
		if err != nil || u.User != nil || u.Scheme != "http" || strings.ContainsAny(loc, "\\\t\r\n ") {
			t.Fatalf("%s: redirected to %q", what, loc)
		}
		switch u.Hostname() {
		case "localhost", "127.0.0.1", "::1":
		default:
			t.Fatalf("%s: redirected off the loopback origins to %q", what, loc)
		}
	}
	for _, payload := range payloads {
		for _, candidate := range []string{payload, "http://localhost:5000" + payload, "http://127.0.0.1:5055" + payload} {
			q := authParams(candidate, "")
			r := get(t, c, fx.iss+"/authorization?"+q.Encode())
			checkLocation(t, "authorization "+candidate, r.header.Get("Location"))
			if r.status == http.StatusOK && candidate != "http://localhost:5000/afterauth" {
				t.Fatalf("authorization accepted redirect_uri %q", candidate)
			}
			lq := url.Values{"redirect_uri": {candidate}, "client_id": {localappid.DemoClientID}}
			r = get(t, c, fx.iss+"/cloud_directory/sso/logout?"+lq.Encode())
			checkLocation(t, "logout "+candidate, r.header.Get("Location"))
		}
	}
}
