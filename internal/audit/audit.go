// Package audit writes security events (sign-ins, refusals, logouts, sessions ended by the provider) as
// structured records of a stable shape on a logger of their own, so that log routers can send them apart.
package audit

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"go.opentelemetry.io/otel/trace"

	"github.com/appidgate/appidgate/internal/logging"
)

// Event names: the "event" attribute of a record. They are part of the documented schema (docs/operations.md):
// add new ones, never rename.
const (
	LoginSucceeded    = "login.succeeded"    // a callback started a session
	LoginFailed       = "login.failed"       // a callback started no session; reason says why
	AccessDenied      = "access.denied"      // a signed-in user (or a verified token) refused by a policy
	Logout            = "logout"             // POST /logout ended the session; logout_scope says how far
	BackchannelLogout = "logout.backchannel" // the provider's logout token ended sessions, or was refused
	SessionRevoked    = "session.revoked"    // the provider refused a session's refresh: the session is over
)

// Outcomes: the "outcome" attribute of a record.
const (
	Success = "success"
	Failure = "failure"
	Denied  = "denied"
)

// LogType is the value of the "log_type" attribute every record carries, by which log routers split them.
const LogType = "audit"

// maxPathLen bounds the path of a record, as the request log line bounds it.
const maxPathLen = 256

// Record is one event: the attributes every record of the event has, beyond those Logger.Write adds (time,
// log_type, client_address, request_id, trace_id, method, path).
type Record struct {
	Event   string
	Outcome string
	UserID  string // the user's opaque id (sub); "" when unknown (it is then left out)
	Reason  string // why a failure or refusal happened, a short stable code; "" for none
	// Attrs are the event's own attributes (policy, credential, logout_scope, ...). Never a token, a cookie, a
	// password or a secret.
	Attrs []slog.Attr
}

// Logger writes audit records. A nil *Logger writes nothing, so that callers need not check.
type Logger struct {
	log *slog.Logger
}

// New returns a Logger writing to log, or nil (no audit events) when log is nil.
func New(log *slog.Logger) *Logger {
	if log == nil {
		return nil
	}
	return &Logger{log: log.With(slog.String("log_type", LogType))}
}

// Write writes rec for the request r at level INFO, with the client's address (see ClientAddresses), the
// request id, the trace id when the request is part of a trace, and the request's method and path (the
// original request's for forward-auth; see WithTarget). It writes nothing for a request marked by Repeated.
func (l *Logger) Write(r *http.Request, rec Record) {
	if l == nil {
		return
	}
	ctx := r.Context()
	v, _ := ctx.Value(requestKey{}).(requestFacts)
	if v.repeated {
		return
	}
	method, path := r.Method, r.URL.Path
	if v.method != "" {
		method, path = v.method, v.path
	}
	if len(path) > maxPathLen {
		path = path[:maxPathLen] + "..."
	}
	attrs := make([]slog.Attr, 0, 10+len(rec.Attrs))
	attrs = append(attrs, slog.String("event", rec.Event), slog.String("outcome", rec.Outcome))
	if rec.UserID != "" {
		attrs = append(attrs, slog.String("user_id", rec.UserID))
	}
	if rec.Reason != "" {
		attrs = append(attrs, slog.String("reason", rec.Reason))
	}
	attrs = append(attrs, slog.String("client_address", ClientAddress(r, v.trusted)))
	if id := logging.RequestID(ctx); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	if id := TraceID(ctx); id != "" {
		attrs = append(attrs, slog.String("trace_id", id))
	}
	attrs = append(attrs, slog.String("method", method), slog.String("path", path))
	attrs = append(attrs, rec.Attrs...)
	l.log.LogAttrs(ctx, slog.LevelInfo, rec.Event, attrs...)
}

// TraceID is the W3C trace id of the span in ctx (the request's span when tracing is on), or "" when ctx holds
// none.
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		return sc.TraceID().String()
	}
	return ""
}

// requestFacts are what the request's context tells Write beyond the request itself.
type requestFacts struct {
	trusted      []netip.Prefix // the proxies whose X-Forwarded-For names the client (see ClientAddresses)
	method, path string         // the original request's, when the request decides another one (forward-auth)
	repeated     bool           // the request repeats a decision already recorded
}

type requestKey struct{}

func facts(r *http.Request) requestFacts {
	v, _ := r.Context().Value(requestKey{}).(requestFacts)
	return v
}

func withFacts(r *http.Request, v requestFacts) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), requestKey{}, v))
}

// WithTarget returns r marked as deciding the request method path (a forward-auth check deciding the front
// proxy's original request): its records name those instead of r's own.
func WithTarget(r *http.Request, method, path string) *http.Request {
	v := facts(r)
	v.method, v.path = method, path
	return withFacts(r, v)
}

// Repeated returns r marked as repeating a decision that another request already recorded (nginx's error_page
// request after its auth_request): its records are not written.
func Repeated(r *http.Request) *http.Request {
	v := facts(r)
	v.repeated = true
	return withFacts(r, v)
}

// peerHost is the host of remoteAddr (host:port), or remoteAddr when it has no port.
func peerHost(remoteAddr string) string {
	if host, _, err := net.SplitHostPort(remoteAddr); err == nil {
		return host
	}
	return remoteAddr
}
