package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/internal/problem"
	"github.com/appidgate/appidgate/internal/server"
	"github.com/appidgate/appidgate/internal/settings"
	"github.com/appidgate/appidgate/internal/supervise"
	"github.com/appidgate/appidgate/internal/tracing"
	"github.com/appidgate/appidgate/proxy"
	"github.com/appidgate/appidgate/proxy/assertion"
)

const proxyUsage = `usage: appidgate proxy --upstream URL [flags] [-- COMMAND [ARGS...]]

Puts App ID (or OpenID Connect) login and role checks in front of an app written in any language: requests
pass to the upstream with the user's identity in X-Appidgate-* headers and a signed assertion
(X-Appidgate-Assertion, keys at /.well-known/appidgate/jwks.json). Paths that no rule names need a signed-in
user with at least one role. With a COMMAND after "--", the proxy starts the app as its child, with PORT set to
the upstream's port, waits until it listens, and on SIGTERM drains, stops it and exits with it. SIGHUP reloads
the routes file, as does a change of its content (APPIDGATE_ROUTES_RELOAD_INTERVAL); a file with problems
leaves the routes in force, and each problem is logged.

The proxy's own paths are not passed on: the callback (the path of APPID_REDIRECT_URI, /afterauth), /logout,
/healthz, /readyz, /metrics, /.well-known/appidgate/jwks.json and the forward-auth endpoints under
/.appidgate/ for nginx, Traefik and Caddy (they answer only --trusted-proxy peers; see docs/forward-auth.md).
The provider settings are the demo's; without APPID_OAUTH_SERVER_URL the embedded local provider stands in.
Routes: docs/proxy.md. Every setting: docs/configuration.md.

flags:
`

// proxyFlags are the proxy's settings from its flags, each with an APPIDGATE_* variable as its default.
type proxyFlags struct {
	upstream        string
	routesFile      string
	public, api     listFlag
	policies        listFlag
	defaultPolicy   string
	trusted         listFlag
	returnHosts     listFlag
	oauth2Proxy     bool
	passAuth        bool
	passAccessToken bool
	headerTimeout   time.Duration
	startTimeout    time.Duration
	assertionSecret string
}

// listFlag is a flag that may be given several times, each time a comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// runProxy runs appidgate proxy.
func runProxy(ctx context.Context, args []string, e env) int {
	var problems []appid.Problem
	r := settings.NewReader(e.lookupEnv, collect(&problems))
	f, command, code, ok := parseProxyFlags(args, r, e)
	if !ok {
		return code
	}
	upstream, trusted, flagProblems := f.check(command)
	problems = append(problems, flagProblems...)
	routes, err := loadRoutes(f)
	if err != nil {
		problems = append(problems, problem.Of(err)...)
	}
	interval, err := reloadInterval(r.String("APPIDGATE_ROUTES_RELOAD_INTERVAL"))
	if err != nil {
		problems = append(problems, problem.Of(err)...)
	}

	rp, code := startRelyingParty(ctx, e, "proxy", problems, func(cfg *appid.Config) {
		cfg.KeepAccessToken = cfg.KeepAccessToken || f.passAccessToken // the session must keep what is passed on
	})
	if rp == nil {
		return code
	}
	defer rp.Close()
	log := rp.opts.logger

	handler, origin, err := proxyHandler(rp, f, upstream, trusted, routes)
	if err != nil {
		fmt.Fprintf(e.stderr, "appidgate proxy: %v\n", err)
		return 1
	}
	var child *supervise.Child
	if len(command) > 0 {
		if child, err = startApp(ctx, e, command, upstream, f.startTimeout); err != nil {
			fmt.Fprintf(e.stderr, "appidgate proxy: %v\n", err)
			return 1
		}
		log.Debug("upstream started", "command", command[0], "pid", child.Pid(), "addr", upstream.Host)
		// The app ending on its own ends the proxy too, with its exit status.
		var cancelServe context.CancelFunc
		ctx, cancelServe = context.WithCancel(ctx)
		defer cancelServe()
		go func() {
			select {
			case <-child.Done():
				log.Error("the upstream app exited; stopping", "status", child.ExitCode())
				cancelServe()
			case <-ctx.Done():
			}
		}()
	}

	fmt.Fprintf(e.stdout, "appidgate proxy: open %s (upstream %s)\n", origin, upstream.Redacted())
	if rp.idp != nil {
		fmt.Fprintf(e.stdout, "  local App ID provider: %s (no cloud account needed)\n", rp.cfg.OAuthServerURL)
	}
	for _, w := range routes.Routes().PublicFallThroughs() {
		log.Warn("routes: "+w, "routes", f.routesFile)
	}
	loaded := routes.Version()
	rp.app.metrics.RoutesLoaded(loaded.LoadedAt, false)
	reloader := routesReloader{live: routes, log: log, metrics: rp.app.metrics}
	go reloader.run(ctx, e.hangup, interval)
	started := []any{"upstream", upstream.Redacted()}
	if f.routesFile != "" {
		started = append(started, "routes", f.routesFile, "routes_sha256", loaded.SHA256)
	}
	if child != nil {
		started = append(started, "command", command[0], "upstream_pid", child.Pid())
	}
	rp.logStarted("proxy", origin, started...)
	// The whole shutdown, the proxy's drain and then the app's, stays within the drain bound: Code Engine
	// (Knative) kills the container 30 s after SIGTERM.
	var stopAt atomic.Pointer[time.Time]
	context.AfterFunc(ctx, func() { now := time.Now(); stopAt.Store(&now) })
	code = rp.app.serveWith(ctx, rp.ln, handler, server.NewStreaming)
	if child == nil {
		return code
	}
	// Drained: now the app may go, with what is left of the bound (a second at least) as its grace.
	grace := rp.opts.drain
	if at := stopAt.Load(); at != nil {
		grace = max(rp.opts.drain-time.Since(*at), time.Second)
	}
	child.Stop(grace)
	status := child.ExitCode()
	if status == 128+int(syscall.SIGTERM) {
		status = 0 // ended by the SIGTERM it was sent, as asked
	}
	log.Info("upstream stopped", "status", status)
	if code != 0 {
		return code
	}
	return status
}

// parseProxyFlags reads the proxy's flags from args, with their APPIDGATE_* variables (read through r) as
// defaults, and returns them with the COMMAND after "--". ok is false when the process is to end with code:
// 0 after --help, 2 after a bad flag, with the usage printed once.
func parseProxyFlags(args []string, r *settings.Reader, e env) (f proxyFlags, command []string, code int, ok bool) {
	fs := flag.NewFlagSet("appidgate proxy", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usage and errors are printed below, once
	fs.Usage = func() {}
	h := settings.FlagHelp
	fs.StringVar(&f.upstream, "upstream", r.String("APPIDGATE_UPSTREAM"), h("upstream"))
	fs.StringVar(&f.routesFile, "routes", r.String("APPIDGATE_ROUTES"), h("routes"))
	fs.Var(&f.public, "public", h("public"))
	fs.Var(&f.api, "api", h("api"))
	fs.Var(&f.policies, "policy", h("policy"))
	fs.StringVar(&f.defaultPolicy, "default-policy", "", h("default-policy"))
	fs.Var(&f.trusted, "trusted-proxy", h("trusted-proxy"))
	fs.Var(&f.returnHosts, "return-host", h("return-host"))
	fs.BoolVar(&f.oauth2Proxy, "oauth2-proxy-headers", false, h("oauth2-proxy-headers"))
	fs.BoolVar(&f.passAuth, "pass-authorization", false, h("pass-authorization"))
	passAccessToken, _ := r.Bool("APPIDGATE_PASS_ACCESS_TOKEN")
	fs.BoolVar(&f.passAccessToken, "pass-access-token", passAccessToken, h("pass-access-token"))
	fs.DurationVar(&f.headerTimeout, "upstream-timeout", proxy.DefaultResponseHeaderTimeout, h("upstream-timeout"))
	fs.DurationVar(&f.startTimeout, "start-timeout", time.Minute, h("start-timeout"))
	f.assertionSecret = r.String("APPIDGATE_ASSERTION_SECRET")
	f.trusted = r.List("APPIDGATE_TRUSTED_PROXIES")
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, proxyUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(e.stdout)
			return f, nil, 0, false
		}
		fmt.Fprintf(e.stderr, "appidgate proxy: %v\n\n", err)
		printUsage(e.stderr)
		return f, nil, 2, false
	}
	return f, fs.Args(), 0, true
}

// check reads the upstream URL and the trusted proxies of f, naming every problem; command is the app to start,
// whose upstream URL must then name a port.
func (f proxyFlags) check(command []string) (*url.URL, []netip.Prefix, []appid.Problem) {
	var problems []appid.Problem
	upstream, err := url.Parse(f.upstream)
	switch {
	case f.upstream == "":
		problems = append(problems, appid.Problem{Setting: "--upstream (APPIDGATE_UPSTREAM)", Reason: "required, not set"})
	case err != nil || (upstream.Scheme != "http" && upstream.Scheme != "https") || upstream.Host == "":
		problems = append(problems, appid.Problem{Setting: "--upstream (APPIDGATE_UPSTREAM)",
			Reason: fmt.Sprintf("expected an http(s) URL such as http://127.0.0.1:8000, got %q", f.upstream)})
	case len(command) > 0 && upstream.Port() == "":
		problems = append(problems, appid.Problem{Setting: "--upstream",
			Reason: fmt.Sprintf("with a COMMAND to start, the upstream URL must name the port it listens on, got %q", f.upstream)})
	}
	var trusted []netip.Prefix
	for _, c := range f.trusted {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			if a, aerr := netip.ParseAddr(c); aerr == nil {
				p, err = a.Prefix(a.BitLen())
			}
		}
		if err != nil {
			problems = append(problems, appid.Problem{Setting: "--trusted-proxy",
				Reason: fmt.Sprintf("expected a CIDR such as 10.0.0.0/8, got %q", c)})
			continue
		}
		trusted = append(trusted, p.Masked())
	}
	return upstream, trusted, problems
}

// proxyHandler builds what the proxy serves on rp's listener: the login callback and logout, the probes, the
// forward-auth endpoints, the assertion's keys and, for every other path, the proxy to upstream. It returns the
// handler and the public origin (from APPID_REDIRECT_URI).
func proxyHandler(rp *relyingParty, f proxyFlags, upstream *url.URL, trusted []netip.Prefix,
	routes *proxy.LiveRoutes) (http.Handler, string, error) {
	log := rp.opts.logger
	public, err := url.Parse(rp.cfg.RedirectURL)
	if err != nil {
		return nil, "", err
	}
	origin := public.Scheme + "://" + public.Host
	keys, err := assertionKeys(f.assertionSecret, rp.cfg.SessionKeys)
	if err != nil {
		return nil, "", err
	}
	signer, err := proxy.NewAssertionSigner(proxy.AssertionConfig{Issuer: origin,
		Audience: upstream.Scheme + "://" + upstream.Host, Keys: keys})
	if err != nil {
		return nil, "", err
	}
	p, err := proxy.New(proxy.Config{
		Upstream:   upstream,
		Auth:       rp.app.auth,
		LiveRoutes: routes,
		Identity: proxy.IdentityHeaders{OAuth2Proxy: f.oauth2Proxy, PassAuthorization: f.passAuth,
			AccessToken: f.passAccessToken},
		Assertion:      signer,
		TrustedProxies: trusted,
		Transport: tracing.Transport(rp.app.traces,
			rp.app.metrics.UpstreamTransport(proxy.NewTransport(0, f.headerTimeout)), upstreamSpanName),
		Logger:       log,
		TemplatesDir: rp.cfg.TemplatesDir,
	})
	if err != nil {
		return nil, "", err
	}
	returnHosts := []string(f.returnHosts)
	if len(returnHosts) == 0 {
		returnHosts = []string{public.Host}
	}
	fa, err := proxy.NewForwardAuth(proxy.Config{
		Auth:           rp.app.auth,
		LiveRoutes:     routes,
		Identity:       proxy.IdentityHeaders{AccessToken: f.passAccessToken},
		Assertion:      signer,
		TrustedProxies: trusted,
		ReturnHosts:    returnHosts,
		Logger:         log,
		TemplatesDir:   rp.cfg.TemplatesDir,
	})
	if err != nil {
		return nil, "", err
	}

	mux := http.NewServeMux()
	rp.app.auth.Mount(mux)
	rp.app.mountOps(mux)
	fa.Mount(mux)
	mux.Handle("GET "+assertion.JWKSPath, signer.JWKSHandler())
	mux.Handle("/", p)
	// Only the proxies in front may continue their trace here (anyone else's request starts a trace of its own,
	// and the upstream receives this trace's context, never the client's), and audit records name the client
	// these proxies saw.
	rp.app.trustedProxies = trusted
	if rp.local && !rp.opts.localIdP {
		return canonicalHost(rp.cfg.RedirectURL, log, mux), origin, nil
	}
	return mux, origin, nil
}

// startApp starts command as the proxy's upstream app, with PORT set to upstream's port, and waits at most
// timeout until it listens there. On failure the app has been stopped, and the error says what to change.
func startApp(ctx context.Context, e env, command []string, upstream *url.URL, timeout time.Duration) (*supervise.Child, error) {
	child, err := supervise.Start(command, appEnv(os.Environ(), upstream.Port()), e.stdout, e.stderr)
	if err != nil {
		return nil, err
	}
	readyCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := child.WaitReady(readyCtx, upstream.Host); err != nil {
		timedOut := errors.Is(readyCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
		child.Stop(5 * time.Second)
		if timedOut {
			// The usual cause: the app listens on a port of its own choosing instead of $PORT.
			return nil, fmt.Errorf("the app did not listen on %s within %s; it was started with PORT=%s: make it "+
				"listen on $PORT, or raise --start-timeout", upstream.Host, timeout, upstream.Port())
		}
		return nil, err
	}
	return child, nil
}

// upstreamSpanName names the span of a request passed on to the upstream app: "GET upstream". The server span
// above it names the route.
func upstreamSpanName(r *http.Request) string { return r.Method + " upstream" }

// loadRoutes reads the routes file and flags of f, to be reloaded when the file changes.
func loadRoutes(f proxyFlags) (*proxy.LiveRoutes, error) {
	return proxy.LoadLiveRoutes(f.routesFile, routeFlags(f))
}

// routeFlags are the route settings of f's flags.
func routeFlags(f proxyFlags) proxy.RouteFlags {
	return proxy.RouteFlags{Default: f.defaultPolicy, Public: f.public, API: f.api, Policy: f.policies}
}

// assertionKeys are the assertion's keys, the first signing and all published: derived from
// APPIDGATE_ASSERTION_SECRET when set (comma-separated: the current secret, then previous ones still published
// during a rotation), else from the session keys, so that every replica, configured alike, signs with the same key.
func assertionKeys(secret string, sessionKeys [][]byte) ([]*ecdsa.PrivateKey, error) {
	if secret == "" {
		return proxy.DeriveAssertionKeys(sessionKeys...)
	}
	var secrets [][]byte
	for s := range strings.SplitSeq(secret, ",") {
		if s = strings.TrimSpace(s); s != "" {
			secrets = append(secrets, []byte(s))
		}
	}
	keys, err := proxy.DeriveAssertionKeys(secrets...)
	if err != nil {
		return nil, fmt.Errorf("APPIDGATE_ASSERTION_SECRET: %w", err)
	}
	return keys, nil
}

// appEnv is the environment of the app the proxy starts: the proxy's own, with PORT set to the upstream's
// port and without the proxy's secrets, which the app has no use for.
func appEnv(environ []string, port string) []string {
	out := make([]string, 0, len(environ)+1)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "PORT", name == "SESSION_SECRET_KEY", name == "IBM_CLOUD_APIKEY",
			name == "APPID_CLIENT_SECRET", name == "APPIDGATE_ASSERTION_SECRET",
			name == "APPIDGATE_SESSION_PREVIOUS_KEYS", name == "APPIDGATE_REDIS_URL":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "PORT="+port)
}
