package proxy_test

// Tests of the attacks a security review of the proxy found (h2c smuggling, "_" spellings of rerouting headers,
// lower-case methods, the upstream setting the proxy's cookie, forward-auth without the original method, a
// trickled body), each failing on the code before its fix.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appidgate/appidgate/internal/frontproxytest"
	"github.com/appidgate/appidgate/internal/testkit"
)

// bufConn is a net.Conn whose reads first drain a bufio.Reader that already buffered some of its bytes.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// oneConnListener hands out one connection, then blocks until closed.
type oneConnListener struct {
	conn chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

func (l *oneConnListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conn:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}
func (l *oneConnListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *oneConnListener) Addr() net.Addr { return l.addr }

// h2cUpstream is an upstream that honours "Upgrade: h2c" (as RFC 7540 servers such as Apache mod_http2,
// Tomcat, Jetty, nghttpx and hypercorn do) without insisting on the HTTP2-Settings token in Connection, and
// then serves HTTP/2 on the connection. Its /admin echoes the headers it got.
func h2cUpstream(t *testing.T) http.Handler {
	inner := http.NewServeMux()
	inner.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "proto": r.Proto, "headers": r.Header})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "h2c") {
			inner.ServeHTTP(w, r)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
		rw.Flush()
		var protocols http.Protocols
		protocols.SetUnencryptedHTTP2(true)
		srv := &http.Server{Handler: inner, Protocols: &protocols}
		ln := &oneConnListener{conn: make(chan net.Conn, 1), done: make(chan struct{}), addr: conn.LocalAddr()}
		ln.conn <- bufConn{conn, rw.Reader}
		t.Cleanup(func() { srv.Close() })
		go srv.Serve(ln)
	})
}

// TestHardeningH2CSmuggling: an anonymous client must not upgrade a public route to h2c and then send HTTP/2
// requests for /admin, with its own identity headers, straight to an upstream that honours h2c as Hypercorn
// does (without insisting on HTTP2-Settings in Connection).
func TestHardeningH2CSmuggling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{upstream: h2cUpstream(t)})
	conn, host := e.dial(t, 10*time.Second)
	fmt.Fprintf(conn, "GET /public/x HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n"+
		"HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", host)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusBadRequest {
		return // refused before any rule, public ones included
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("Upgrade: h2c answered %d, want 400", resp.StatusCode)
	}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	used := false
	tr := &http.Transport{Protocols: &protocols, DialContext: func(context.Context, string, string) (net.Conn, error) {
		if used {
			return nil, fmt.Errorf("one tunnel only")
		}
		used = true
		return bufConn{conn, br}, nil
	}}
	req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/admin", nil)
	req.Header.Set("X-Appidgate-User", "evil")
	req.Header.Set("X-Appidgate-Roles", "admin")
	got, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("h2 through the tunnel: %v", err)
	}
	body, _ := io.ReadAll(got.Body)
	t.Errorf("anonymous client reached /admin through an h2c tunnel opened on /public/x: %d %s", got.StatusCode, body)
}

// TestHardeningUnderscoreRerouting: the rerouting, method-override and client-address headers go in every
// spelling: WSGI, PHP and Rack/Puma fold "_" and "-" into the same variable.
func TestHardeningUnderscoreRerouting(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	spoof := []string{"X_HTTP_Method_Override", "X_Method_Override", "X_Http_Method", "X_Rewrite_Url",
		"X_Client_IP", "True_Client_IP", "X-Forwarded-Scheme", "X-Cluster-Client-Ip", "x_original_url",
		"X_FORWARDED_METHOD", "Http2_Settings", "X-Host", "X_Forwarded_Protocol"}
	req, _ := http.NewRequest(http.MethodPost, e.proxy.URL+"/public/x", strings.NewReader("x"))
	for _, h := range spoof {
		req.Header[h] = []string{"evil"}
	}
	_, h := seen(t, e.newClient().do(req))
	for name, v := range h {
		if len(v) > 0 && v[0] == "evil" {
			t.Errorf("the upstream got %s: %s", name, v[0])
		}
	}
}

// TestHardeningLowercaseMethod: rules match methods as written, and an app that compares methods exactly (Go's
// ServeMux, `$_SERVER['REQUEST_METHOD'] ===`, `if r.Method == "GET" {...} else {write}`) would read "get" as
// another method than the GET a rule allowed: such a method is refused before any rule.
func TestHardeningLowercaseMethod(t *testing.T) {
	t.Parallel()
	routes := "default: authenticated\nroutes:\n  - path: /form\n    methods: [GET]\n    public: true\n"
	var reached atomic.Bool
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Store(true)
		io.WriteString(w, "ok")
	})
	e := newEnv(t, envOptions{routes: routes, upstream: app})
	for _, m := range []string{"get", "Get", "GET\x00", "G ET"} {
		req, err := http.NewRequest(m, e.proxy.URL+"/form", strings.NewReader("delete=everything"))
		if err != nil {
			continue // not even sendable
		}
		if got := e.newClient().do(req); got.status != http.StatusBadRequest || reached.Load() {
			t.Errorf("method %q: %d, reached the upstream: %v; want 400 before it", m, got.status, reached.Load())
		}
	}
	if got := e.newClient().get(e.proxy.URL + "/form"); got.status != http.StatusOK {
		t.Errorf("GET /form: %d, want 200", got.status)
	}
}

// TestHardeningTrickledBody: a client that stops sending its body has its request ended after the body idle
// timeout, rather than holding the upstream's connection for as long as the connection may last.
func TestHardeningTrickledBody(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, "body broken", http.StatusBadRequest)
		}
	})
	e := newEnv(t, envOptions{upstream: app, bodyIdle: 200 * time.Millisecond})
	conn, host := e.dial(t, 10*time.Second)
	fmt.Fprintf(conn, "POST /public/upload HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000\r\n\r\nsome", host)
	<-started
	if _, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil && !errors.Is(err, io.EOF) &&
		!errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("the stalled request was not ended within 10 s: %v", err)
	}
}

// TestHardeningRequestTrailers: identity headers sent as request trailers reach the upstream unstripped.
func TestHardeningRequestTrailers(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var trailer http.Header
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		trailer = r.Trailer.Clone()
		mu.Unlock()
	})
	e := newEnv(t, envOptions{upstream: app})
	conn, host := e.dial(t, 5*time.Second)
	fmt.Fprintf(conn, "POST /public/x HTTP/1.1\r\nHost: %s\r\nTransfer-Encoding: chunked\r\n"+
		"Trailer: X-Appidgate-User, X-Forwarded-User\r\n\r\n1\r\nx\r\n0\r\nX-Appidgate-User: evil\r\n"+
		"X-Forwarded-User: evil\r\n\r\n", host)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("upstream trailer: %v", trailer)
	for name, v := range trailer {
		if len(v) > 0 && v[0] == "evil" {
			t.Errorf("the upstream got trailer %s: %s", name, v[0])
		}
	}
}

// TestHardeningUpstreamSetsProxyCookie: the upstream can set, replace or delete the proxy's own session cookie in
// the browser (session planting / forced logout); the proxy passes its Set-Cookie on.
func TestHardeningUpstreamSetsProxyCookie(t *testing.T) {
	t.Parallel()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "appidgate_session", Value: "planted", Path: "/"})
		http.SetCookie(w, &http.Cookie{Name: "__Host-appidgate_session", Value: "planted", Path: "/", Secure: true})
	})
	e := newEnv(t, envOptions{upstream: app})
	got := e.newClient().get(e.proxy.URL + "/public/x")
	for _, c := range got.header.Values("Set-Cookie") {
		if strings.Contains(c, "appidgate_session=planted") {
			t.Errorf("the upstream's Set-Cookie for the proxy's cookie reached the browser: %s", c)
		}
	}
}

// TestHardeningCaddyUnderscore: the documented Caddy configuration removes X_Appidgate_* as well as
// X-Appidgate-*: Caddy passes underscores on, and WSGI/PHP/Rack servers read X_Appidgate_User as
// X-Appidgate-User.
func TestHardeningCaddyUnderscore(t *testing.T) {
	t.Parallel()
	frontproxytest.Look(t, "caddy", "/usr/bin/caddy")
	port := testkit.FreePort(t)
	front := fmt.Sprintf("http://127.0.0.1:%d", port)
	e := newEnv(t, envOptions{trusted: loopback, publicURL: front})
	startCaddy(t, port, e)
	req, _ := http.NewRequest(http.MethodGet, front+"/public/x", nil)
	req.Header["X_Appidgate_User"] = []string{"evil"}
	req.Header["X_Appidgate_Roles"] = []string{"admin"}
	_, h := seen(t, e.newClient().do(req))
	for name, v := range h {
		if len(v) > 0 && (v[0] == "evil" || v[0] == "admin") {
			t.Errorf("through Caddy, the app got %s: %s", name, v[0])
		}
	}
}

// TestHardeningNginxMethodFallback: nginx's auth_request subrequest is always a GET; with a configuration that
// does not send X-Original-Method, an anonymous POST must not be judged as a GET and pass a GET-only public
// rule: forward-auth requires the original method.
func TestHardeningNginxMethodFallback(t *testing.T) {
	t.Parallel()
	frontproxytest.Look(t, "nginx", "/usr/sbin/nginx")
	port := testkit.FreePort(t)
	front := fmt.Sprintf("http://127.0.0.1:%d", port)
	routes := "routes:\n  - path: /form\n    methods: [GET]\n    public: true\n"
	e := newEnv(t, envOptions{trusted: loopback, publicURL: front, routes: routes})
	var mu sync.Mutex
	var got []string
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path)
		mu.Unlock()
	}))
	t.Cleanup(app.Close)
	// The documented configuration, less its X-Original-Method lines.
	startNginx(t, e, app.URL, port, func(recipe string) string {
		return strings.ReplaceAll(recipe, "proxy_set_header X-Original-Method $request_method;", "")
	})
	req, _ := http.NewRequest(http.MethodPost, front+"/form", strings.NewReader("x"))
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if resp.StatusCode == http.StatusOK || len(got) > 0 {
		t.Errorf("anonymous POST /form through nginx: %d, the app served %v (only GET /form is public)", resp.StatusCode, got)
	}
}

// TestProxySendsHeadersOfAWaitingAnswer: an answer whose headers the upstream sent (and flushed) before its body
// shows its status and headers to the client while the upstream works on the body, as a download starts in the
// browser before its first byte.
func TestProxySendsHeadersOfAWaitingAnswer(t *testing.T) {
	t.Parallel()
	body := make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		w.Header().Set("Content-Disposition", `attachment; filename="report.csv"`)
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		<-body
		io.WriteString(w, "a,b\n\n")
	})
	e := newEnv(t, envOptions{upstream: app})
	conn, host := e.dial(t, 5*time.Second)
	fmt.Fprintf(conn, "GET /public/report HTTP/1.1\r\nHost: %s\r\n\r\n", host)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	close(body)
	if err != nil {
		t.Fatalf("no headers while the upstream works on the body: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Disposition") == "" {
		t.Errorf("headers before the body: %d %v", resp.StatusCode, resp.Header)
	}
	if b, err := io.ReadAll(resp.Body); err != nil || string(b) != "a,b\n\n" {
		t.Errorf("the body after the headers: %q, %v", b, err)
	}
}

// TestProxyFlushesAnswersOfKnownLength: the part of an answer of known length that the upstream has sent (and
// flushed) reaches the client while the upstream works on the rest.
func TestProxyFlushesAnswersOfKnownLength(t *testing.T) {
	t.Parallel()
	rest := make(chan struct{})
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "20")
		io.WriteString(w, "first-part\n")
		http.NewResponseController(w).Flush()
		<-rest
		io.WriteString(w, "the rest\n")
	})
	e := newEnv(t, envOptions{upstream: app})
	conn, host := e.dial(t, 5*time.Second)
	fmt.Fprintf(conn, "GET /public/slow HTTP/1.1\r\nHost: %s\r\n\r\n", host)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		close(rest)
		t.Fatalf("no answer while the upstream still works: %v", err)
	}
	first := make([]byte, len("first-part\n"))
	_, err = io.ReadFull(resp.Body, first)
	close(rest)
	if err != nil || string(first) != "first-part\n" {
		t.Fatalf("the first part did not arrive before the rest: %q, %v", first, err)
	}
}

// plainWriter is a library user's response wrapper that neither flushes nor unwraps.
type plainWriter struct{ w http.ResponseWriter }

func (p plainWriter) Header() http.Header         { return p.w.Header() }
func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p plainWriter) WriteHeader(code int)        { p.w.WriteHeader(code) }

// TestProxyUnderWritersThatCannotFlush: a program that wraps the proxy in a writer of its own that cannot flush,
// or in http.TimeoutHandler, still gets whole answers, short and long: flushing is the proxy's wish, not a
// condition of writing.
func TestProxyUnderWritersThatCannotFlush(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("0123456789", 10_000)
	e := newEnv(t, envOptions{upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/public/long" {
			io.WriteString(w, long)
			return
		}
		io.WriteString(w, "short")
	})})
	for _, tc := range []struct {
		name    string
		handler http.Handler
	}{
		{"a wrapper without Flush", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e.proxy.Config.Handler.ServeHTTP(plainWriter{w}, r)
		})},
		{"http.TimeoutHandler", http.TimeoutHandler(e.proxy.Config.Handler, 10*time.Second, "timed out")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			for path, want := range map[string]string{"/public/short": "short", "/public/long": long} {
				resp, err := http.Get(srv.URL + path)
				if err != nil {
					t.Fatalf("GET %s: %v", path, err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || string(body) != want {
					t.Errorf("GET %s: %d, %d of %d bytes, %v", path, resp.StatusCode, len(body), len(want), err)
				}
			}
		})
	}
}
