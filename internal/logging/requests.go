package logging

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/appidgate/appidgate/internal/httpwrap"
)

// RequestIDHeader carries the request id in and out; an incoming one is kept when well formed so that a
// request can be followed across a proxy chain.
const RequestIDHeader = "X-Request-Id"

// requestIDKey is the attribute that carries the request id in log lines.
const requestIDKey = "request_id"

// maxPathLen bounds the logged path so that a hostile client cannot blow up log lines.
const maxPathLen = 256

// Requests wraps next so that each request gets a request id (response header X-Request-Id and RequestID on
// the context) and produces exactly one log line when it completes: method, path without the query string
// (queries carry authorization codes and states), status, bytes written, duration, request id and, when known,
// the user id, which inner handlers report with SetUser. Headers, cookies, tokens and query strings are never
// logged.
func Requests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ri := &requestInfo{id: incomingID(r.Header.Get(RequestIDHeader))}
		if ri.id == "" {
			ri.id = newID()
		}
		w.Header().Set(RequestIDHeader, ri.id)
		r = r.WithContext(context.WithValue(r.Context(), infoKey{}, ri))
		rec := httpwrap.Wrap(w)

		defer func() {
			user := ri.userID()
			status := rec.Status()
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", truncate(r.URL.Path, maxPathLen)),
				slog.Int("status", status),
				slog.Int64("bytes", rec.Bytes()),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String(requestIDKey, ri.id),
			}
			if user != "" {
				attrs = append(attrs, slog.String("user", user))
			}
			log.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// incomingID returns s when it is a usable request id: 1 to 64 characters of letters, digits, '-', '_' or
// '.'. Anything else (empty, long, spaces, control characters that could forge log lines) is rejected.
func incomingID(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return ""
		}
	}
	return s
}

// newID returns 16 random bytes in hex.
func newID() string {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	return hex.EncodeToString(b[:])
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
