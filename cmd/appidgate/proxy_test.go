package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/proxy"
)

// TestProxyConfigurationErrors: appidgate proxy names every problem of its flags, its routes file and the
// environment in one message and exits 2, before it starts anything.
func TestProxyConfigurationErrors(t *testing.T) {
	t.Parallel()
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
		{"a pass-access-token setting that is no boolean", []string{"--upstream", "http://127.0.0.1:8000"},
			map[string]string{"APPIDGATE_PASS_ACCESS_TOKEN": "yes please"}, []string{"APPIDGATE_PASS_ACCESS_TOKEN"}},
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
	t.Parallel()
	got := appEnv([]string{"PATH=/bin", "PORT=8080", "SESSION_SECRET_KEY=s", "APPID_CLIENT_SECRET=c",
		"IBM_CLOUD_APIKEY=k", "APPIDGATE_ASSERTION_SECRET=a", "APPIDGATE_REDIS_URL=redis://x", "APP_SETTING=1"}, "8000")
	want := []string{"PATH=/bin", "APP_SETTING=1", "PORT=8000"}
	if !slices.Equal(got, want) {
		t.Errorf("appEnv = %q, want %q", got, want)
	}
}

// TestProxyForwardAuthMounted: appidgate proxy serves the forward-auth endpoints, answering its trusted
// proxies, and its sign-in accepts return URLs on its own public host by default.
func TestProxyForwardAuthMounted(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	vars := map[string]string{"PORT": "0"}
	base := startProxy(t, []string{"--upstream", upstream.URL, "--public", "/noauth_route",
		"--trusted-proxy", "127.0.0.1,::1"}, vars).base
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(path string, header ...string) int {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Accept", "text/html")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		path   string
		header []string
		want   int
	}{
		{proxy.AuthPath, []string{"X-Original-URI", "/noauth_route", "X-Original-Method", "GET"}, http.StatusOK},
		{proxy.AuthPath, []string{"X-Original-URI", "/auth_route", "X-Original-Method", "GET"}, http.StatusUnauthorized},
		{proxy.AuthPath, []string{"X-Original-URI", "/noauth_route"}, http.StatusForbidden}, // no original method
		{proxy.VerifyPath, []string{"X-Forwarded-Uri", "/auth_route", "X-Forwarded-Method", "GET"}, http.StatusFound},
		{proxy.StartPath + "?rd=" + url.QueryEscape(base+"/auth_route"), nil, http.StatusFound},
		{proxy.StartPath + "?rd=" + url.QueryEscape("https://evil.example/"), nil, http.StatusBadRequest},
	} {
		if got := get(tc.path, tc.header...); got != tc.want {
			t.Errorf("%s %v: %d, want %d", tc.path, tc.header, got, tc.want)
		}
	}
}

// TestProxyStartTimeout: an app that never listens on the upstream's port fails the start within --start-timeout,
// with a message that names the address, the PORT it was given and the flag to raise.
func TestProxyStartTimeout(t *testing.T) {
	t.Parallel()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	addr := fmt.Sprintf("127.0.0.1:%d", testkit.FreePort(t))
	_, port, _ := net.SplitHostPort(addr)
	var stdout, stderr testkit.Buffer
	start := time.Now()
	code := runProxy(context.Background(), []string{"--upstream", "http://" + addr, "--start-timeout", "300ms", "--",
		sleep, "30"}, testEnv(map[string]string{"PORT": "0"}, &stdout, &stderr))
	if code != 1 {
		t.Fatalf("exit code %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the start failed after %s, want about --start-timeout (300ms)", took)
	}
	want := "appidgate proxy: the app did not listen on " + addr + " within 300ms; it was started with PORT=" + port +
		": make it listen on $PORT, or raise --start-timeout\n"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
	}
}

// TestProxyUpstreamFailureLogsRequestID: the 502 page for an upstream that does not answer shows a request id,
// and the proxy's WARN line about that failure carries the same id.
func TestProxyUpstreamFailureLogsRequestID(t *testing.T) {
	t.Parallel()
	dead := fmt.Sprintf("http://127.0.0.1:%d", testkit.FreePort(t)) // nothing listens there
	run := startProxy(t, []string{"--upstream", dead, "--public", "/"}, map[string]string{"APPIDGATE_LOG_FORMAT": "json"})
	base, stderr := run.base, run.stderr
	req, _ := http.NewRequest(http.MethodGet, base+"/page", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`request id [^<]*<code>([\w.-]+)</code>`).FindSubmatch(body)
	if resp.StatusCode != http.StatusBadGateway || m == nil {
		t.Fatalf("GET /page: %d %s, want 502 with a request id", resp.StatusCode, body)
	}
	id := string(m[1])
	var warned bool
	for line := range strings.Lines(stderr.String()) {
		var l struct {
			Level, Msg string
			RequestID  string `json:"request_id"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "proxy: upstream request failed" {
			warned = true
			if l.Level != "WARN" || l.RequestID != id {
				t.Errorf("upstream failure logged at %s with request_id %q, want WARN with %q (the page's)", l.Level, l.RequestID, id)
			}
		}
	}
	if !warned {
		t.Errorf("no upstream failure line in the log:\n%s", stderr.String())
	}
}
