package proxy_test

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/logging"
	"github.com/appidgate/appidgate/proxy"
)

// downProxy is a proxy whose upstream nobody listens on, with every path public, and pages from templatesDir.
func downProxy(t *testing.T, templatesDir string) (http.Handler, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	upstream, _ := url.Parse("http://" + ln.Addr().String())
	ln.Close()
	auth, err := appid.New(t.Context(), appid.Config{ClientID: "c", ClientSecret: "s",
		OAuthServerURL: "http://127.0.0.1:1/oauth/v4/t", RedirectURL: "http://app.example/afterauth",
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	routes, err := proxy.ParseRoutes("routes.yaml", []byte("routes:\n  - path: /\n    public: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := proxy.New(proxy.Config{Upstream: upstream, Auth: auth, Routes: routes, DialTimeout: time.Second,
		Logger: slog.New(slog.DiscardHandler), TemplatesDir: templatesDir})
	if err != nil {
		return nil, err
	}
	return logging.Requests(slog.New(slog.DiscardHandler), p), nil
}

// TestUpstreamDownPage: the 502 page names what failed, links to the same page again and gives the request id;
// API clients keep their JSON, byte for byte.
func TestUpstreamDownPage(t *testing.T) {
	t.Parallel()
	h, err := downProxy(t, "")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/reports?month=5", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set(logging.RequestIDHeader, "req-502")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", rec.Code)
	}
	for _, want := range []string{`<html lang="en">`, "<h1>Bad gateway</h1>", "is not answering",
		`href="/reports?month=5"`, "<code>req-502</code>"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("502 page lacks %q:\n%s", want, rec.Body)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'; frame-ancestors 'none'; style-src 'sha256-") {
		t.Errorf("CSP %q", csp)
	}

	req = httptest.NewRequest(http.MethodGet, "/reports", nil)
	req.Header.Set("Accept", "application/json")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	const want = `{"error":"bad_gateway","error_description":"The application behind the sign-in proxy is not answering. Please try again shortly."}` + "\n"
	if rec.Body.String() != want || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("502 JSON %q (%s), want %q", rec.Body, rec.Header().Get("Content-Type"), want)
	}
}

// TestProxyTemplatesDir: the proxy's pages come from TemplatesDir, and a template that does not parse stops New
// (and NewForwardAuth) naming the file.
func TestProxyTemplatesDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "error.html"), []byte("ACME: {{.Title}} ({{.Status}})"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := downProxy(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Body.String() != "ACME: Bad gateway (502)" {
		t.Errorf("replaced 502 page: %q", rec.Body)
	}

	if err := os.WriteFile(filepath.Join(dir, "error.html"), []byte("{{end}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := downProxy(t, dir); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "error.html")) {
		t.Errorf("New with a bad template: %v, want an error naming error.html", err)
	}
	routes, _ := proxy.ParseRoutes("routes.yaml", []byte("routes: []\n"))
	auth, err := appid.New(t.Context(), appid.Config{ClientID: "c", ClientSecret: "s",
		OAuthServerURL: "http://127.0.0.1:1/oauth/v4/t", RedirectURL: "http://app.example/afterauth",
		SessionKeys: [][]byte{[]byte("0123456789abcdef0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proxy.NewForwardAuth(proxy.Config{Auth: auth, Routes: routes, TemplatesDir: dir}); err == nil ||
		!strings.Contains(err.Error(), "error.html") {
		t.Errorf("NewForwardAuth with a bad template: %v", err)
	}
}
