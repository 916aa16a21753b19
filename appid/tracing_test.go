package appid

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/appidgate/appidgate/internal/testkit"
	"github.com/appidgate/appidgate/internal/tracing"
)

// TestIntrospectionSpan: a bearer token checked by introspection makes an appid.introspect span around the
// provider call, and neither the token nor the client secret is in any span.
func TestIntrospectionSpan(t *testing.T) {
	t.Parallel()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { tp.Shutdown(context.Background()) })
	clock := testkit.NewClock(time.Now().Truncate(time.Second))
	f := newIntrospectingIssuer(t, nil, true)
	f.answer = func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"active": true, "sub": "u1", "client_id": "app",
			"exp": clock.Now().Add(10 * time.Minute).Unix()})
	}
	key := make([]byte, 32)
	rand.Read(key)
	client := &http.Client{Transport: tracing.Transport(tp, nil, func(r *http.Request) string {
		return r.Method + " " + r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	})}
	a, err := New(t.Context(), Config{Provider: ProviderOIDC, ClientID: "app", ClientSecret: "client-secret-1234",
		OAuthServerURL: f.srv.URL + "/", RedirectURL: "http://127.0.0.1:1/afterauth", SessionKeys: [][]byte{key},
		Now: clock.Now, Logger: slog.New(slog.DiscardHandler), HTTPClient: client, TracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	const token = "opaque-token-5678"
	if got, body := bearerStatus(a, token); got != http.StatusOK {
		t.Fatalf("bearer: %d %s", got, body)
	}
	var introspect, call sdktrace.ReadOnlySpan
	for _, s := range exp.GetSpans().Snapshots() {
		switch s.Name() {
		case spanIntrospect:
			introspect = s
		case "POST introspect":
			call = s
		}
		for _, kv := range s.Attributes() {
			if v := kv.Value.Emit(); strings.Contains(v, token) || strings.Contains(v, "client-secret-1234") {
				t.Errorf("span %s records %s=%s", s.Name(), kv.Key, v)
			}
		}
	}
	if introspect == nil || call == nil || call.Parent().SpanID() != introspect.SpanContext().SpanID() {
		t.Fatalf("want a POST introspect span under %s; spans: %v", spanIntrospect, exp.GetSpans())
	}
}
