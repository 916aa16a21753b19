package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/testkit"
)

// Two versions of a routes file: /x public, or an admin-only API; and one with two problems.
const (
	routesXPublic = "routes:\n  - path: /x\n    public: true\n"
	routesXAdmin  = "routes:\n  - path: /x\n    api: true\n    policy: role:admin\n"
	routesBroken  = "routes:\n  - path: /x\n    policy: role:admin, role:root\n  - path: y\n    public: true\n"
)

// replaceFile gives path new content at once, as a config map update does: a new file renamed over the old.
func replaceFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path+".new", []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// statusOf returns the status of an API client's GET of url, or 0 when none came.
func statusOf(url string) int {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitStatus waits until GET url answers want, failing the test after 10 s.
func waitStatus(t *testing.T, url string, want int, why string) {
	t.Helper()
	var got int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got = statusOf(url); got == want {
			return
		}
	}
	t.Fatalf("%s: GET %s answers %d, want %d", why, url, got, want)
}

// TestProxyReloadsRoutesOnSIGHUP runs the real process: SIGHUP puts a changed routes file in force and the
// proxy keeps serving; a broken file then keeps the routes in force and logs each problem with its line and
// column; the metrics count both reloads; SIGTERM still stops the proxy.
func TestProxyReloadsRoutesOnSIGHUP(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a process")
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	replaceFile(t, routes, routesXPublic)
	port := testkit.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(os.Args[0], "proxy", "--upstream", upstream.URL, "--routes", routes)
	cmd.Env = append(os.Environ(), childEnv+"=1", "APPIDGATE_LISTEN_ADDR=127.0.0.1:"+fmt.Sprint(port),
		"APPIDGATE_ROUTES_RELOAD_INTERVAL=off", "APPIDGATE_LOG_FORMAT=text",
		"APPIDGATE_SHUTDOWN_DELAY=0") // no load balancer to wait for: SIGTERM stops at once
	var out testkit.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	if !out.Wait(20*time.Second, func(s string) bool { return strings.Contains(s, "appidgate proxy started") }) {
		t.Fatalf("the proxy did not start:\n%s", out.String())
	}
	waitStatus(t, base+"/x", http.StatusOK, "at start, /x is public")

	replaceFile(t, routes, routesXAdmin)
	time.Sleep(100 * time.Millisecond)
	if got := statusOf(base + "/x"); got != http.StatusOK {
		t.Fatalf("with reloads off, a changed file took effect before SIGHUP: GET /x %d", got)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	if !out.Wait(10*time.Second, func(s string) bool { return strings.Contains(s, "routes reloaded") }) {
		t.Fatalf("no reload logged after SIGHUP:\n%s", out.String())
	}
	waitStatus(t, base+"/x", http.StatusUnauthorized, "after SIGHUP, /x is an admin-only API")

	replaceFile(t, routes, routesBroken)
	cmd.Process.Signal(syscall.SIGHUP)
	if !out.Wait(10*time.Second, func(s string) bool { return strings.Contains(s, routes+":4:11") }) {
		t.Fatalf("the broken file's problems were not logged:\n%s", out.String())
	}
	for _, want := range []string{"reload failed with 2 problem(s); the routes in force stay",
		routes + `:3:23: policy: unexpected \", role:root\" after the policy`,
		routes + `:4:11: path \"y\" must start with \"/\"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, out.String())
		}
	}
	if got := statusOf(base + "/x"); got != http.StatusUnauthorized {
		t.Errorf("after a broken file, GET /x %d, want 401 as the routes in force say", got)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`appidgate_routes_reloads_total{result="ok"} 1`,
		`appidgate_routes_reloads_total{result="error"} 1`} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	select {
	case err := <-exited:
		t.Fatalf("the proxy exited after SIGHUP: %v", err)
	default:
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the proxy did not stop within 20 s of SIGTERM")
	}
}

// TestProxyReloadsChangedRoutesFile: the proxy looks at its routes file every APPIDGATE_ROUTES_RELOAD_INTERVAL
// and puts a changed one in force; a broken one is logged once, with each problem, and the routes stay.
func TestProxyReloadsChangedRoutesFile(t *testing.T) {
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer upstream.Close()
	routes := filepath.Join(t.TempDir(), "routes.yaml")
	replaceFile(t, routes, routesXPublic)
	run := startProxy(t, []string{"--upstream", upstream.URL, "--routes", routes}, map[string]string{"PORT": "0", "APPIDGATE_ROUTES_RELOAD_INTERVAL": "50ms"})
	base, stderr := run.base, run.stderr
	waitStatus(t, base+"/x", http.StatusOK, "at start, /x is public")
	replaceFile(t, routes, routesXAdmin)
	waitStatus(t, base+"/x", http.StatusUnauthorized, "once the file changed, /x is an admin-only API")
	if !strings.Contains(stderr.String(), `"trigger":"file changed"`) {
		t.Errorf("the reload's log line does not say the file changed:\n%s", stderr.String())
	}
	replaceFile(t, routes, routesBroken)
	if !stderr.Wait(10*time.Second, func(s string) bool { return strings.Contains(s, routes+":4:11") }) {
		t.Fatalf("the broken file's problems were not logged:\n%s", stderr.String())
	}
	time.Sleep(300 * time.Millisecond) // several more looks at the same broken file
	if n := strings.Count(stderr.String(), "reload failed"); n != 1 {
		t.Errorf("the broken file was reported %d times, want once:\n%s", n, stderr.String())
	}
	if got := statusOf(base + "/x"); got != http.StatusUnauthorized {
		t.Errorf("after a broken file, GET /x %d, want 401 as the routes in force say", got)
	}
	replaceFile(t, routes, routesXPublic)
	waitStatus(t, base+"/x", http.StatusOK, "once the file is fixed, /x is public again")
}

// TestReloadInterval reads APPIDGATE_ROUTES_RELOAD_INTERVAL.
func TestReloadInterval(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", 5 * time.Second, false},
		{"off", 0, false},
		{"250ms", 250 * time.Millisecond, false},
		{"0s", 0, true},
		{"-1s", 0, true},
		{"often", 0, true},
	} {
		got, err := reloadInterval(tc.value)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("reloadInterval(%q) = %v, %v; want %v, error %v", tc.value, got, err, tc.want, tc.wantErr)
		}
	}
}
