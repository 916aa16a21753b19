package localappidtest_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/localappid/localappidtest"
)

func TestLoginRequest(t *testing.T) {
	srv, err := localappid.Listen("127.0.0.1:0", localappid.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {localappid.DemoClientID}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {"http://localhost:5000/afterauth"}, "state": {"s1"}}
	resp, err := client.Get(srv.Provider().OAuthServerURL() + "/authorization?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	tests := []struct {
		name, user, password string
		wantStatus           int
		wantLocation         string
	}{
		{"right password", "alice", "alice", http.StatusFound, "http://localhost:5000/afterauth?code="},
		{"wrong password", "alice", "bob", http.StatusUnauthorized, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := localappidtest.LoginRequest(string(page), resp.Request.URL, tc.user, tc.password)
			if err != nil {
				t.Fatal(err)
			}
			got, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got.Body.Close()
			if got.StatusCode != tc.wantStatus || !strings.HasPrefix(got.Header.Get("Location"), tc.wantLocation) {
				t.Fatalf("got %d to %q, want %d to %q...", got.StatusCode, got.Header.Get("Location"), tc.wantStatus, tc.wantLocation)
			}
		})
	}
	if _, err := localappidtest.LoginRequest("<p>no form</p>", resp.Request.URL, "alice", "alice"); err == nil {
		t.Fatal("a page without a form gave a request, want an error")
	}
}
