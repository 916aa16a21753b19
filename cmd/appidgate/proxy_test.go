package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestProxyConfigurationErrors: appidgate proxy names every problem of its flags, its routes file and the
// environment in one message and exits 2, before it starts anything.
func TestProxyConfigurationErrors(t *testing.T) {
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	if err := os.WriteFile(routes, []byte("routes:\n  - path: /admin\n    policy: root\n  - path: admin\n    public: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want []string
	}{
		{"no upstream", nil, nil, []string{"--upstream (APPIDGATE_UPSTREAM): required"}},
		{"an upstream that is no URL", []string{"--upstream", "localhost:8000"}, nil, []string{"expected an http(s) URL"}},
		{"a command without the upstream's port", []string{"--upstream", "http://127.0.0.1", "--", "app"}, nil,
			[]string{"must name the port"}},
		{"a bad trusted proxy", []string{"--upstream", "http://127.0.0.1:8000", "--trusted-proxy", "10.0.0.0/33"}, nil,
			[]string{"--trusted-proxy"}},
		{"a routes file with errors, each with its line", []string{"--upstream", "http://127.0.0.1:8000", "--routes", routes},
			nil, []string{"routes.yaml:3", "routes.yaml:4"}},
		{"an unknown policy flag", []string{"--upstream", "http://127.0.0.1:8000", "--policy", "/admin=root"}, nil,
			[]string{"root"}},
		{"together with the environment's problems", nil, map[string]string{"PORT": "http"},
			[]string{"--upstream", "PORT"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runProxy(context.Background(), tc.args, testEnv(tc.vars, &stdout, &stderr))
			if code != 2 {
				t.Fatalf("exit code %d, want 2; stderr:\n%s", code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("the message does not name %q:\n%s", w, stderr.String())
				}
			}
			if strings.Count(stderr.String(), "cannot start") != 1 {
				t.Errorf("want one message, got:\n%s", stderr.String())
			}
		})
	}
}

// TestAppEnvironment: the app the proxy starts gets the upstream's port and none of the proxy's secrets.
func TestAppEnvironment(t *testing.T) {
	got := appEnv([]string{"PATH=/bin", "PORT=8080", "SESSION_SECRET_KEY=s", "APPID_CLIENT_SECRET=c",
		"IBM_CLOUD_APIKEY=k", "APPIDGATE_ASSERTION_SECRET=a", "APPIDGATE_REDIS_URL=redis://x", "APP_SETTING=1"}, "8000")
	want := []string{"PATH=/bin", "APP_SETTING=1", "PORT=8000"}
	if !slices.Equal(got, want) {
		t.Errorf("appEnv = %q, want %q", got, want)
	}
}
