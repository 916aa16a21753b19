package proxy_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/localappid"
	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// lookFrontProxy finds a front proxy's binary, or skips the test (fails it in CI, where .ci/run installs it).
func lookFrontProxy(t *testing.T, name, fallback string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat(fallback); err == nil {
		return fallback
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (.ci/run installs it)", name)
	}
	t.Skipf("%s is not installed", name)
	return ""
}

// freePort returns a loopback port nobody listened on a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startFrontProxy runs cmd until the test ends and waits until port accepts connections.
func startFrontProxy(t *testing.T, cmd *exec.Cmd, port int) {
	t.Helper()
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // its own process group: the master and its workers
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(cmd.Path), stderr.String())
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			t.Fatalf("%s exited: %s", filepath.Base(cmd.Path), stderr.String())
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s does not listen on %s: %s", filepath.Base(cmd.Path), addr, stderr.String())
}

// nginxConf is the README's nginx configuration, with the test's addresses: %[1]d nginx's port, %[2]s the
// proxy's address, %[3]s the upstream's, %[4]s nginx's prefix directory.
const nginxConf = `daemon off;
worker_processes 1;
pid %[4]s/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[4]s/body;
  proxy_temp_path %[4]s/proxy;
  fastcgi_temp_path %[4]s/fastcgi;
  uwsgi_temp_path %[4]s/uwsgi;
  scgi_temp_path %[4]s/scgi;
  server {
    listen 127.0.0.1:%[1]d;

    # appidgate's own paths: the sign-in, the login callback, logout.
    location = /.appidgate/start {
      proxy_pass http://%[2]s;
      proxy_set_header Host $http_host;
    }
    location = /afterauth {
      proxy_pass http://%[2]s;
      proxy_set_header Host $http_host;
    }
    location = /logout {
      proxy_pass http://%[2]s;
      proxy_set_header Host $http_host;
    }
    location = /.appidgate/auth {
      internal;
      proxy_pass http://%[2]s;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Forwarded-Uri "";
      proxy_set_header X-Forwarded-Method "";
      proxy_set_header X-Original-URL "";
    }
    location @signin {
      return 302 /.appidgate/start?rd=$request_uri;
    }

    location / {
      auth_request /.appidgate/auth;
      error_page 401 = @signin;
      auth_request_set $appidgate_user $upstream_http_x_appidgate_user;
      auth_request_set $appidgate_email $upstream_http_x_appidgate_email;
      auth_request_set $appidgate_name $upstream_http_x_appidgate_name;
      auth_request_set $appidgate_roles $upstream_http_x_appidgate_roles;
      auth_request_set $appidgate_scopes $upstream_http_x_appidgate_scopes;
      auth_request_set $appidgate_assertion $upstream_http_x_appidgate_assertion;
      auth_request_set $appidgate_cookie $upstream_http_set_cookie;
      add_header Set-Cookie $appidgate_cookie;
      proxy_set_header X-Appidgate-User $appidgate_user;
      proxy_set_header X-Appidgate-Email $appidgate_email;
      proxy_set_header X-Appidgate-Name $appidgate_name;
      proxy_set_header X-Appidgate-Roles $appidgate_roles;
      proxy_set_header X-Appidgate-Scopes $appidgate_scopes;
      proxy_set_header X-Appidgate-Assertion $appidgate_assertion;
      proxy_pass http://%[3]s;
    }
  }
}
`

// TestNginxAuthRequest: nginx in front of an app, asking appidgate with auth_request.
func TestNginxAuthRequest(t *testing.T) {
	nginx := lookFrontProxy(t, "nginx", "/usr/sbin/nginx")
	port := freePort(t)
	front := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := newEnv(t, envOptions{trusted: loopback, publicURL: front})
	app := httptest.NewServer(upstreamApp())
	t.Cleanup(app.Close)

	dir := t.TempDir()
	conf := filepath.Join(dir, "nginx.conf")
	text := fmt.Sprintf(nginxConf, port, strings.TrimPrefix(e.proxy.URL, "http://"),
		strings.TrimPrefix(app.URL, "http://"), dir)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	startFrontProxy(t, exec.Command(nginx, "-p", dir, "-c", conf, "-e", "stderr"), port)

	anon := e.newClient()
	got := anon.get(front + "/auth_route?a=1&b=2")
	if got.status != http.StatusFound || got.header.Get("Location") != front+"/.appidgate/start?rd=/auth_route?a=1&b=2" {
		t.Errorf("anonymous: %d %q, want 302 to the sign-in", got.status, got.header.Get("Location"))
	}
	if got := anon.get(front+"/auth_route", "X-Forwarded-Uri", "/public/x", "X-Original-URI", "/public/x"); got.status != http.StatusFound {
		t.Errorf("anonymous naming a public URI: %d, want 302 to the sign-in", got.status)
	}
	if got := anon.get(front + "/noauth_route"); got.status != http.StatusOK {
		t.Errorf("anonymous on the public route: %d, want 200", got.status)
	}
	got = anon.get(front+"/public/x", "X-Appidgate-User", "evil", "X-Appidgate-Name", "evil",
		"X-Appidgate-Scopes", "evil", "X-Appidgate-Assertion", "evil")
	if _, h := seen(t, got); got.status != http.StatusOK || strings.Contains(fmt.Sprint(h), "evil") {
		t.Errorf("public route with a spoofed identity: %d, the app got %v", got.status, h)
	}

	alice := e.newClient()
	got = alice.loginFrom(e, front+"/auth_route?a=1&b=2", "alice")
	path, h := seen(t, got)
	if got.status != http.StatusOK || path != "/auth_route" || h.Get("X-Appidgate-User") != localappid.AliceID ||
		h.Get("X-Appidgate-Email") != "alice@example.com" || h.Get(assertion.Header) == "" {
		t.Errorf("alice through nginx: %d %s %v", got.status, path, h)
	}
	if got := alice.get(front + "/admin"); got.status != http.StatusForbidden {
		t.Errorf("alice on /admin: %d, want 403", got.status)
	}
	assertRenewedThrough(t, e, alice, front)
	bob := e.newClient()
	if got := bob.loginFrom(e, front+"/auth_route", "bob"); got.status != http.StatusForbidden {
		t.Errorf("bob: %d, want 403", got.status)
	}
	for _, p := range []string{proxy.AuthPath, proxy.VerifyPath} {
		// Not appidgate's answer: a 404 (internal) or the app's own.
		if got := alice.get(front+p, "X-Forwarded-Uri", "/auth_route"); got.header.Get("X-Appidgate-User") != "" {
			t.Errorf("%s from outside: %d with an identity, want it unreachable", p, got.status)
		}
	}
}

// caddyfile is the README's Caddy configuration, with the test's addresses: %[1]d Caddy's port, %[2]s the
// proxy's address, %[3]s the upstream's.
const caddyfile = `{
	admin off
	auto_https off
}
http://127.0.0.1:%[1]d {
	@appidgate path /afterauth /logout /.appidgate/start
	handle @appidgate {
		reverse_proxy %[2]s
	}
	handle {
		# route keeps this order: forward_auth would otherwise run first, and the removal would drop what it copied
		route {
			request_header -X-Appidgate-*
			request_header -X_Appidgate_*
			forward_auth %[2]s {
				uri /.appidgate/verify
				copy_headers X-Appidgate-User X-Appidgate-Email X-Appidgate-Name X-Appidgate-Roles X-Appidgate-Scopes X-Appidgate-Assertion
			}
			reverse_proxy %[3]s
		}
	}
}
`

// TestCaddyForwardAuth: Caddy in front of an app, asking appidgate with forward_auth.
func TestCaddyForwardAuth(t *testing.T) {
	caddy := lookFrontProxy(t, "caddy", "/usr/bin/caddy")
	port := freePort(t)
	front := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := newEnv(t, envOptions{trusted: loopback, publicURL: front})
	startCaddy(t, caddy, port, e)

	anon := e.newClient()
	if got := anon.get(front + "/auth_route"); got.status != http.StatusFound ||
		!strings.HasPrefix(got.header.Get("Location"), e.idp.Provider().OAuthServerURL()) {
		t.Errorf("anonymous browser: %d %q, want 302 to the provider", got.status, got.header.Get("Location"))
	}
	if got := anon.get(front+"/auth_route", "Accept", "application/json"); got.status != http.StatusUnauthorized {
		t.Errorf("anonymous API call: %d, want 401", got.status)
	}
	if got := anon.get(front+"/auth_route", "X-Original-URI", "/public/x"); got.status != http.StatusForbidden {
		t.Errorf("anonymous naming a public URI: %d, want 403", got.status)
	}
	got := anon.get(front+"/public/x", "X-Appidgate-User", "evil", "X-Appidgate-Name", "evil",
		"X-Appidgate-Other", "evil", "X-Appidgate-Assertion", "evil")
	if _, h := seen(t, got); got.status != http.StatusOK || strings.Contains(fmt.Sprint(h), "evil") ||
		strings.Contains(fmt.Sprint(h), "{http.") {
		t.Errorf("public route with a spoofed identity: %d, the app got %v", got.status, h)
	}

	alice := e.newClient()
	got = alice.loginFrom(e, front+"/auth_route?a=1", "alice")
	path, h := seen(t, got)
	if got.status != http.StatusOK || path != "/auth_route" || h.Get("X-Appidgate-User") != localappid.AliceID ||
		h.Get("X-Appidgate-Email") != "alice@example.com" || h.Get(assertion.Header) == "" {
		t.Errorf("alice through Caddy: %d %s %v", got.status, path, h)
	}
	if got := alice.get(front + "/admin"); got.status != http.StatusForbidden {
		t.Errorf("alice on /admin: %d, want 403", got.status)
	}
	bob := e.newClient()
	if got := bob.loginFrom(e, front+"/auth_route", "bob"); got.status != http.StatusForbidden {
		t.Errorf("bob: %d, want 403", got.status)
	}
}

// TestCaddyForwardAuthRenewsRedisSessions: Caddy's forward_auth never passes the auth answer's Set-Cookie to
// the browser, so a session renewed during the check must not need a new cookie: with Redis sessions the cookie
// only names the session, and each revalidation keeps working on it, the refresh token rotated in Redis.
func TestCaddyForwardAuthRenewsRedisSessions(t *testing.T) {
	caddy := lookFrontProxy(t, "caddy", "/usr/bin/caddy")
	port := freePort(t)
	front := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := newEnv(t, envOptions{trusted: loopback, publicURL: front, redis: true})
	startCaddy(t, caddy, port, e)

	alice := e.newClient()
	if got := alice.loginFrom(e, front+"/auth_route", "alice"); got.status != http.StatusOK {
		t.Fatalf("alice through Caddy: %d", got.status)
	}
	for i := range 3 {
		// Each time due for revalidation, and past the provider's grace for a reused refresh token.
		e.clock.Advance(appid.DefaultRevalidateInterval + time.Minute)
		got := alice.get(front + "/auth_route")
		if _, h := seen(t, got); got.status != http.StatusOK || h.Get("X-Appidgate-User") != localappid.AliceID {
			t.Fatalf("alice at revalidation %d: %d, the app got %v", i+1, got.status, h)
		}
	}
}

// startCaddy runs Caddy with the README's configuration on port, in front of e's proxy and upstream.
func startCaddy(t *testing.T, caddy string, port int, e *env) {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "Caddyfile")
	text := fmt.Sprintf(caddyfile, port, strings.TrimPrefix(e.proxy.URL, "http://"),
		strings.TrimPrefix(e.upstream.URL, "http://"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(caddy, "run", "--config", conf, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_CONFIG_HOME="+dir, "XDG_DATA_HOME="+dir)
	startFrontProxy(t, cmd, port)
}

// assertRenewedThrough checks that a session refreshed during a forward-auth check reaches the browser through
// the front proxy: once alice's session is due for revalidation (appid.DefaultRevalidateInterval), the first
// request redeems its refresh token, is admitted and renews her session cookie, and the next one is admitted on
// that cookie with nothing to renew. Without the front proxy passing
// the auth answer's Set-Cookie on, every request would refresh the session again and carry a new cookie.
func assertRenewedThrough(t *testing.T, e *env, alice *client, front string) {
	t.Helper()
	e.clock.Advance(appid.DefaultRevalidateInterval + time.Minute)
	got := alice.get(front + "/auth_route")
	if _, h := seen(t, got); got.status != http.StatusOK || h.Get("X-Appidgate-User") != localappid.AliceID ||
		len(got.header.Values("Set-Cookie")) == 0 {
		t.Fatalf("alice once her session was due for revalidation: %d, Set-Cookie %q, the app got %v", got.status,
			got.header.Values("Set-Cookie"), h)
	}
	got = alice.get(front + "/auth_route")
	if _, h := seen(t, got); got.status != http.StatusOK || h.Get("X-Appidgate-User") != localappid.AliceID {
		t.Errorf("alice on her renewed session: %d, the app got %v", got.status, h)
	}
	if c := got.header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("alice's renewed session was renewed again: the browser never got the first renewal (%q)", c)
	}
}
