package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/localappid"
)

// auditLines returns the records with log_type audit among the JSON lines of s.
func auditLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.SplitSeq(s, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["log_type"] == "audit" {
			out = append(out, rec)
		}
	}
	return out
}

// TestAuditLogSetting: APPIDGATE_AUDIT_LOG sends the demo's audit events to stderr (by default, and whatever
// the log level), stdout, a file, or nowhere; the records carry the request id of the request log line.
func TestAuditLogSetting(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "audit.jsonl")
	tests := []struct {
		name  string
		value string // "" leaves the variable unset
		where func(d *demoProcess) string
	}{
		{"default: stderr", "", func(d *demoProcess) string { return d.stderr.String() }},
		{"stdout", "stdout", func(d *demoProcess) string { return d.stdout.String() }},
		{"a file", file, func(*demoProcess) string { b, _ := os.ReadFile(file); return string(b) }},
		{"off", "off", func(d *demoProcess) string { return d.stdout.String() + d.stderr.String() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"APPIDGATE_LOG_LEVEL": "error"} // audit records are not subject to it
			if tc.value != "" {
				vars["APPIDGATE_AUDIT_LOG"] = tc.value
			}
			d := startDemo(t, vars)
			b := testkit.NewBrowser(t)
			if got := b.SignIn(b.Get(d.base+"/auth_route"), "alice", "alice"); got.Status != http.StatusOK {
				t.Fatalf("alice's login: %d", got.Status)
			}
			d.stop()
			records := auditLines(t, tc.where(d))
			if tc.value == "off" {
				if len(records) != 0 {
					t.Fatalf("audit off wrote %v", records)
				}
				return
			}
			if len(records) != 1 || records[0]["event"] != "login.succeeded" || records[0]["user_id"] != localappid.AliceID {
				t.Fatalf("audit records %v, want alice's login.succeeded", records)
			}
			if id, _ := records[0]["request_id"].(string); len(id) != 32 {
				t.Errorf("request_id %v, want the request's 32 hex digits", records[0]["request_id"])
			}
		})
	}
	t.Run("a word that is no destination", func(t *testing.T) {
		var stderr testkit.Buffer
		code := runDemo(context.Background(), nil, testEnv(map[string]string{"PORT": "0", "APPIDGATE_AUDIT_LOG": "stdrr"},
			&testkit.Buffer{}, &stderr))
		if code == 0 || !strings.Contains(stderr.String(), `APPIDGATE_AUDIT_LOG: expected stderr, stdout, off or a file path`) {
			t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
		}
	})
}

// TestAuditClientBehindTrustedProxy: the proxy's audit records name the client that a trusted proxy in front
// reports in X-Forwarded-For, and the connection's peer when the peer is not trusted.
func TestAuditClientBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer upstream.Close()
	for _, tc := range []struct {
		trusted, want string
	}{{"127.0.0.1", "198.51.100.9"}, {"10.0.0.0/8", "127.0.0.1"}} {
		t.Run("trusted "+tc.trusted, func(t *testing.T) {
			run := startProxy(t, []string{"--upstream", upstream.URL, "--trusted-proxy", tc.trusted}, nil)
			base, stderr := run.base, run.stderr
			req, _ := http.NewRequest(http.MethodGet, base+"/afterauth?state=forged&code=x", nil)
			req.Header.Set("X-Forwarded-For", "198.51.100.9")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if !stderr.Wait(5*time.Second, func(s string) bool { return len(auditLines(t, s)) > 0 }) {
				t.Fatalf("no audit record; stderr:\n%s", stderr.String())
			}
			rec := auditLines(t, stderr.String())[0]
			if rec["event"] != "login.failed" || rec["reason"] != "state_unknown" || rec["client_address"] != tc.want {
				t.Fatalf("record %v, want login.failed for state_unknown from %s", rec, tc.want)
			}
		})
	}
}
