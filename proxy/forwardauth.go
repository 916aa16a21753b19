package proxy

import (
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// The forward-auth endpoints' paths, under the proxy's reserved prefix /.appidgate/.
const (
	// AuthPath is the endpoint for nginx auth_request (and ingress-nginx's auth-url).
	AuthPath = "/.appidgate/auth"
	// VerifyPath is the endpoint for Traefik forwardAuth and Caddy forward_auth.
	VerifyPath = "/.appidgate/verify"
	// StartPath is the sign-in endpoint nginx sends browsers to: StartPath?rd=URL.
	StartPath = "/.appidgate/start"
)

// ForwardAuth answers another reverse proxy's question "may this request pass?" with the same routes,
// policies and identity as Proxy, for deployments where nginx, Traefik or Caddy stays in front of the app.
//
// The original request is read from the forward-auth request's headers, and only when it comes from one of
// Config.TrustedProxies (from anyone else the endpoints answer 403 and log the misconfiguration, since these
// headers are trivially spoofed): the URI from X-Forwarded-Uri (Traefik, Caddy), X-Original-URI (nginx) or
// X-Original-URL (ingress-nginx), the method from X-Forwarded-Method or X-Original-Method (one is required:
// nginx's auth_request subrequest is always a GET, whatever the original method), the host from
// X-Forwarded-Host. When several of these
// are present they must agree. Routes are matched on the cleaned path of that URI, never its query; a path that
// cleaning would change or cannot read one way only is refused, as the upstream might read it otherwise.
//
// AuthPath, for nginx auth_request, answers only what nginx accepts: 200 (allowed), 401 (no session, and also
// a failed session store, which is logged: nginx turns any other status into a 500) and 403 (refused, or a
// misconfigured or malformed request). It never redirects; nginx's error_page 401 sends the browser to
// StartPath. StartPath?rd=URL starts the login and comes back to rd: a same-origin path, or an absolute URL on
// one of Config.ReturnHosts (appidgate proxy defaults them to the host of its public URL; with none, only
// paths are accepted). appid returns only to paths on
// the proxy's own origin, so the login always comes back to rd's path and query on the proxy's public host:
// serve the proxy's paths (the callback, /logout, /.appidgate/) on the app's own host, as nginx auth_request
// is usually deployed.
//
// VerifyPath, for Traefik and Caddy, which pass any answer but a 2xx to the client: 200 allows; without a
// session a browser gets a 302 to the provider's login (coming back to the original path and query; only when
// X-Forwarded-Host is one of Config.ReturnHosts, if any are set), an API request 401 JSON with WWW-Authenticate; a refused user 403; a failed store 503; a malformed path 400.
//
// An allowed answer carries the user's identity in response headers for auth_request_set,
// authResponseHeaders or copy_headers: the X-Appidgate family, oauth2-proxy's X-Auth-Request-* names (see
// IdentityHeaders) and, with Config.Assertion, the signed assertion bound to the original method and path.
// It also carries any Set-Cookie of a refreshed session, which the front proxy must pass to the client.
type ForwardAuth struct {
	answers
	auth        *appid.Auth
	routes      *Routes
	identity    IdentityHeaders
	assertion   *AssertionSigner
	trusted     []netip.Prefix
	returnHosts []string
	log         *slog.Logger
}

// NewForwardAuth returns the forward-auth endpoints of cfg; cfg.Upstream, the transport and its timeouts are
// not used. The identity headers always include oauth2-proxy's auth-endpoint names (AuthRequest).
func NewForwardAuth(cfg Config) (*ForwardAuth, error) {
	set, problems := cfg.checkShared()
	if len(problems) > 0 {
		return nil, errors.New("proxy: forward-auth: " + strings.Join(problems, "; "))
	}
	f := &ForwardAuth{auth: cfg.Auth, routes: cfg.Routes, identity: cfg.Identity, assertion: cfg.Assertion,
		trusted: cfg.TrustedProxies, log: cfg.Logger}
	f.identity.AuthRequest = true
	for _, h := range cfg.ReturnHosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			f.returnHosts = append(f.returnHosts, h)
		}
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	f.answers = answers{pages: set, log: f.log}
	return f, nil
}

// Mount registers AuthPath, VerifyPath and StartPath on mux.
func (f *ForwardAuth) Mount(mux *http.ServeMux) {
	mux.HandleFunc(AuthPath, f.serveAuth)
	mux.HandleFunc(VerifyPath, f.serveVerify)
	mux.HandleFunc("GET "+StartPath, f.serveStart)
}

// original is the request the front proxy asks about.
type original struct {
	method string
	host   string
	path   string // cleaned
	uri    string // path and query, the return target of a login
}

// errUntrusted: the forward-auth request does not come from a trusted proxy.
var errUntrusted = errors.New("proxy: forward-auth: the request does not come from a trusted proxy")

// readOriginal reads the original request from r's headers.
func (f *ForwardAuth) readOriginal(r *http.Request) (original, error) {
	if !peerTrusted(f.trusted, r.RemoteAddr) {
		return original{}, errUntrusted
	}
	h := r.Header
	single := func(name string) (string, error) {
		v := h.Values(name)
		if len(v) > 1 {
			return "", errors.New("proxy: forward-auth: " + name + " is given more than once")
		}
		if len(v) == 0 {
			return "", nil
		}
		return v[0], nil
	}
	var uris []string
	for _, name := range []string{"X-Forwarded-Uri", "X-Original-Uri", "X-Original-Url"} {
		v, err := single(name)
		if err != nil {
			return original{}, err
		}
		if v == "" {
			continue
		}
		if name == "X-Original-Url" {
			u, err := url.Parse(v)
			if err != nil || !u.IsAbs() {
				return original{}, errors.New("proxy: forward-auth: X-Original-URL is not an absolute URL")
			}
			v = u.RequestURI()
		}
		uris = append(uris, v)
	}
	if len(uris) == 0 {
		return original{}, errors.New("proxy: forward-auth: no X-Forwarded-Uri, X-Original-URI or X-Original-URL")
	}
	for _, u := range uris[1:] {
		if u != uris[0] {
			return original{}, errors.New("proxy: forward-auth: the original URI headers disagree")
		}
	}
	uri := uris[0]
	if !strings.HasPrefix(uri, "/") || strings.ContainsFunc(uri, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return original{}, errors.New("proxy: forward-auth: the original URI is not a path")
	}
	rawPath, _, _ := strings.Cut(uri, "?")
	rawPath, _, _ = strings.Cut(rawPath, "#")
	path, changed, err := CleanPath(rawPath)
	if err != nil || changed {
		return original{}, errBadPath
	}
	given := ""
	for _, name := range []string{"X-Forwarded-Method", "X-Original-Method"} {
		v, err := single(name)
		if err != nil {
			return original{}, err
		}
		if v != "" {
			if given != "" && v != given {
				return original{}, errors.New("proxy: forward-auth: the original method headers disagree")
			}
			given = v
		}
	}
	if given == "" {
		// Never the request's own method: nginx asks with GET whatever the client sent, so a POST would be
		// judged by the GET rule.
		return original{}, errors.New("proxy: forward-auth: no X-Forwarded-Method or X-Original-Method")
	}
	method := given
	if !validMethod(method) {
		return original{}, errors.New("proxy: forward-auth: the original method is malformed")
	}
	host, err := single("X-Forwarded-Host")
	if err != nil {
		return original{}, err
	}
	if host == "" {
		host = r.Host
	}
	return original{method: method, host: strings.ToLower(host), path: path, uri: uri}, nil
}

// errBadPath: the original path is malformed or would be read differently once cleaned.
var errBadPath = errors.New("proxy: forward-auth: the original path is malformed or not in its clean form")

// validMethod reports whether m is a method as rules name them: upper-case letters, with "-" or "_" inside
// (WebDAV's VERSION-CONTROL), at most 32 bytes. Rules match methods exactly, so an upstream never sees "get"
// for a request that a GET rule admitted.
func validMethod(m string) bool {
	if m == "" || len(m) > 32 || m[0] < 'A' || m[0] > 'Z' {
		return false
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; (c < 'A' || c > 'Z') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

// decide reads the original request and admits it. On success it has set the identity headers on w.
func (f *ForwardAuth) decide(w http.ResponseWriter, r *http.Request) (original, Rule, error) {
	o, err := f.readOriginal(r)
	if err != nil {
		return o, Rule{}, err
	}
	rule := f.routes.Match(o.method, o.path)
	r.Pattern = "forward-auth " + rule.Pattern
	if rule.Public {
		return o, rule, nil
	}
	user, err := f.auth.Authorize(w, r, rule.Policy)
	if err != nil {
		return o, rule, err
	}
	h := w.Header()
	f.identity.Set(h, user, user.AccessToken())
	if f.assertion != nil {
		if token, err := f.assertion.Sign(user, o.method, o.path); err == nil {
			h.Set(assertion.Header, token)
		} else {
			f.log.ErrorContext(r.Context(), "proxy: forward-auth: signing the identity assertion failed", "error", err)
		}
	}
	return o, rule, nil
}

// allow writes an allowed answer. Every identity header is sent, empty when unknown: Caddy before 2.10 copies
// the literal placeholder "{http.reverse_proxy.header.X-Appidgate-User}" for a copy_headers name the answer
// lacks (caddyserver/caddy#6610), which an app may take for a user; nginx's proxy_set_header skips empty values.
func allow(w http.ResponseWriter) {
	h := w.Header()
	for _, name := range [...]string{"X-Appidgate-User", "X-Appidgate-Email", "X-Appidgate-Name",
		"X-Appidgate-Roles", "X-Appidgate-Scopes", assertion.Header, "X-Auth-Request-User", "X-Auth-Request-Email",
		"X-Auth-Request-Groups", "X-Auth-Request-Preferred-Username"} {
		if _, ok := h[name]; !ok {
			h[name] = []string{""}
		}
	}
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// serveAuth is AuthPath: 200, 401 or 403 only.
func (f *ForwardAuth) serveAuth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	_, _, err := f.decide(w, r)
	switch {
	case err == nil:
		allow(w)
	case errors.Is(err, appid.ErrLoginRequired):
		w.WriteHeader(http.StatusUnauthorized)
	case errors.Is(err, appid.ErrForbidden):
		w.WriteHeader(http.StatusForbidden)
	case errors.Is(err, appid.ErrSessionStoreUnavailable):
		// nginx makes a 500 of a 503; a 401 sends the browser to sign in again, which is the least harm.
		f.log.ErrorContext(r.Context(), "proxy: forward-auth: the session store is unavailable; answering 401")
		w.WriteHeader(http.StatusUnauthorized)
	default:
		f.misconfigured(r, err)
		w.WriteHeader(http.StatusForbidden)
	}
}

// serveVerify is VerifyPath: 200, a 302 to login, 400, 401, 403 or 503.
func (f *ForwardAuth) serveVerify(w http.ResponseWriter, r *http.Request) {
	o, rule, err := f.decide(w, r)
	switch {
	case err == nil:
		allow(w)
	case errors.Is(err, appid.ErrLoginRequired):
		if !rule.API && acceptsHTML(r) && r.Header.Get("Authorization") == "" && (len(f.returnHosts) == 0 || f.returnHostAllowed(o.host)) {
			f.auth.Login(w, r, o.uri)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="appidgate"`)
		f.respond(w, r, true, http.StatusUnauthorized, "unauthorized", "login required")
	case errors.Is(err, appid.ErrForbidden):
		f.respond(w, r, rule.API, http.StatusForbidden, "Unauthorized!", "You are not allowed to see this page.")
	case errors.Is(err, appid.ErrSessionStoreUnavailable):
		f.respond(w, r, rule.API, http.StatusServiceUnavailable, "Could not load the session",
			"The session store is unavailable at the moment. Please try again shortly.")
	case errors.Is(err, errBadPath):
		f.respond(w, r, true, http.StatusBadRequest, "Bad request", "The request's path is malformed.")
	default:
		f.misconfigured(r, err)
		f.respond(w, r, true, http.StatusForbidden, "Forbidden", "The forward-auth request is not acceptable.")
	}
}

func (f *ForwardAuth) misconfigured(r *http.Request, err error) {
	level := slog.LevelInfo
	if errors.Is(err, errUntrusted) {
		level = slog.LevelWarn
	}
	f.log.Log(r.Context(), level, "proxy: forward-auth request refused", "peer", r.RemoteAddr, "error", err)
}

// serveStart is StartPath?rd=URL: it checks rd and starts the login.
func (f *ForwardAuth) serveStart(w http.ResponseWriter, r *http.Request) {
	rd := returnParam(r.URL.RawQuery)
	target, ok := f.returnTarget(rd)
	if !ok {
		f.log.InfoContext(r.Context(), "proxy: forward-auth: refused return URL", "rd", rd)
		f.respond(w, r, false, http.StatusBadRequest, "Bad request", "The return address is not allowed.")
		return
	}
	f.auth.Login(w, r, target)
}

// returnParam reads rd from StartPath's query, which must be its only parameter. nginx has no way to escape
// $request_uri, so "rd=/path?a=1&b=2" is read as it is, the rest of the query included, when the value starts
// with "/" or names a scheme ("https://..."); an escaped value ("rd=%2Fpath%3Fa%3D1") is unescaped.
func returnParam(rawQuery string) string {
	v, ok := strings.CutPrefix(rawQuery, "rd=")
	if !ok {
		return ""
	}
	if strings.HasPrefix(v, "/") || strings.Contains(v, "://") {
		return v
	}
	u, err := url.QueryUnescape(v)
	if err != nil {
		return "\x00" // refused by returnTarget
	}
	return u
}

// returnTarget is the same-origin path and query to return to after login, if rd is allowed: a path, or an
// absolute http(s) URL on an allowed host.
func (f *ForwardAuth) returnTarget(rd string) (string, bool) {
	if rd == "" {
		return "/", true
	}
	if strings.ContainsFunc(rd, func(r rune) bool { return r <= ' ' || r == '\\' || r >= 0x7f }) {
		return "", false
	}
	u, err := url.Parse(rd)
	if err != nil || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if u.Scheme != "" || u.Host != "" {
		if (u.Scheme != "http" && u.Scheme != "https") || !f.returnHostAllowed(strings.ToLower(u.Host)) {
			return "", false
		}
	} else if !strings.HasPrefix(rd, "/") || strings.HasPrefix(rd, "//") || strings.HasPrefix(rd, "/\\") {
		return "", false
	}
	target := u.EscapedPath()
	if target == "" {
		target = "/"
	}
	if u.RawQuery != "" {
		target += "?" + u.RawQuery
	}
	return target, true // appid's sanitizer checks it again
}

// returnHostAllowed reports whether host is one of the return hosts.
func (f *ForwardAuth) returnHostAllowed(host string) bool {
	for _, h := range f.returnHosts {
		if h == host {
			return true
		}
	}
	return false
}
