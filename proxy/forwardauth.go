package proxy

import (
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/answer"
	"github.com/appidgate/appidgate/internal/audit"
	"github.com/appidgate/appidgate/internal/problem"
	"github.com/appidgate/appidgate/proxy/assertion"
)

// The forward-auth endpoints' paths, under the proxy's reserved prefix /.appidgate/.
const (
	// AuthPath is the endpoint for nginx auth_request (and ingress-nginx's auth-url).
	AuthPath = "/.appidgate/auth"
	// VerifyPath is the endpoint for Traefik forwardAuth and Caddy forward_auth.
	VerifyPath = "/.appidgate/verify"
	// StartPath is a sign-in link: StartPath?rd=URL (ingress-nginx's auth-signin).
	StartPath = "/.appidgate/start"
	// ErrorPath answers a request that AuthPath refused, for nginx's error_page 401 403 (a named location that
	// proxies to it with the same headers as the auth_request): the login redirect, 401 JSON or the 403 page.
	ErrorPath = "/.appidgate/error"
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
// misconfigured or malformed request). It never redirects, and nginx shows none of its answer's body: nginx's
// error_page 401 403 sends the request on to ErrorPath, which decides again and writes the answer the client
// sees. StartPath?rd=URL starts the login and comes back to rd: a same-origin path, or an absolute URL on
// one of Config.ReturnHosts (appidgate proxy defaults them to the host of its public URL; with none, only
// paths are accepted). appid returns only to paths on
// the proxy's own origin, so the login always comes back to rd's path and query on the proxy's public host:
// serve the proxy's paths (the callback, /logout, /.appidgate/) on the app's own host, as nginx auth_request
// is usually deployed.
//
// VerifyPath, for Traefik and Caddy, which pass any answer but a 2xx to the client: 200 allows; without a
// session a browser gets a 302 to the provider's login (coming back to the original path and query; only when
// X-Forwarded-Host is one of Config.ReturnHosts, if any are set), an API request (an API route, a request
// that does not accept text/html, or one with an Authorization header) 401 JSON with WWW-Authenticate; a
// refused user 403, appidgate's page or JSON; a failed store 503; a malformed path 400.
//
// ErrorPath answers as VerifyPath does, except that it never allows: a request allowed by the time it is asked
// (its session changed since AuthPath refused it) gets a 307 back to the original URI, to be asked again.
//
// Each answer but an allowed one logs its reason: at DEBUG for a request without a session, at INFO for a
// refused user or a malformed path, and at WARN (at most once a minute for each reason, else at DEBUG) for a
// front proxy that is not trusted or that does not send the headers it must.
//
// An allowed answer carries the user's identity in response headers for auth_request_set,
// authResponseHeaders or copy_headers: the X-Appidgate family, oauth2-proxy's X-Auth-Request-* names (see
// IdentityHeaders) and, with Config.Assertion, the signed assertion bound to the original method and path.
// It also carries any Set-Cookie of a refreshed session, which the front proxy must pass to the client.
type ForwardAuth struct {
	gate
	trusted     []netip.Prefix
	returnHosts []string
	warned      warnings
}

// warnings limits a misconfiguration's WARN line to one a minute for each reason: a front proxy that is set up
// wrong sends every request wrong.
type warnings struct {
	mu   sync.Mutex
	last map[string]time.Time // by reason: a fixed message, so the map stays small
}

// level is WARN for reason if it was not warned of in the last minute, else DEBUG.
func (w *warnings) level(reason string) slog.Level {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if t, ok := w.last[reason]; ok && now.Sub(t) < time.Minute {
		return slog.LevelDebug
	}
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	w.last[reason] = now
	return slog.LevelWarn
}

// NewForwardAuth returns the forward-auth endpoints of cfg; cfg.Upstream, the transport and its timeouts are
// not used. The identity headers always include oauth2-proxy's auth-endpoint names (AuthRequest).
func NewForwardAuth(cfg Config) (*ForwardAuth, error) {
	set, problems := cfg.checkShared()
	if len(problems) > 0 {
		return nil, errors.New("proxy: forward-auth: " + problem.Join(problems, "; "))
	}
	f := &ForwardAuth{gate: newGate(cfg, set, "proxy: forward-auth", "forward-auth "), trusted: cfg.TrustedProxies}
	f.identity.AuthRequest = true
	for _, h := range cfg.ReturnHosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			f.returnHosts = append(f.returnHosts, h)
		}
	}
	return f, nil
}

// Mount registers AuthPath, VerifyPath, ErrorPath and StartPath on mux (see appid.Router).
func (f *ForwardAuth) Mount(mux appid.Router) {
	mux.Handle(AuthPath, http.HandlerFunc(f.serveAuth))
	mux.Handle(VerifyPath, http.HandlerFunc(f.serveVerify))
	mux.Handle(ErrorPath, http.HandlerFunc(f.serveError))
	mux.Handle("GET "+StartPath, http.HandlerFunc(f.serveStart))
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
		return original{}, errors.New("proxy: forward-auth: no X-Forwarded-Uri, X-Original-URI or X-Original-URL " +
			"(nginx: proxy_set_header X-Original-URI $request_uri)")
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
		return original{}, errors.New("proxy: forward-auth: missing X-Original-Method or X-Forwarded-Method " +
			"(nginx: proxy_set_header X-Original-Method $request_method)")
	}
	method := given
	if !ValidMethod(method) {
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

// ValidMethod reports whether m is a method as rules name them: upper-case letters, with "-" or "_" inside
// (WebDAV's VERSION-CONTROL), at most 32 bytes. Rules match methods exactly, so an upstream never sees "get"
// for a request that a GET rule admitted; the proxy answers 400 to a method that is not valid.
func ValidMethod(m string) bool {
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

// decide reads the original request and admits it. On success it has set the identity headers on w. The user is
// the one refused, with appid.ErrForbidden.
func (f *ForwardAuth) decide(w http.ResponseWriter, r *http.Request) (original, Rule, *appid.User, error) {
	o, err := f.readOriginal(r)
	if err != nil {
		return o, Rule{}, nil, err
	}
	rule, user, err := f.admit(w, r, o.method, o.path)
	if err != nil || user == nil {
		return o, rule, user, err
	}
	f.stamp(r.Context(), w.Header(), user, o.method, o.path)
	return o, rule, user, nil
}

// allow writes an allowed answer. Every identity header is sent, empty when unknown: Caddy before 2.10 copies
// the literal placeholder "{http.reverse_proxy.header.X-Appidgate-User}" for a copy_headers name the answer
// lacks (caddyserver/caddy#6610), which an app may take for a user; nginx's proxy_set_header skips empty values.
func allow(w http.ResponseWriter) {
	h := w.Header()
	for _, name := range identityNames() {
		if _, ok := h[name]; !ok {
			h[name] = []string{""}
		}
	}
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// identityNames are the identity headers an allowed answer carries.
func identityNames() []string {
	return []string{"X-Appidgate-User", "X-Appidgate-Email", "X-Appidgate-Name", "X-Appidgate-Roles",
		"X-Appidgate-Scopes", "X-Appidgate-Access-Token", assertion.Header, "X-Auth-Request-User", "X-Auth-Request-Email",
		"X-Auth-Request-Groups", "X-Auth-Request-Preferred-Username", "X-Auth-Request-Access-Token"}
}

// serveAuth is AuthPath: 200, 401 or 403 only.
func (f *ForwardAuth) serveAuth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	o, rule, user, err := f.decide(w, r)
	ctx := r.Context()
	switch {
	case err == nil:
		f.allowed(r, o, rule)
		allow(w)
	case errors.Is(err, appid.ErrLoginRequired):
		f.log.DebugContext(ctx, "forward-auth: no session, answering 401 (nginx's error_page 401 sends the request to "+
			ErrorPath+" for the sign-in redirect or 401 JSON)", "method", o.method, "uri_path", o.path, "route", rule.Pattern)
		w.WriteHeader(http.StatusUnauthorized)
	case errors.Is(err, appid.ErrForbidden):
		f.forbidden(r, o, rule, user, slog.LevelInfo)
		w.WriteHeader(http.StatusForbidden)
	case errors.Is(err, appid.ErrSessionStoreUnavailable):
		// nginx makes a 500 of a 503; a 401 sends the browser to sign in again, which is the least harm.
		f.log.ErrorContext(ctx, "proxy: forward-auth: the session store is unavailable; answering 401")
		w.WriteHeader(http.StatusUnauthorized)
	case errors.Is(err, appid.ErrProviderUnavailable):
		f.log.ErrorContext(ctx, "proxy: forward-auth: the identity provider is out of reach to check a bearer token; answering 401")
		w.WriteHeader(http.StatusUnauthorized)
	case errors.Is(err, errBadPath):
		f.log.InfoContext(ctx, "forward-auth refused: the original path is malformed or not in its clean form; answering 403")
		w.WriteHeader(http.StatusForbidden)
	default:
		f.misconfigured(r, err)
		w.WriteHeader(http.StatusForbidden)
	}
}

// serveVerify is VerifyPath: 200, a 302 to login, 400, 401, 403 or 503.
func (f *ForwardAuth) serveVerify(w http.ResponseWriter, r *http.Request) {
	o, rule, user, err := f.decide(w, r)
	if err == nil {
		f.allowed(r, o, rule)
		allow(w)
		return
	}
	f.refuse(w, r, o, rule, user, err, slog.LevelInfo)
}

// serveError is ErrorPath: what VerifyPath answers, but never an allowed answer.
func (f *ForwardAuth) serveError(w http.ResponseWriter, r *http.Request) {
	r = audit.Repeated(r) // AuthPath wrote the refusal's audit record
	before := w.Header().Clone()
	o, rule, user, err := f.decide(w, r)
	if err == nil {
		// Allowed by now. This answer goes to the client as it is, and every header decide added is identity
		// meant for the front proxy (the access token among them): drop them all, keeping only the session's
		// cookies, which a refresh may have renewed.
		h := w.Header()
		cookies := h["Set-Cookie"]
		clear(h)
		maps.Copy(h, before)
		if cookies != nil {
			h["Set-Cookie"] = cookies
		}
		f.log.InfoContext(r.Context(), "forward-auth: allowed on the second asking; sending the client back to ask again",
			"method", o.method, "uri_path", o.path, "route", rule.Pattern)
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, o.uri, http.StatusTemporaryRedirect)
		return
	}
	f.refuse(w, r, o, rule, user, err, slog.LevelDebug) // AuthPath logged the refusal at INFO
}

// refuse writes VerifyPath's and ErrorPath's answer to a request decide refused with err, logging a refused
// user at refusedLevel.
func (f *ForwardAuth) refuse(w http.ResponseWriter, r *http.Request, o original, rule Rule, user *appid.User, err error,
	refusedLevel slog.Level) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case rule.Bearer && bearerSent(r):
		// Decided by the token: answered as appid.Auth.RequireBearer answers (JSON, RFC 6750's challenge).
		if errors.Is(err, appid.ErrForbidden) {
			f.forbidden(r, o, rule, user, refusedLevel)
		} else {
			f.log.DebugContext(ctx, "forward-auth: the bearer token is refused", "method", o.method, "uri_path", o.path,
				"route", rule.Pattern, "error", err)
		}
		f.auth.Refuse(w, r, err)
	case errors.Is(err, appid.ErrLoginRequired):
		attrs := []any{"method", o.method, "uri_path", o.path, "route", rule.Pattern}
		why := ""
		switch {
		case rule.API:
			why = "the route is an API"
		case r.Header.Get("Authorization") != "":
			why = "the request has an Authorization header"
		case !answer.AcceptsHTML(r):
			why = "the request does not accept text/html"
		case !answer.Navigation(r):
			// The rule appid.Auth.Refuse follows too: a script (fetch, XMLHttpRequest) cannot follow a sign-in.
			why = "the request is a script's (Sec-Fetch-Mode or X-Requested-With)"
		case len(f.returnHosts) > 0 && !f.returnHostAllowed(o.host):
			// A browser that will never be signed in on this host: the front proxy's Host or X-Forwarded-Host
			// is not the public host.
			f.log.Log(ctx, f.warned.level("return host"), "forward-auth: no session, answering 401 and not the sign-in "+
				"redirect: the host "+o.host+" is not a return host (--return-host, default the host of APPID_REDIRECT_URI)",
				attrs...)
		default:
			f.log.DebugContext(ctx, "forward-auth: no session, redirecting the browser to sign in", attrs...)
			f.auth.Login(w, r, o.uri)
			return
		}
		if why != "" {
			f.log.DebugContext(ctx, "forward-auth: no session, answering 401 JSON: "+why, attrs...)
		}
		answer.Unauthorized(w, "")
	case errors.Is(err, appid.ErrForbidden):
		f.forbidden(r, o, rule, user, refusedLevel)
		f.respond(w, r, rule.API, http.StatusForbidden, "Unauthorized!", "You are not allowed to see this page.")
	case errors.Is(err, appid.ErrSessionStoreUnavailable):
		f.log.ErrorContext(ctx, "proxy: forward-auth: the session store is unavailable; answering 503")
		f.respond(w, r, rule.API, http.StatusServiceUnavailable, "Could not load the session",
			"The session store is unavailable at the moment. Please try again shortly.")
	case errors.Is(err, errBadPath):
		f.log.InfoContext(ctx, "forward-auth refused: the original path is malformed or not in its clean form; answering 400")
		f.respond(w, r, true, http.StatusBadRequest, "Bad request", "The request's path is malformed.")
	default:
		f.misconfigured(r, err)
		f.respond(w, r, true, http.StatusForbidden, "Forbidden", "The forward-auth request is not acceptable.")
	}
}

// bearerSent reports whether r carries an "Authorization: Bearer" token, by which a rule with Bearer decides it.
func bearerSent(r *http.Request) bool {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != ""
}

// allowed logs an allowed request at DEBUG.
func (f *ForwardAuth) allowed(r *http.Request, o original, rule Rule) {
	f.log.DebugContext(r.Context(), "forward-auth: allowed", "method", o.method, "uri_path", o.path, "route", rule.Pattern,
		"public", rule.Public)
}

// forbidden logs a signed-in user refused by the route's policy, at level.
func (f *ForwardAuth) forbidden(r *http.Request, o original, rule Rule, user *appid.User, level slog.Level) {
	attrs := []any{"method", o.method, "uri_path", o.path, "route", rule.Pattern, "policy", rule.Policy.String()}
	if user != nil {
		attrs = append(attrs, "user", user.ID)
	}
	f.log.Log(r.Context(), level, "forward-auth refused: the user does not meet the route's policy; answering 403", attrs...)
}

// misconfigured logs a forward-auth request that a front proxy set up wrong would send: at WARN, once a minute
// for each reason.
func (f *ForwardAuth) misconfigured(r *http.Request, err error) {
	msg := "forward-auth refused: " + strings.TrimPrefix(err.Error(), "proxy: forward-auth: ")
	if errors.Is(err, errUntrusted) {
		peer, _, splitErr := net.SplitHostPort(r.RemoteAddr)
		if splitErr != nil {
			peer = r.RemoteAddr
		}
		msg = "forward-auth refused: peer " + peer + " is not a trusted proxy (--trusted-proxy)"
	}
	f.log.Log(r.Context(), f.warned.level(err.Error()), msg+"; answering 403", "peer", r.RemoteAddr, "path", r.URL.Path)
}

// returnHostOf is the host a refused return URL names, for the log: never its path or query, which may carry
// anything, and at most 256 bytes of it.
func returnHostOf(rd string) string {
	host := ""
	if u, err := url.Parse(rd); err == nil {
		host = u.Host
	}
	if len(host) > 256 {
		host = host[:256]
	}
	return host
}

// serveStart is StartPath?rd=URL: it checks rd and starts the login.
func (f *ForwardAuth) serveStart(w http.ResponseWriter, r *http.Request) {
	rd := returnParam(r.URL.RawQuery)
	target, ok := f.returnTarget(rd)
	if !ok {
		f.log.InfoContext(r.Context(), "forward-auth sign-in refused: the return URL is neither a path nor on a return host "+
			"(--return-host, default the host of APPID_REDIRECT_URI); answering 400", "rd_host", returnHostOf(rd))
		f.respond(w, r, false, http.StatusBadRequest, "Bad request", "The return address is not allowed.")
		return
	}
	f.log.DebugContext(r.Context(), "forward-auth sign-in: redirecting the browser to the provider's login", "return_path", strings.SplitN(target, "?", 2)[0])
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
