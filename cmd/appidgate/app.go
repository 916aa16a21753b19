package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"

	"github.com/appidgate/appidgate/appid"
	"github.com/appidgate/appidgate/appid/session"
	"github.com/appidgate/appidgate/appid/session/redisstore"
	"github.com/appidgate/appidgate/internal/appidenv"
	"github.com/appidgate/appidgate/internal/audit"
	"github.com/appidgate/appidgate/internal/buildinfo"
	"github.com/appidgate/appidgate/internal/health"
	"github.com/appidgate/appidgate/internal/logging"
	"github.com/appidgate/appidgate/internal/server"
	"github.com/appidgate/appidgate/internal/tracing"
	"github.com/appidgate/appidgate/metrics"
)

// outboundTimeout bounds every call to the provider, IAM and the management API.
const outboundTimeout = 10 * time.Second

// app is the relying party with its operational parts: metrics, readiness checks and the session store.
type app struct {
	auth    *appid.Auth
	metrics *metrics.Metrics
	checks  []health.Check
	opts    serveOptions
	closers []func() error
	// stopping is set when serving's context ends (SIGTERM): /readyz fails from then on, while the server
	// still serves for APPIDGATE_SHUTDOWN_DELAY.
	stopping atomic.Bool
	// traces traces requests, provider calls and Redis commands.
	traces *tracing.Provider
	// trustedProxies are the peers in front (--trusted-proxy): only they may continue their trace context in a
	// request's span, and their X-Forwarded-For names the client in audit records. nil: no one.
	trustedProxies []netip.Prefix
}

// errStopping is the readiness failure of an instance that has been asked to stop.
var errStopping = errors.New("shutting down: SIGTERM received")

// newApp builds the relying party for cfg, instrumented and logged as opts says. It does no network I/O: the
// provider's metadata and keys load on first use, and readiness reports when they have.
func newApp(ctx context.Context, cfg appid.Config, redis appidenv.Redis, opts serveOptions) (*app, error) {
	a := &app{metrics: metrics.New(), opts: opts}
	if err := a.startTracing(ctx); err != nil {
		return nil, err
	}
	cfg.Logger = opts.logger
	cfg.Observer = a.metrics
	auditLogger, closeAudit, err := opts.auditLog.open()
	if err != nil {
		return nil, err
	}
	cfg.AuditLogger = auditLogger
	a.closers = append(a.closers, closeAudit)
	cfg.TracerProvider = a.traces
	// The request log line names the user, refused ones included.
	cfg.OnUser = func(r *http.Request, u *appid.User) { logging.SetUser(r.Context(), u.ID) }
	cfg.HTTPClient = &http.Client{
		Timeout: outboundTimeout,
		Transport: tracing.Transport(a.traces, a.metrics.Transport(http.DefaultTransport, metrics.EndpointOf),
			providerSpanName),
	}
	if redis.URL != "" {
		store, closeStore, err := redisStore(cfg, redis, a.traces)
		if err != nil {
			a.Close()
			return nil, err
		}
		cfg.Store = store
		a.closers = append(a.closers, closeStore)
		ping := store.Ping
		if redis.CACert != "" {
			ping = func(ctx context.Context) error {
				err := store.Ping(ctx)
				if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
					return fmt.Errorf("%w (APPIDGATE_REDIS_CA_CERT is not the CA of this Redis)", err)
				}
				return err
			}
		}
		a.checks = append(a.checks, health.Check{Name: "redis", Run: ping})
	}
	auth, err := appid.New(ctx, cfg)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.auth = auth
	a.checks = append([]health.Check{{Name: "provider", Run: auth.Ready}}, a.checks...)
	if usesTrustedProfile(cfg) {
		// The platform's token file or the profile's trust can fail while the app runs; an API key cannot.
		a.checks = append(a.checks, health.Check{Name: "iam", Run: auth.IAMReady})
	}
	return a, nil
}

// startTracing makes a.traces: the tests' exporter when they gave one, else what the OTEL_* variables ask for.
// The provider is shut down (its last spans sent) by serveWith, or by Close.
func (a *app) startTracing(ctx context.Context) error {
	var err error
	switch {
	case a.opts.spans != nil:
		a.traces, err = tracing.WithExporter(a.opts.spans, buildinfo.Read().Version, true)
	default:
		a.traces, err = tracing.New(ctx, a.opts.traces, buildinfo.Read().Version)
	}
	if err != nil {
		return err
	}
	a.closers = append(a.closers, func() error { return a.flushTraces(time.Second) })
	if a.traces.Enabled() {
		log := a.opts.logger
		// The SDK reports failed exports to OpenTelemetry's one error handler, which otherwise writes
		// unstructured lines to stderr: make them warnings of the process's log.
		otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
			log.Warn("tracing: spans not exported", "err", err.Error())
		}))
		log.Info("traces are exported over OTLP/HTTP as the OTEL_* variables say")
	}
	return nil
}

// flushTraces sends the spans not yet exported and stops the exporter, waiting at most bound.
func (a *app) flushTraces(bound time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if err := a.traces.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: sending the last spans: %w", err)
	}
	return nil
}

// providerSpanName names the span of a call to the provider, IAM or the management API by its method and
// endpoint ("POST token", "GET publickeys"): never by its path, which holds tenant and user ids.
func providerSpanName(r *http.Request) string { return r.Method + " " + metrics.EndpointOf(r) }

// redisStore connects the Redis session store that redis names, sealing sessions with cfg's keys, its commands
// traced by tp.
func redisStore(cfg appid.Config, redis appidenv.Redis, tp *tracing.Provider) (*redisstore.RedisStore, func() error, error) {
	var roots *x509.CertPool
	if redis.CACert != "" {
		var err error
		if roots, err = redisstore.ParseRedisCACert(redis.CACert); err != nil {
			return nil, nil, fmt.Errorf("APPIDGATE_REDIS_CA_CERT: %w", err)
		}
	}
	client, err := redisstore.NewRedisClient(redis.URL, roots)
	if err != nil {
		return nil, nil, fmt.Errorf("APPIDGATE_REDIS_URL: %w", err)
	}
	client.AddHook(tracing.RedisHook(tp))
	codec, err := session.NewCodec(cfg.SessionKeys...)
	if err != nil {
		client.Close()
		return nil, nil, err
	}
	store := redisstore.NewRedisStore(client, codec, redisstore.RedisOptions{Secure: isHTTPS(cfg.RedirectURL)})
	return store, client.Close, nil
}

// mountOps registers /healthz, /readyz and, unless it has a listener of its own, /metrics.
func (a *app) mountOps(mux *http.ServeMux) {
	mux.Handle("GET /healthz", health.Live())
	// Whether the instance is stopping is read once per /readyz request, so that its answer and its connection
	// agree: a "stopping" answer always closes its connection, as the server does from the same moment.
	stopping := health.Check{Name: "shutdown", Run: func(ctx context.Context) error {
		if stopping, _ := ctx.Value(stoppingKey{}).(bool); stopping {
			return errStopping
		}
		return nil
	}}
	ready := health.Ready(a.opts.logger, 0, append([]health.Check{stopping}, a.checks...)...)
	mux.Handle("GET /readyz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.stopping.Load() {
			w.Header().Set("Connection", "close")
			r = r.WithContext(context.WithValue(r.Context(), stoppingKey{}, true))
		}
		ready.ServeHTTP(w, r)
	}))
	if a.opts.metricsAddr == "" {
		mux.Handle("GET /metrics", a.metrics.Handler())
	}
}

// stoppingKey marks, in a /readyz request's context, that the instance was stopping when the request came.
type stoppingKey struct{}

// serve runs the handler chain on ln (and /metrics on its own listener when asked) until ctx ends, then drains.
// It returns the process exit code.
func (a *app) serve(ctx context.Context, ln net.Listener, routes http.Handler) int {
	return a.serveWith(ctx, ln, routes, server.New)
}

// serveWith is serve with the main listener's server built by newServer (server.NewStreaming for the proxy).
func (a *app) serveWith(ctx context.Context, ln net.Listener, routes http.Handler,
	newServer func(http.Handler) *http.Server) int {
	log := a.opts.logger
	// The request's span is outside the request log so that the log line carries its trace id; Route sits next to
	// the mux, which writes the route it matched into the request it is given, so nothing between them may make
	// a new request. With traces off (the default) neither is on the request path at all. The audit's client
	// address goes into the context outermost, for the same reason.
	inner := routes
	if a.traces.Enabled() {
		inner = tracing.Route(routes)
	}
	handler := logging.Requests(log, a.metrics.Middleware(inner))
	if a.traces.Enabled() {
		handler = tracing.Handler(a.traces, tracing.TrustedPeers(a.trustedProxies), handler)
	}
	handler = audit.ClientAddresses(a.trustedProxies, handler)
	var stopped atomic.Pointer[time.Time]
	context.AfterFunc(ctx, func() { now := time.Now(); stopped.Store(&now) })

	var mln net.Listener
	if a.opts.metricsAddr != "" {
		var err error
		if mln, err = net.Listen("tcp", a.opts.metricsAddr); err != nil {
			log.Error("cannot listen for metrics", "addr", a.opts.metricsAddr,
				"err", listenProblem(a.opts.metricsAddr, err, "set APPIDGATE_METRICS_ADDR"))
			return 1
		}
	}
	context.AfterFunc(ctx, func() { a.stopping.Store(true) })
	errs := make(chan error, 2)
	running := 1
	go func() { errs <- server.Run(ctx, newServer(handler), ln, a.opts.shutdown(), log) }()
	if mln != nil {
		running++
		go func() { errs <- server.Run(ctx, server.New(a.metrics.Handler()), mln, a.opts.shutdown(), log) }()
	}
	var failed error
	for range running {
		if err := <-errs; err != nil {
			failed = errors.Join(failed, err)
			log.Error("server stopped with an error", "err", err.Error())
		}
	}
	// The last spans go out with what is left of the drain bound (a tenth of a second at least, five at most).
	left := a.opts.drain
	if at := stopped.Load(); at != nil {
		left -= time.Since(*at)
	}
	if err := a.flushTraces(min(max(left, 100*time.Millisecond), 5*time.Second)); err != nil {
		log.Warn("traces not all sent at shutdown", "err", err.Error())
	}
	if failed != nil {
		return 1
	}
	return 0
}

// Close releases what newApp opened.
func (a *app) Close() error {
	var err error
	for _, c := range a.closers {
		err = errors.Join(err, c())
	}
	return err
}

// isHTTPS reports whether rawURL is an https URL: the app's public scheme, whatever the request says.
func isHTTPS(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && u.Scheme == "https"
}
