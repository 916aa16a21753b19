package localappid_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestOutboxAccess: the outbox, whose links reset passwords, answers a loopback peer or a valid IAM token; a
// remote peer without one gets 403 with App ID's error shape and no email.
func TestOutboxAccess(t *testing.T) {
	f := newFixture(t)
	iam := iamToken(t, f)
	// A password reset puts a secret link in the outbox.
	if res := mgmt(t, f, "POST", "/cloud_directory/forgot_password", iam, `{"email":"alice@example.com"}`); res.status != http.StatusOK {
		t.Fatalf("forgot_password: %d %s", res.status, res.body)
	}
	expired := iamToken(t, f)
	f.clock.Advance(time.Minute) // the IAM tokens live 30 seconds in these tests
	fresh := iamToken(t, f)
	for _, tc := range []struct {
		name, remote, token string
		want                int
	}{
		{"loopback IPv4", "127.0.0.1:40000", "", 200},
		{"loopback 127/8", "127.9.8.7:40000", "", 200},
		{"loopback IPv6", "[::1]:40000", "", 200},
		{"remote with IAM token", "203.0.113.7:40000", fresh, 200},
		{"remote", "203.0.113.7:40000", "", 403},
		{"remote IPv6", "[2001:db8::1]:40000", "", 403},
		{"remote with expired IAM token", "203.0.113.7:40000", expired, 403},
		{"remote with made-up token", "203.0.113.7:40000", "not-a-token", 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, f.srv.URL()+"/localappid/outbox", nil)
			req.RemoteAddr = tc.remote
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			rec := httptest.NewRecorder()
			f.p.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, body)
			}
			if tc.want == 200 {
				if !strings.Contains(body, "RESET_PASSWORD") {
					t.Fatalf("outbox lacks the reset email: %s", body)
				}
				return
			}
			var e struct {
				ErrorCode string `json:"errorCode"`
				Message   string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.ErrorCode != "FORBIDDEN" || e.Message == "" ||
				strings.Contains(body, "context=") {
				t.Fatalf("refusal body %s, want App ID's FORBIDDEN JSON and no link", body)
			}
		})
	}
}
