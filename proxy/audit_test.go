package proxy_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/proxy"
)

// TestAuditRefusals: a refusal through the proxy and through each forward-auth endpoint writes one
// access.denied record naming the user, the policy and the original request, not the forward-auth endpoint;
// nginx's second request for the answer (ErrorPath) writes none.
func TestAuditRefusals(t *testing.T) {
	t.Parallel()
	var buf testkit.Buffer
	e := newEnv(t, envOptions{trusted: loopback, auditLog: slog.New(slog.NewJSONHandler(&buf, nil))})
	alice := e.newClient()
	if got := alice.login(e, "alice"); got.status != http.StatusOK {
		t.Fatalf("alice's login: %d", got.status)
	}
	host := strings.TrimPrefix(e.proxy.URL, "http://")
	tests := []struct {
		name       string
		requests   []string // endpoints asked, in order, about DELETE /admin/orders (the proxy: the path itself)
		wantMethod string
	}{
		{"the proxy", []string{"/admin/orders"}, "GET"},
		{"nginx: auth_request, then error_page", []string{proxy.AuthPath, proxy.ErrorPath}, "DELETE"},
		{"Traefik or Caddy", []string{proxy.VerifyPath}, "DELETE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := strings.Count(buf.String(), "\n")
			for _, path := range tc.requests {
				got := alice.get(e.proxy.URL+path, "X-Forwarded-Uri", "/admin/orders?id=7", "X-Forwarded-Method",
					"DELETE", "X-Forwarded-Host", host)
				if got.status != http.StatusForbidden {
					t.Fatalf("%s: %d, want 403", path, got.status)
				}
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")[before:]
			if len(lines) != 1 {
				t.Fatalf("%d audit records, want 1: %q", len(lines), lines)
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"event": "access.denied", "outcome": "denied", "user_id": localappid.AliceID,
				"policy": "role:admin", "method": tc.wantMethod, "path": "/admin/orders", "log_type": "audit"}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("%s = %v, want %v (record %v)", k, rec[k], v, rec)
				}
			}
		})
	}
}
