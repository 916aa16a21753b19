// Package logging builds the process logger and logs one line per HTTP request, never tokens or cookies.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"go.opentelemetry.io/otel/trace"
)

// The attributes that tie a log line to the trace of its request, named as OpenTelemetry's log data model
// names them.
const (
	traceIDKey = "trace_id"
	spanIDKey  = "span_id"
)

// New returns a logger writing to w. format is "json", "text" or "auto" (text when w is a terminal, JSON
// otherwise, so containers get JSON and a developer's shell gets text); level is "debug", "info", "warn" or
// "error". Both are case-insensitive; an empty value means "auto" and "info". Every line logged with the context
// of a request (InfoContext, WarnContext, ...) inside the Requests middleware carries the request's request_id,
// and, when the request's span is recording (traces are exported), its trace_id and span_id.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug":
		lv = slog.LevelDebug
	case "", "info":
		lv = slog.LevelInfo
	case "warn", "warning":
		lv = slog.LevelWarn
	case "error":
		lv = slog.LevelError
	default:
		return nil, fmt.Errorf("logging: unknown log level %q, want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	case "", "auto":
		if isTerminal(w) {
			h = slog.NewTextHandler(w, opts)
		} else {
			h = slog.NewJSONHandler(w, opts)
		}
	default:
		return nil, fmt.Errorf("logging: unknown log format %q, want json, text or auto", format)
	}
	return slog.New(withRequestID(h)), nil
}

// withRequestID wraps h so that a record logged with the context of a request inside the Requests middleware
// carries that request's id as request_id, unless the record names one itself, and the trace_id and span_id of
// the recording span in the context, if any.
func withRequestID(h slog.Handler) slog.Handler { return requestIDHandler{h} }

// requestIDHandler is the handler withRequestID returns.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	cloned := false
	if id := RequestID(ctx); id != "" && !hasAttr(r, requestIDKey) {
		r = r.Clone()
		cloned = true
		r.AddAttrs(slog.String(requestIDKey, id))
	}
	// A span that is recording is being exported: its ids let the line be found from the trace and back.
	if span := trace.SpanFromContext(ctx); span.IsRecording() && !hasAttr(r, traceIDKey) {
		if !cloned {
			r = r.Clone()
		}
		sc := span.SpanContext()
		r.AddAttrs(slog.String(traceIDKey, sc.TraceID().String()), slog.String(spanIDKey, sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// hasAttr reports whether r has a top-level attribute named key.
func hasAttr(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}

// isTerminal reports whether w is a character device such as a terminal. Pipes, files and container log
// drivers are not.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	return st.Mode()&os.ModeCharDevice != 0
}
