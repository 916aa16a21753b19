package tracing

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/appidgate/appidgate/internal/httpwrap"
	"github.com/appidgate/appidgate/internal/logging"
	"github.com/appidgate/appidgate/internal/trusted"
)

// Trace context headers (W3C Trace Context).
const (
	TraceparentHeader = "Traceparent"
	TracestateHeader  = "Tracestate"
)

// maxPathLen bounds the url.path attribute, as the request log line bounds its path.
const maxPathLen = 256

// propagator reads and writes the W3C traceparent and tracestate headers; it holds no state.
var propagator propagation.TraceContext

// Handler starts a server span for each request to next and puts it in the request's context. The trace
// context a caller sent (traceparent, tracestate) becomes the span's parent only when trusted reports the
// caller as trusted (nil trusts no one); from anyone else the span starts a new trace. The span is named by the
// request's method until Route names it by its route. It records the method, path (never the query), scheme,
// host, client address and status: no header, cookie or query string.
func Handler(tp trace.TracerProvider, trusted func(*http.Request) bool, next http.Handler) http.Handler {
	tracer := tp.Tracer(ScopeName)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if trusted != nil && trusted(r) {
			ctx = propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		attrs := []attribute.KeyValue{
			attribute.String("http.request.method", r.Method),
			attribute.String("url.path", truncate(r.URL.Path, maxPathLen)),
			attribute.String("url.scheme", scheme),
			attribute.String("server.address", hostOnly(r.Host)),
		}
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			attrs = append(attrs, attribute.String("network.peer.address", host))
		}
		ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		defer span.End()
		rec := httpwrap.Wrap(w)
		next.ServeHTTP(rec, r.WithContext(ctx))
		status := rec.Status()
		span.SetAttributes(attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	})
}

// Route names the request's server span by the route that served it, once next has run: r.Pattern as the
// ServeMux (or the proxy, with its rule) wrote it, never the raw path. It also records the request id. next
// must be the *http.ServeMux (or a handler that passes the same *http.Request on), as for metrics.Middleware.
func Route(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		span := trace.SpanFromContext(r.Context())
		if !span.IsRecording() {
			return
		}
		if id := logging.RequestID(r.Context()); id != "" {
			span.SetAttributes(attribute.String("appidgate.request_id", id))
		}
		if r.Pattern == "" {
			return
		}
		span.SetName(spanName(r.Method, r.Pattern))
		span.SetAttributes(attribute.String("http.route", r.Pattern))
	})
}

// spanName is "METHOD pattern", or pattern alone when it begins with the method already ("GET /auth_route").
func spanName(method, pattern string) string {
	if m, _, ok := strings.Cut(pattern, " "); ok && m == method {
		return pattern
	}
	return method + " " + pattern
}

// TrustedPeers returns a function that reports whether a request came straight from an address in one of
// prefixes (the proxy's --trusted-proxy list), for Handler.
func TrustedPeers(prefixes []netip.Prefix) func(*http.Request) bool {
	if len(prefixes) == 0 {
		return nil
	}
	return func(r *http.Request) bool {
		return trusted.Peer(prefixes, r.RemoteAddr)
	}
}

// Transport wraps next (http.DefaultTransport when nil) so that each call is a client span, a child of the
// span in the request's context, named by name (which must give a bounded name, never the raw path or query).
// The call carries the span's trace context in traceparent and tracestate, replacing any the request had, so
// that the peer's traces can join and no caller's trace context passes through unchecked. The span records the
// method, the peer's host and port, and the status: no header, path or query.
func Transport(tp trace.TracerProvider, next http.RoundTripper, name func(*http.Request) string) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{tracer: tp.Tracer(ScopeName), next: next, name: name}
}

type transport struct {
	tracer trace.Tracer
	next   http.RoundTripper
	name   func(*http.Request) string
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", r.Method),
		attribute.String("server.address", r.URL.Hostname()),
	}
	if p, err := strconv.Atoi(r.URL.Port()); err == nil {
		attrs = append(attrs, attribute.Int("server.port", p))
	}
	ctx, span := t.tracer.Start(r.Context(), t.name(r), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attrs...))
	defer span.End()
	out := r.Clone(ctx) // a RoundTripper must not change the request it was given
	out.Header.Del(TraceparentHeader)
	out.Header.Del(TracestateHeader)
	propagator.Inject(ctx, propagation.HeaderCarrier(out.Header))
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		// The error names the method and host at most (url.Error is unwrapped by the client, not here):
		// record only that the call failed, not the text, which may hold the URL with its query.
		span.SetStatus(codes.Error, "the call failed")
		return resp, err
	}
	span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
	}
	return resp, nil
}

// hostOnly is the host part of a Host header value, without the port.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
