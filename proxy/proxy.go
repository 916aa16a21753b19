package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/answer"
	"github.com/appidgate/appidgate/internal/pages"
	"github.com/appidgate/appidgate/internal/problem"
	"github.com/appidgate/appidgate/internal/trusted"
)

// Defaults of Config's upstream timeouts.
const (
	// DefaultDialTimeout bounds connecting to the upstream: an upstream that is down answers 502 within it.
	DefaultDialTimeout = 5 * time.Second
	// DefaultResponseHeaderTimeout bounds the wait for the upstream's response headers (not its body, which may
	// stream for as long as the connection lasts).
	DefaultResponseHeaderTimeout = 60 * time.Second
	// DefaultBodyIdleTimeout bounds the wait for each part of a request body.
	DefaultBodyIdleTimeout = 60 * time.Second
)

// Config configures a Proxy.
type Config struct {
	// Upstream is the app behind the proxy, e.g. http://127.0.0.1:8000. Its path, if any, prefixes every
	// request's path.
	Upstream *url.URL
	// Auth logs users in and decides who may pass; the proxy mounts nothing of it, the caller does.
	Auth *appid.Auth
	// Routes says which paths are public, which policy guards the others, and which are APIs.
	Routes *Routes
	// LiveRoutes, when set instead of Routes, holds routes that may be reloaded while requests are served: the
	// routes in force are read from it once per request.
	LiveRoutes *LiveRoutes
	// Identity says which identity headers the upstream gets.
	Identity IdentityHeaders
	// Assertion, when set, signs each admitted request's identity for the upstream (see package assertion).
	Assertion *AssertionSigner
	// TrustedProxies are the addresses whose X-Forwarded-For, -Proto and -Host are passed on; from anyone else
	// they are replaced by what the proxy sees of the connection.
	TrustedProxies []netip.Prefix
	// ReturnHosts are the hosts (host or host:port, compared case-insensitively) that the forward-auth sign-in
	// endpoint accepts in an absolute return URL; see ForwardAuth. A same-origin path is always accepted.
	ReturnHosts []string
	// DialTimeout and ResponseHeaderTimeout bound the upstream (defaults above); Transport, when set, replaces
	// the proxy's own transport and both (NewTransport makes one to wrap).
	DialTimeout           time.Duration
	ResponseHeaderTimeout time.Duration
	Transport             http.RoundTripper
	// BodyIdleTimeout bounds the wait for each part of a request body (DefaultBodyIdleTimeout when zero): a
	// client that stops sending its body gets its request ended.
	BodyIdleTimeout time.Duration
	// Logger receives upstream failures; nil means slog.Default().
	Logger *slog.Logger
	// TemplatesDir holds the operator's templates replacing the built-in pages (error.html for the proxy's own
	// answers, such as the 502 of an upstream that is down; see the README) [APPIDGATE_TEMPLATES_DIR]. New
	// refuses a template that does not parse. Empty: the built-in pages.
	TemplatesDir string
}

// Proxy is an http.Handler that admits requests by Routes and passes them to the upstream with the user's
// identity. The request path, for every request: clean the path (or 400), match the rule, admit by the rule's
// policy through appid (session, refresh, policy; a refusal is answered here), then rewrite the request for
// the upstream (identity headers the client sent removed, the proxy's own set) and stream both ways.
type Proxy struct {
	gate
	rp       *httputil.ReverseProxy
	upstream *url.URL
	trusted  []netip.Prefix
	bodyIdle time.Duration
}

// New checks cfg and returns a Proxy.
func New(cfg Config) (*Proxy, error) {
	var problems []appid.Problem
	if cfg.Upstream == nil || (cfg.Upstream.Scheme != "http" && cfg.Upstream.Scheme != "https") ||
		cfg.Upstream.Host == "" {
		problems = append(problems, appid.Problem{Reason: "an upstream http(s) URL with a host is required"})
	}
	set, more := cfg.checkShared()
	if problems = append(problems, more...); len(problems) > 0 {
		return nil, errors.New("proxy: " + problem.Join(problems, "; "))
	}
	p := &Proxy{
		gate:     newGate(cfg, set, "proxy", "proxy "),
		upstream: cfg.Upstream,
		trusted:  cfg.TrustedProxies,
		bodyIdle: cmpDuration(cfg.BodyIdleTimeout, DefaultBodyIdleTimeout),
	}
	transport := cfg.Transport
	if transport == nil {
		transport = NewTransport(cfg.DialTimeout, cfg.ResponseHeaderTimeout)
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite:        p.rewrite,
		Transport:      transport,
		ModifyResponse: p.dropProxyCookiesSet,
		ErrorHandler:   p.upstreamFailed,
		// Without a pool ReverseProxy allocates a 32 KB copy buffer for every answer: most of what a request
		// allocates, and so most of the proxy's garbage collection.
		BufferPool: &bufferPool{},
		// Every part of an answer goes to the client as it arrives: ServeHTTP hands ReverseProxy a flushWriter
		// (flush.go), which does it without the immediate timer that a FlushInterval of -1 adds to every answer.
	}
	return p, nil
}

// checkShared checks what Proxy and ForwardAuth both need of cfg (Auth, Routes) and loads the pages they answer
// with; it returns every problem found.
func (cfg Config) checkShared() (*pages.Set, []appid.Problem) {
	var problems []appid.Problem
	if cfg.Auth == nil {
		problems = append(problems, appid.Problem{Reason: "Auth is required"})
	}
	switch {
	case cfg.Routes == nil && cfg.LiveRoutes == nil:
		problems = append(problems, appid.Problem{Reason: "Routes (or LiveRoutes) is required"})
	case cfg.Routes != nil && cfg.LiveRoutes != nil:
		problems = append(problems, appid.Problem{Reason: "set Routes or LiveRoutes, not both"})
	}
	set, err := pages.Load(cfg.TemplatesDir)
	if err != nil {
		problems = append(problems, appid.Problem{Setting: "templates", Reason: err.Error()})
	}
	return set, problems
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// NewTransport returns the proxy's own transport to its upstream: http.DefaultTransport's shape, never through
// HTTP_PROXY, with connecting bounded by dial and the wait for response headers by header (each zero means
// its default above). Wrap it to observe the upstream, and pass it as Config.Transport.
func NewTransport(dial, header time.Duration) *http.Transport {
	dial, header = cmpDuration(dial, DefaultDialTimeout), cmpDuration(header, DefaultResponseHeaderTimeout)
	return &http.Transport{
		Proxy:                 nil, // the upstream is reached directly, never through HTTP_PROXY
		DialContext:           (&net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: header,
		ExpectContinueTimeout: time.Second,
	}
}

// admitted carries the admitted user and the rule from ServeHTTP to rewrite.
type admitted struct {
	user *appid.User // nil on public routes
	rule Rule
}

type admittedKey struct{}

// ServeHTTP implements http.Handler.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !ValidMethod(r.Method) {
		// Rules match methods as written; an upstream reading "get" as another method than GET must not see it.
		p.respond(w, r, false, http.StatusBadRequest, "Bad request", "The request's method is malformed.")
		return
	}
	if !upgradeAllowed(r) {
		// Any other protocol would be a tunnel past the proxy (h2c: HTTP/2 requests for any path, unchecked).
		p.respond(w, r, false, http.StatusBadRequest, "Bad request", "Only WebSocket upgrades are passed on.")
		return
	}
	path, changed, err := CleanPath(r.URL.EscapedPath())
	if err != nil {
		p.respond(w, r, false, http.StatusBadRequest, "Bad request", "The request's path is malformed.")
		return
	}
	if changed {
		// The upstream must see the path the rule was chosen for: send the client there (308 keeps the method
		// and body), rather than pass on a path that it might read otherwise.
		target := (&url.URL{Path: path, RawQuery: r.URL.RawQuery}).String()
		http.Redirect(w, r, target, http.StatusPermanentRedirect)
		return
	}
	rule, user, err := p.admit(w, r, r.Method, path)
	if err != nil {
		if rule.API && err == appid.ErrLoginRequired {
			// No session on an API route: 401, even to what looks like a navigation. (A token's refusal wraps
			// ErrLoginRequired and carries its own challenge, which Refuse writes.)
			answer.Unauthorized(w, "")
			return
		}
		p.auth.Refuse(w, r, err)
		return
	}
	ctx := context.WithValue(r.Context(), admittedKey{}, admitted{user: user, rule: rule})
	r = r.WithContext(ctx)
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &idleBody{ReadCloser: r.Body, rc: http.NewResponseController(w), idle: p.bodyIdle}
	}
	fw := newFlushWriter(w)
	defer fw.stop()
	p.rp.ServeHTTP(fw, r)
}

// bufferPool lends ReverseProxy its 32 KB copy buffers again and again (httputil.BufferPool).
type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.pool.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.pool.Put(&buf) }

// upgradeAllowed reports whether r asks for no protocol upgrade, or for a WebSocket one on GET: the only
// upgrade the proxy passes on.
func upgradeAllowed(r *http.Request) bool {
	upgrade := r.Header.Values("Upgrade")
	if len(upgrade) == 0 && !headerHasToken(r.Header, "Connection", "upgrade") {
		return true
	}
	return r.Method == http.MethodGet && len(upgrade) == 1 && strings.EqualFold(upgrade[0], "websocket")
}

// headerHasToken reports whether a comma-separated header named name holds token, compared case-insensitively.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// idleBody is a request body whose every read must start within idle of the previous one: a client that
// trickles a body, or stops sending it, does not hold the upstream's connection (and, for many apps, a worker)
// for as long as the connection may last.
type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.rc.SetReadDeadline(time.Now().Add(b.idle)) // unsupported by a writer: the server's own timeouts apply
	return b.ReadCloser.Read(p)
}

// dropProxyCookiesSet removes the upstream's Set-Cookie headers for the proxy's own cookies: the upstream may
// not plant, replace or delete a user's session.
func (p *Proxy) dropProxyCookiesSet(resp *http.Response) error {
	lines := resp.Header["Set-Cookie"]
	kept := lines[:0:0]
	for _, line := range lines {
		name, _, _ := strings.Cut(line, "=")
		if isProxyCookie(strings.TrimSpace(name)) {
			p.log.WarnContext(resp.Request.Context(), "proxy: the upstream set the proxy's own cookie; dropped",
				"cookie", strings.TrimSpace(name))
			continue
		}
		kept = append(kept, line)
	}
	if len(kept) != len(lines) {
		if len(kept) == 0 {
			resp.Header.Del("Set-Cookie")
		} else {
			resp.Header["Set-Cookie"] = kept
		}
	}
	return nil
}

// rewrite builds the upstream request. It runs after ReverseProxy removed the hop-by-hop headers, those the
// client named in Connection included, so that a client cannot have the proxy's own headers removed.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	adm, _ := pr.In.Context().Value(admittedKey{}).(admitted)
	pr.SetURL(p.upstream)
	out := pr.Out.Header
	p.identity.Strip(out) // on every route, public ones too
	dropProxyCookies(out)
	trusted := p.trustedPeer(pr.In.RemoteAddr)
	stripRerouting(out, trusted)
	if trusted {
		// A proxy in front of this one described the client: pass its words on, adding the peer to the chain.
		if v := pr.In.Header.Values("X-Forwarded-For"); len(v) > 0 {
			out["X-Forwarded-For"] = v
		}
		pr.SetXForwarded()
		for _, h := range []string{"X-Forwarded-Proto", "X-Forwarded-Host"} {
			if v := pr.In.Header.Get(h); v != "" {
				out.Set(h, v)
			}
		}
	} else {
		pr.SetXForwarded() // what the proxy sees of the connection, whatever the client wrote
	}
	if adm.user == nil {
		return
	}
	// The assertion is bound to the path the upstream sees, after SetURL joined the upstream's base path.
	p.stamp(pr.In.Context(), out, adm.user, pr.Out.Method, pr.Out.URL.Path)
}

// trustedPeer reports whether remoteAddr (host:port) is among the trusted proxies.
func (p *Proxy) trustedPeer(remoteAddr string) bool { return peerTrusted(p.trusted, remoteAddr) }

// peerTrusted reports whether remoteAddr (host:port) is in one of the trusted prefixes.
func peerTrusted(prefixes []netip.Prefix, remoteAddr string) bool {
	return trusted.Peer(prefixes, remoteAddr)
}

// stripRerouting removes from h, in every spelling (any case, "_" for "-", which WSGI, PHP and Rack fold into
// the same variable):
//   - the headers that name another path or method than the one the rule was chosen for (IIS and Symfony read
//     X-Original-URL; many frameworks honour a method override), and Http2-Settings, which goes with an h2c
//     upgrade that the proxy never passes on: the upstream must see what was admitted;
//   - unless the peer is trusted, the headers other than X-Forwarded-For, -Proto and -Host (which ReverseProxy
//     sets) that describe the client's address, scheme or host.
func stripRerouting(h http.Header, trusted bool) {
	rerouting := [...]string{"x-original-url", "x-original-uri", "x-rewrite-url", "x-forwarded-uri",
		"x-forwarded-path", "x-forwarded-prefix", "x-forwarded-method", "x-original-method",
		"x-http-method-override", "x-http-method", "x-method-override", "http2-settings"}
	clientAddress := [...]string{"x-real-ip", "x-client-ip", "true-client-ip", "x-cluster-client-ip",
		"x-forwarded-port", "x-forwarded-server", "x-forwarded-ssl", "x-forwarded-scheme", "x-forwarded-protocol",
		"x-url-scheme", "front-end-https", "x-host"}
	for k := range h {
		if foldedIn(k, rerouting[:]) || (!trusted && foldedIn(k, clientAddress[:])) {
			delete(h, k)
		}
	}
}

// foldedIn reports whether k, lower-cased and with "_" read as "-", is one of names.
func foldedIn(k string, names []string) bool {
	for _, n := range names {
		if foldedEqual(k, n) {
			return true
		}
	}
	return false
}

// upstreamFailed answers a request the upstream could not take: 502, as an HTML page or, on API routes and for
// API clients, JSON.
func (p *Proxy) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	adm, _ := r.Context().Value(admittedKey{}).(admitted)
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away; nobody is left to answer
	}
	p.log.WarnContext(r.Context(), "proxy: upstream request failed", "upstream", p.upstream.Host,
		"route", adm.rule.Pattern, "error", err)
	p.respond(w, r, adm.rule.API, http.StatusBadGateway, "Bad gateway",
		"The application behind the sign-in proxy is not answering. Please try again shortly.")
}

// dropProxyCookies removes the proxy's own cookies (session, login state: every name starting with
// "appidgate_", "__Host-appidgate_" on https) from the Cookie header, so that the upstream never sees them.
func dropProxyCookies(h http.Header) {
	lines := h["Cookie"]
	if len(lines) == 0 {
		return
	}
	var kept []string
	for _, line := range lines {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.TrimSpace(part)
			name, _, _ := strings.Cut(part, "=")
			if part == "" || isProxyCookie(name) {
				continue
			}
			kept = append(kept, part)
		}
	}
	if len(kept) == 0 {
		h.Del("Cookie")
		return
	}
	h["Cookie"] = []string{strings.Join(kept, "; ")}
}

func isProxyCookie(name string) bool {
	name = strings.TrimPrefix(name, "__Host-")
	return strings.HasPrefix(name, "appidgate_")
}
