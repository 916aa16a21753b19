package localappid_test

import (
	"bufio"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
)

// TestOpenRedirectCorpus feeds mod_auth_openidc's open-redirect payloads to /authorization (as redirect_uri) and
// to the logout endpoint: the provider may only ever redirect to the demo client's loopback origins. A few
// payloads are built in, so the test bites even where the shared corpus is absent.
func TestOpenRedirectCorpus(t *testing.T) {
	t.Parallel()
	payloads := []string{
		"//example.com", "/\\example.com", "https://example.com/afterauth", "@example.com/afterauth",
		"\\@example.com/afterauth", ".example.com/afterauth", "/%2f%2fexample.com", "javascript:alert(1)//afterauth",
		"#@example.com/afterauth", "%00@example.com/afterauth",
	}
	if f, err := os.Open("../../shared/testdata/open-redirect-payloads.txt"); err != nil {
		t.Logf("shared open-redirect corpus not available (%v); using the built-in payloads only", err)
	} else {
		defer f.Close()
		for s := bufio.NewScanner(f); s.Scan(); {
			if line := s.Text(); line != "" {
				payloads = append(payloads, line)
			}
		}
	}
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
