package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/buildinfo"
	"github.com/appidgate/appidgate/internal/testkit"
)

// TestStartupSummary: at the INFO level a serving command starts with one log line that says what runs (build,
// listener, provider, sessions) and nothing more; the explanations are at DEBUG.
func TestStartupSummary(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer upstream.Close()
	b := buildinfo.Read()
	tests := []struct {
		name    string
		command []string
		want    map[string]string
	}{
		{"demo", []string{"demo"}, map[string]string{"msg": "appidgate demo started", "provider": "local", "sessions": "cookie"}},
		{"proxy", []string{"proxy", "--upstream", upstream.URL}, map[string]string{"msg": "appidgate proxy started",
			"provider": "local", "sessions": "cookie", "upstream": upstream.URL}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr := &testkit.Buffer{}, &testkit.Buffer{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan int, 1)
			vars := map[string]string{"PORT": "0", "APPIDGATE_LOG_LEVEL": "info", "APPIDGATE_LOG_FORMAT": "json"}
			go func() { done <- run(ctx, tc.command, testEnv(vars, stdout, stderr)) }()
			if !stderr.Wait(10*time.Second, func(s string) bool { return strings.Contains(s, " started") }) {
				t.Fatalf("no start-up line within 10 s; stderr:\n%s", stderr.String())
			}
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("did not stop within 30 s")
			}
			var startup []map[string]any
			for line := range strings.Lines(stderr.String()) {
				var l map[string]any
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				if l["msg"] == "server shutting down" {
					break
				}
				startup = append(startup, l)
			}
			if len(startup) != 1 {
				t.Fatalf("%d start-up lines at INFO, want the summary alone:\n%s", len(startup), stderr.String())
			}
			l := startup[0]
			want := map[string]string{"level": "INFO", "version": b.Version, "commit": b.Commit(), "metrics": "/metrics"}
			for k, v := range tc.want {
				want[k] = v
			}
			for k, v := range want {
				if l[k] != v {
					t.Errorf("%s = %v, want %q", k, l[k], v)
				}
			}
			for _, k := range []string{"listen", "public_url", "issuer"} {
				if s, _ := l[k].(string); s == "" {
					t.Errorf("the summary has no %s: %v", k, l)
				}
			}
		})
	}
}
